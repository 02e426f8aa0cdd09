from lavinmq.amqp.events import Body
from lavinmq.broker.message import Record

def encode_records(
    exchange_rk: bytes, contents: list[Body], timestamp: int = 0
) -> tuple[list[Record], bool]: ...
def deliver_batch(
    channel: int,
    ctag: bytes,
    first_tag: int,
    records: list[Record],
    redelivered: list[bool],
    frame_max: int,
) -> bytes: ...
