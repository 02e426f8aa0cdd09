"""Large bodies assembled in a RecordBuffer with room in front (``amqp.large_body``):
the same events as the frame-list path, whatever the reads, and the buffer's rules."""

from __future__ import annotations

import pytest

from lavinmq.amqp import large_body, spec
from lavinmq.amqp.connection import AMQPConnection, FrameRejected, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.events import ContentReceived, Event, PublishBatch
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.large_body import HEADROOM, RecordBuffer
from lavinmq.amqp.properties import EMPTY, BasicProperties
from tests.unit.amqp.helpers import feed, random_chunks

FRAME_MAX = 131072
LARGE_MIN = 65536
PROPS = BasicProperties(content_type="application/octet-stream", headers={"k": "v"}).encode()


def large_server(*, batch: bool = True) -> AMQPConnection:
    conn = AMQPConnection(
        Role.SERVER, frame_max=FRAME_MAX, batch_publishes=batch, large_min=LARGE_MIN
    )
    conn.receive_data(PROTOCOL_HEADER)
    return conn


def publish(channel: int, body: bytes, props: bytes = PROPS, key: str = "q") -> bytes:
    frames = [method_frame(channel, spec.BasicPublish(0, "", key, False, False))]
    frames.extend(content_frames(channel, body, props, FRAME_MAX))
    return b"".join(frames)


def body_of(i: int, size: int) -> bytes:
    return bytes((i + j) % 251 for j in range(256)) * (size // 256) + bytes(size % 256)


def bodies(events: list[Event]) -> list[bytes | memoryview]:
    out: list[bytes | memoryview] = []
    for event in events:
        if isinstance(event, PublishBatch):
            out.extend(event.contents[1::2])
        elif isinstance(event, ContentReceived):
            out.append(event.body)
    return out


SIZES = [1_048_576, 16, 300_000, 65_535, 65_536, 131_064, 131_065, 0, 70_001]
STREAM = b"".join(publish(1, body_of(i, size)) for i, size in enumerate(SIZES))
EXPECTED = [body_of(i, size) for i, size in enumerate(SIZES)]


def test_large_bodies_are_views_of_record_buffers_with_headroom() -> None:
    got = bodies(large_server().receive_data(STREAM))
    assert [bytes(b) for b in got] == EXPECTED
    for body, size in zip(got, SIZES, strict=True):
        if size >= LARGE_MIN:
            assert isinstance(body, memoryview) and type(body.obj) is RecordBuffer
            assert len(body.obj) - len(body) == HEADROOM + len(PROPS)  # runs to the end
        else:
            assert type(body) is bytes


@pytest.mark.parametrize("read_size", [7, 8, 4096, 65_536, 131_072, 262_144, 2_097_152])
def test_any_reads_give_the_same_bodies(read_size: int) -> None:
    chunks = [STREAM[i : i + read_size] for i in range(0, len(STREAM), read_size)]
    assert [bytes(b) for b in bodies(feed(large_server(), chunks))] == EXPECTED


@pytest.mark.parametrize("seed", range(4))
def test_random_reads_give_the_same_events_as_the_frame_list_path(seed: int) -> None:
    chunks = random_chunks(STREAM, seed, max_size=150_000)
    plain = AMQPConnection(Role.SERVER, frame_max=FRAME_MAX, batch_publishes=True)
    plain.receive_data(PROTOCOL_HEADER)
    assert feed(large_server(), chunks) == feed(plain, chunks)


def test_content_events_outside_batching_too() -> None:
    body = body_of(3, 200_000)
    events = large_server(batch=False).receive_data(publish(2, body))
    assert len(events) == 1 and isinstance(events[0], ContentReceived)
    assert events[0].body == body and events[0].properties == PROPS


def test_one_buffer_per_connection_interleaved_channels_use_the_frame_list() -> None:
    a, b = body_of(1, 200_000), body_of(2, 150_000)
    fa, fb = publish(1, a), publish(2, b)
    # channel 1's method, header and first body frame; then all of channel 2; then the rest
    first = len(method_frame(1, spec.BasicPublish(0, "", "q", False, False)))
    first += len(content_frames(1, a, PROPS, FRAME_MAX)[0]) + 7 + FRAME_MAX - 8 + 1
    conn = large_server()
    events = conn.receive_data(fa[:first]) + conn.receive_data(fb) + conn.receive_data(fa[first:])
    got = bodies(events)
    assert [bytes(x) for x in got] == [b, a]
    assert type(got[0]) is bytes  # channel 1 held the buffer: channel 2 joined its frames
    assert isinstance(got[1], memoryview)


def test_large_reads_while_a_body_comes_and_after_the_read_that_ends_it() -> None:
    data = publish(1, body_of(0, 300_000))
    conn = large_server()
    assert not conn.large_reads
    conn.receive_data(data[:200_000])
    assert conn.large_reads
    conn.receive_data(data[200_000:])
    assert conn.large_reads  # the last read completed one: more are likely
    conn.receive_data(publish(1, b"small", EMPTY))
    assert not conn.large_reads


def test_bodies_over_the_limit_are_joined_from_their_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(large_body, "LARGE_MAX", 100_000)
    body = body_of(5, 200_000)
    (got,) = bodies(large_server().receive_data(publish(1, body)))
    assert type(got) is bytes and got == body


def test_a_discarded_channel_frees_the_buffer() -> None:
    conn = large_server()
    dropped = publish(1, body_of(0, 300_000))
    conn.receive_data(dropped[:150_000])
    conn.discard_channel(1)  # the server closed channel 1: its frames are dropped
    body = body_of(1, 100_000)
    (got,) = bodies(conn.receive_data(dropped[150_000:] + publish(2, body)))
    assert isinstance(got, memoryview) and got == body


def test_client_codecs_and_small_bodies_keep_bytes() -> None:
    client = AMQPConnection(Role.CLIENT, frame_max=FRAME_MAX)
    assert not client.large_reads
    plain = AMQPConnection(Role.SERVER, frame_max=FRAME_MAX, batch_publishes=True)
    plain.receive_data(PROTOCOL_HEADER)
    assert all(type(b) is bytes for b in bodies(plain.receive_data(STREAM)))


def test_a_body_frame_past_the_announced_size_is_still_rejected() -> None:
    body = body_of(0, 100_000)
    method = method_frame(1, spec.BasicPublish(0, "", "q", False, False))
    header = content_frames(1, body[:90_000], PROPS, FRAME_MAX)[0]  # announces 90,000
    too_long = content_frames(1, body, PROPS, FRAME_MAX)[1]  # one 100,000-byte frame
    events = large_server().receive_data(method + header + too_long)
    assert isinstance(events[-1], FrameRejected)
    assert "exceeds" in events[-1].error.text
