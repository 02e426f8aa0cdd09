from lavinmq.amqp.connection import AMQPConnection
from lavinmq.amqp.events import Event

def parse_frames(conn: AMQPConnection, data: bytes, events: list[Event], pos: int) -> int: ...
