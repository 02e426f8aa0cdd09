"""PublishBatch coalescing in the server-role codec (batch_publishes=True)."""

from __future__ import annotations

from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.events import Event, MethodReceived, PublishBatch
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import EMPTY, BasicProperties

PROPS = BasicProperties(delivery_mode=2).encode()


def publish(channel: int, rk: str, body: bytes, props: bytes = EMPTY) -> bytes:
    return method_frame(channel, spec.BasicPublish(routing_key=rk)) + b"".join(
        content_frames(channel, body, props, frame_max=4096)
    )


def server() -> AMQPConnection:
    conn = AMQPConnection(Role.SERVER, batch_publishes=True)
    conn.receive_data(PROTOCOL_HEADER)
    return conn


def flatten(events: list[Event]) -> list[tuple[int, str, bytes, bytes]]:
    out = []
    for ev in events:
        assert isinstance(ev, PublishBatch)
        assert isinstance(ev.method, spec.BasicPublish)
        for i in range(0, len(ev.contents), 2):
            out.append((ev.channel, ev.method.routing_key, ev.contents[i], ev.contents[i + 1]))
    return out


def test_same_arguments_coalesce_into_one_batch() -> None:
    events = server().receive_data(b"".join(publish(1, "q", b"m%d" % i, PROPS) for i in range(3)))
    assert len(events) == 1
    batch = events[0]
    assert isinstance(batch, PublishBatch)
    assert batch.channel == 1
    assert batch.contents == [PROPS, b"m0", PROPS, b"m1", PROPS, b"m2"]


def test_routing_key_channel_and_other_methods_split_batches() -> None:
    data = (
        publish(1, "a", b"1")
        + publish(1, "a", b"2")
        + publish(1, "b", b"3")
        + publish(2, "b", b"4")
        + method_frame(2, spec.BasicQos(prefetch_count=1))
        + publish(2, "b", b"5")
    )
    events = server().receive_data(data)
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "PublishBatch",
        "PublishBatch",
        "PublishBatch",
        "MethodReceived",
        "PublishBatch",
    ]
    assert isinstance(events[3], MethodReceived)
    assert flatten([e for e in events if isinstance(e, PublishBatch)]) == [
        (1, "a", EMPTY, b"1"),
        (1, "a", EMPTY, b"2"),
        (1, "b", EMPTY, b"3"),
        (2, "b", EMPTY, b"4"),
        (2, "b", EMPTY, b"5"),
    ]


def test_byte_by_byte_feeding_yields_the_same_messages() -> None:
    data = b"".join(publish(1, "q", bytes([i]) * (i * 50), PROPS) for i in range(1, 20))
    whole = flatten(server().receive_data(data))
    conn = server()
    pieces: list[Event] = []
    for i in range(len(data)):
        pieces.extend(conn.receive_data(data[i : i + 1]))
    assert flatten(pieces) == whole
    assert len(whole) == 19


def test_client_role_and_default_server_are_not_batched() -> None:
    conn = AMQPConnection(Role.SERVER)
    conn.receive_data(PROTOCOL_HEADER)
    events = conn.receive_data(publish(1, "q", b"x") * 2)
    assert [type(e).__name__ for e in events] == ["ContentReceived", "ContentReceived"]
