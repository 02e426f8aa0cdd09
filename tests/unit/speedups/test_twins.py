"""The compiled fast paths behave exactly like their pure-Python twins."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lavinmq.amqp import connection as conn_mod
from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.events import Event
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import EMPTY, BasicProperties
from lavinmq.broker import message

cparse = pytest.importorskip("lavinmq.amqp._cparse")
cmessage = pytest.importorskip("lavinmq.broker._cmessage")

PROPS = [
    EMPTY,
    BasicProperties(delivery_mode=2).encode(),
    BasicProperties(content_type="text/plain", headers={"a": 1}).encode(),
    BasicProperties(delivery_mode=1, priority=3).encode(),
]


def _events(
    data: bytes,
    chunks: list[int],
    compiled: bool,
    monkeypatch: pytest.MonkeyPatch,
    frame_max: int = 131072,
    max_body: int = 0,
) -> list[Event]:
    impl = cparse.parse_frames if compiled else AMQPConnection._parse_frames
    monkeypatch.setattr(conn_mod, "_parse_frames", impl)
    conn = AMQPConnection(
        Role.SERVER, frame_max=frame_max, max_body_size=max_body, batch_publishes=True
    )
    out: list[Event] = []
    pos = 0
    for size in chunks:
        out.extend(conn.receive_data(data[pos : pos + size]))
        pos += size
    out.extend(conn.receive_data(data[pos:]))
    return out


publishes = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.sampled_from(["a", "b"]),
        st.integers(0, 3),
        st.binary(max_size=300),
        st.booleans(),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(publishes, st.lists(st.integers(1, 400), max_size=20), st.binary(max_size=20))
def test_parse_frames_twins_agree(
    msgs: list[tuple[int, str, int, bytes, bool]], chunks: list[int], garbage: bytes
) -> None:
    data = PROTOCOL_HEADER
    for channel, rk, props, body, interleave in msgs:
        data += method_frame(channel, spec.BasicPublish(routing_key=rk))
        data += b"".join(content_frames(channel, body, PROPS[props], frame_max=200))
        if interleave:
            data += method_frame(channel, spec.BasicAck(1))
    data += garbage
    with pytest.MonkeyPatch.context() as mp:
        python = _events(data, chunks, False, mp, frame_max=4096, max_body=250)
        compiled = _events(data, chunks, True, mp, frame_max=4096, max_body=250)
    assert repr(compiled) == repr(python)


@given(
    st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=200)), max_size=20),
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_encode_records_twins_agree(items: list[tuple[int, bytes]], ex: str, rk: str) -> None:
    er = message.shortstr(ex) + message.shortstr(rk)
    contents: list[bytes | memoryview] = []
    for props, body in items:
        contents += [PROPS[props], body]
    assert cmessage.encode_records(er, contents, 1234) == message.encode_records_py(
        er, contents, 1234
    )


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.binary(max_size=3000), st.booleans()),
        min_size=1,
        max_size=10,
    ),
    st.integers(1, 65535),
    st.integers(0, 2**40),
    st.sampled_from([4096, 131072]),
)
def test_deliver_batch_twins_agree(
    items: list[tuple[int, bytes, bool]], channel: int, first: int, frame_max: int
) -> None:
    er = message.shortstr("ex") + message.shortstr("rk.key")
    records = [message.encode_record(er, PROPS[p], body, 99) for p, body, _ in items]
    flags = [r for _, _, r in items]
    ctag = message.shortstr("amq.ctag-x")
    assert cmessage.deliver_batch(channel, ctag, first, records, flags, frame_max) == (
        message.deliver_batch_py(channel, ctag, first, records, flags, frame_max)
    )
    # A store's held records are views of their buffers: the same frames.
    views: list[message.Record] = [memoryview(bytearray(r)) for r in records[::2]]
    mixed = [views[i // 2] if i % 2 == 0 else r for i, r in enumerate(records)]
    assert cmessage.deliver_batch(channel, ctag, first, mixed, flags, frame_max) == (
        message.deliver_batch_py(channel, ctag, first, records, flags, frame_max)
    )
