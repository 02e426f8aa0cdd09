"""Shared helpers for the codec tests (in the spirit of h11's ``tests/helpers.py``).

``ConnectionPair`` joins a CLIENT and a SERVER :class:`AMQPConnection` over a fake link:
whatever one side sends is fed to the other, and the tests compare the events that come
out with what went in.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, FrameRejected, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.errors import AMQPError
from lavinmq.amqp.events import ContentReceived, Event, MethodReceived, ProtocolHeaderReceived
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import EMPTY

ROOT = Path(__file__).resolve().parents[3]
SPEC_JSON = ROOT / "tools" / "amqp-rabbitmq-0.9.1.json"
ALL_METHODS: list[type[spec.Method]] = list(spec.METHODS.values())


def _arg_kinds() -> dict[type[spec.Method], list[tuple[str, str]]]:
    """(attribute, AMQP type) of every method argument, read straight from the JSON spec.

    This is independent of the generator, so a generator bug can't hide itself here.
    """
    data = json.loads(SPEC_JSON.read_text())
    domains = dict(data["domains"])
    out: dict[type[spec.Method], list[tuple[str, str]]] = {}
    for cls_def in data["classes"]:
        for m in cls_def["methods"]:
            index = (cls_def["id"] << 16) | m["id"]
            args = []
            for a in m["arguments"]:
                kind = a.get("type") or domains[a["domain"]]
                name = a["name"].replace("-", "_")
                args.append((name + "_" if name == "global" else name, kind))
            out[spec.METHODS[index]] = args
    return out


ARG_KINDS = _arg_kinds()


@dataclasses.dataclass(frozen=True)
class Field:
    """A method argument: its attribute name and Python type name ("int", "bytes"...)."""

    name: str
    type: str


def fields(method: spec.Method | type[spec.Method]) -> tuple[Field, ...]:
    """The arguments of a method, in wire order (from the generated ``FIELDS``)."""
    return tuple(Field(name, kind) for name, kind in method.FIELDS)


def channel_for(cls: type[spec.Method], channel: int = 1) -> int:
    """The channel a method travels on: 0 for the connection class."""
    return 0 if cls.CLASS_ID == 10 else channel


def sent_by(role: Role) -> list[type[spec.Method]]:
    """The methods a peer playing ``role`` may send."""
    if role is Role.CLIENT:
        return [m for m in ALL_METHODS if m.FROM_CLIENT]
    return [m for m in ALL_METHODS if m.FROM_SERVER]


def receiver(sender: Role) -> Role:
    return Role.SERVER if sender is Role.CLIENT else Role.CLIENT


def encode(
    channel: int,
    method: spec.Method,
    properties: bytes = EMPTY,
    body: bytes = b"",
    frame_max: int = 131072,
) -> bytes:
    """A method frame, plus its header and body frames when the method carries content."""
    data = method_frame(channel, method)
    if method.CONTENT:
        data += b"".join(content_frames(channel, body, properties, frame_max))
    return data


def expected(
    channel: int, method: spec.Method, properties: bytes = EMPTY, body: bytes = b""
) -> Event:
    """The event a receiver must produce for :func:`encode`'s output."""
    if method.CONTENT:
        return ContentReceived(channel, method, properties, body)
    return MethodReceived(channel, method)


def server(frame_max: int = 131072, max_body_size: int = 0) -> AMQPConnection:
    """A server-role codec that already got the protocol header."""
    conn = AMQPConnection(Role.SERVER, frame_max=frame_max, max_body_size=max_body_size)
    assert conn.receive_data(PROTOCOL_HEADER) == [ProtocolHeaderReceived()]
    return conn


def codec(role: Role, frame_max: int = 131072, max_body_size: int = 0) -> AMQPConnection:
    """A codec of ``role`` ready for frames (the server already saw the protocol header)."""
    if role is Role.SERVER:
        return server(frame_max, max_body_size)
    return AMQPConnection(Role.CLIENT, frame_max=frame_max, max_body_size=max_body_size)


def split(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given offsets (out-of-range and duplicate cuts are ignored)."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def random_chunks(data: bytes, seed: int, max_size: int = 64) -> list[bytes]:
    rng = random.Random(seed)
    chunks, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, max_size)
        chunks.append(data[pos : pos + size])
        pos += size
    return chunks


def byte_by_byte(data: bytes) -> Iterator[bytes]:
    return (data[i : i + 1] for i in range(len(data)))


def feed(conn: AMQPConnection, chunks: Iterable[bytes]) -> list[Event]:
    """Feed chunks one ``receive_data`` call each; return all events in order."""
    events: list[Event] = []
    for chunk in chunks:
        events.extend(conn.receive_data(chunk))
    return events


def normalize(events: list[Event]) -> list[Any]:
    """Events made comparable: exceptions don't compare by value, so flatten rejections."""
    return [_norm(e) for e in events]


def _norm(event: Event) -> Any:
    if isinstance(event, FrameRejected):
        return ("rejected", event.channel, rejection(event.error))
    return event


def rejection(error: AMQPError) -> tuple[type[AMQPError], int, int, str]:
    return (type(error), error.class_id, error.method_id, error.text)


class ConnectionPair:
    """A CLIENT and a SERVER codec joined by a fake link.

    ``send(role, ...)`` encodes what ``role`` sends, feeds it to the other side, and
    returns that side's events.
    """

    def __init__(self, frame_max: int = 131072, max_body_size: int = 0) -> None:
        self.frame_max = frame_max
        self.conn = {
            Role.CLIENT: AMQPConnection(Role.CLIENT, frame_max, max_body_size),
            Role.SERVER: AMQPConnection(Role.SERVER, frame_max, max_body_size),
        }
        assert self.conn[Role.SERVER].receive_data(PROTOCOL_HEADER) == [ProtocolHeaderReceived()]

    def send(
        self,
        role: Role,
        channel: int,
        method: spec.Method,
        properties: bytes = EMPTY,
        body: bytes = b"",
    ) -> list[Event]:
        data = encode(channel, method, properties, body, self.frame_max)
        return self.conn[receiver(role)].receive_data(data)

    def round_trip(
        self,
        role: Role,
        channel: int,
        method: spec.Method,
        properties: bytes = EMPTY,
        body: bytes = b"",
    ) -> None:
        """Send and assert the peer got exactly that message back."""
        events = self.send(role, channel, method, properties, body)
        assert events == [expected(channel, method, properties, body)]
