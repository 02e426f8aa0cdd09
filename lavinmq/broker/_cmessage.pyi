def encode_records(
    exchange_rk: bytes, contents: list[bytes], timestamp: int = 0
) -> tuple[list[bytes], bool]: ...
def deliver_batch(
    channel: int,
    ctag: bytes,
    first_tag: int,
    records: list[bytes],
    redelivered: list[bool],
    frame_max: int,
) -> bytes: ...
