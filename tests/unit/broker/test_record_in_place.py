"""Records built around a body received into a RecordBuffer (``message.record_in_place``):
byte for byte the record ``encode_record`` joins, with the body left where it was."""

from __future__ import annotations

import pytest

from lavinmq.amqp.large_body import HEADROOM, new_buffer
from lavinmq.amqp.properties import EMPTY, BasicProperties
from lavinmq.broker import message

ER = message.shortstr("amq.direct") + message.shortstr("some.key")
PROPS = [EMPTY, BasicProperties(delivery_mode=2, headers={"h": "x" * 300}).encode()]


def received(body: bytes, props: bytes) -> memoryview:
    """A body as the codec hands it over: the tail of a RecordBuffer."""
    headroom = HEADROOM + len(props)
    buf = new_buffer(headroom, len(body))
    buf[headroom:] = body
    return memoryview(buf)[headroom:]


@pytest.mark.parametrize("props", PROPS)
def test_in_place_record_equals_the_joined_one(props: bytes) -> None:
    body = bytes(range(256)) * 400
    view = received(body, props)
    record = message.encode_record(ER, props, view, 1234)
    assert isinstance(record, memoryview) and record.obj is view.obj  # no copy
    assert bytes(record) == message.encode_record(ER, props, body, 1234)
    assert view == body  # the body was not touched


def test_longest_exchange_and_routing_key_fit_the_headroom() -> None:
    er = message.shortstr("e" * 255) + message.shortstr("k" * 255)
    view = received(b"b" * 70_000, PROPS[1])
    record = message.encode_record(er, PROPS[1], view, 1)
    assert isinstance(record, memoryview)
    assert bytes(record) == message.encode_record(er, PROPS[1], b"b" * 70_000, 1)


def test_other_views_are_joined() -> None:
    body = b"x" * 100
    for view in (memoryview(body), memoryview(bytearray(body))[10:], received(body, EMPTY)[:50]):
        record = message.encode_record(ER, EMPTY, view, 7)
        assert type(record) is bytes
        assert record == message.encode_record(ER, EMPTY, bytes(view), 7)


def test_a_slice_of_the_body_is_not_written_around() -> None:
    view = received(b"y" * 60, EMPTY)
    for part in (view[:50], view[10:], view[5:55]):
        assert message.record_in_place(b"\x00" * 8 + ER, EMPTY, part) is None
    assert view == b"y" * 60


def test_encode_records_twins_agree_on_mixed_bodies() -> None:
    cmessage = pytest.importorskip("lavinmq.broker._cmessage")
    bodies = [b"small", b"z" * 70_000, b"", b"w" * 100_000]
    contents_py: list[bytes | memoryview] = []
    contents_c: list[bytes | memoryview] = []
    for i, body in enumerate(bodies):
        props = PROPS[i % 2]
        contents_py += [props, received(body, props) if len(body) > 1000 else body]
        contents_c += [props, received(body, props) if len(body) > 1000 else body]
    py, py_persistent = message.encode_records_py(ER, contents_py, 55)
    c, c_persistent = cmessage.encode_records(ER, contents_c, 55)
    assert [bytes(r) for r in py] == [bytes(r) for r in c]
    assert py_persistent and c_persistent
    joined = [message.encode_record(ER, PROPS[i % 2], b, 55) for i, b in enumerate(bodies)]
    assert [bytes(r) for r in py] == joined
    assert [type(r) for r in c] == [bytes, memoryview, bytes, memoryview]
