"""Frames cut by reads: only the cut frame is joined, the rest is parsed in place
(AMQPConnection._finish_partial); every cut must give the events of one whole read."""

from __future__ import annotations

import pytest

from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import EMPTY
from tests.unit.amqp.helpers import feed, normalize, random_chunks, server, split

FRAME_MAX = 131072


def publishes(sizes: list[int]) -> bytes:
    out = []
    for i, size in enumerate(sizes):
        out.append(method_frame(1, spec.BasicPublish(0, "", f"q{i % 3}", False, False)))
        body = bytes([i % 251]) * size
        out.extend(content_frames(1, body, EMPTY, FRAME_MAX))
    out.append(b"\x08\x00\x00\x00\x00\x00\x00\xce")  # a heartbeat: an 8-byte frame
    return b"".join(out)


STREAM = publishes([1_048_576, 16, 300_000, 0, 16_384, 131_064, 131_065, 5])


def whole() -> list[object]:
    return normalize(server(FRAME_MAX).receive_data(STREAM))


@pytest.mark.parametrize("read_size", [7, 8, 9, 4096, 65_536, 131_071, 131_072, 262_144, 300_001])
def test_fixed_size_reads(read_size: int) -> None:
    chunks = [STREAM[i : i + read_size] for i in range(0, len(STREAM), read_size)]
    assert normalize(feed(server(FRAME_MAX), chunks)) == whole()


@pytest.mark.parametrize("seed", range(6))
def test_random_reads(seed: int) -> None:
    chunks = random_chunks(STREAM, seed, max_size=200_000)
    assert normalize(feed(server(FRAME_MAX), chunks)) == whole()


def test_cut_inside_a_frame_header_then_a_frame() -> None:
    # 3 bytes of a 7-byte frame header, then the rest of the stream in one read.
    first_frame = len(method_frame(1, spec.BasicPublish(0, "", "q0", False, False)))
    chunks = split(STREAM, [first_frame + 3])
    assert normalize(feed(server(FRAME_MAX), chunks)) == whole()


def test_protocol_header_cut_then_frames() -> None:
    conn = AMQPConnection(Role.SERVER, frame_max=FRAME_MAX)
    data = PROTOCOL_HEADER + STREAM
    events = feed(conn, [data[:5], data[5:11], data[11:]])
    assert normalize(events[1:]) == whole()
