"""``AMQPProtocol`` edge cases that real clients rarely produce: frames split at every byte
boundary, pipelined methods in one read, write backpressure, close paths."""

from __future__ import annotations

import threading

from pamqp import commands, header
from pamqp.body import ContentBody

from lavinmq.amqp import spec
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import EMPTY
from lavinmq.broker.broker import Broker
from lavinmq.server.protocol import AMQPProtocol
from lavinmq.server.reading import READ_MAX, READ_SIZE
from tests.protocol.helpers import (
    PROTOCOL_HEADER,
    MockTransport,
    connect,
    handshake_bytes,
    marshal,
    names,
    parse,
    publish,
    settle,
)

# A whole session as one client byte stream: handshake, declare, publish (split content),
# get, ack, consume, cancel, close.
SESSION = (
    handshake_bytes()
    + marshal(
        1,
        commands.Channel.Open(),
        commands.Queue.Declare(queue="split", exclusive=True),
        commands.Queue.Bind(queue="split", exchange="amq.direct", routing_key="k"),
    )
    + marshal(
        1,
        commands.Basic.Publish(exchange="amq.direct", routing_key="k"),
        header.ContentHeader(0, 11, commands.Basic.Properties(message_id="id-1")),
        ContentBody(b"hello "),
        ContentBody(b"world"),
    )
    + marshal(1, commands.Basic.Get(queue="split"))
    + marshal(1, commands.Basic.Ack(delivery_tag=1))
    + publish(1, "split", b"second")
    + marshal(
        1,
        commands.Basic.Get(queue="split", no_ack=True),
        commands.Basic.Get(queue="split"),
        commands.Basic.Consume(queue="split", consumer_tag="ct", no_ack=True),
        commands.Basic.Cancel(consumer_tag="ct"),
        commands.Channel.Close(200, "", 0, 0),
    )
    + marshal(0, commands.Connection.Close(200, "bye", 0, 0))
)
EXPECTED = [
    "Connection.Start",
    "Connection.Tune",
    "Connection.OpenOk",
    "Channel.OpenOk",
    "Queue.DeclareOk",
    "Queue.BindOk",
    "Basic.GetOk",
    "ContentHeader",
    "ContentBody",
    "Basic.GetOk",
    "ContentHeader",
    "ContentBody",
    "Basic.GetEmpty",
    "Basic.ConsumeOk",
    "Basic.CancelOk",
    "Channel.CloseOk",
    "Connection.CloseOk",
]


async def _run_session(core: Broker, chunks: list[bytes]) -> tuple[list[str], bytes]:
    proto = AMQPProtocol(core)
    transport = MockTransport()
    proto.connection_made(transport)  # type: ignore[arg-type]
    for chunk in chunks:
        proto.data_received(chunk)
        await settle(1)
    await settle()
    assert transport.closed
    proto.connection_lost(None)
    output = transport.take()
    return names(parse(output)), output


async def test_session_in_one_read(core: Broker) -> None:
    got, output = await _run_session(core, [SESSION])
    assert got == EXPECTED
    frames = parse(output)
    bodies = [v.value for _, v in frames if isinstance(v, ContentBody)]
    assert bodies == [b"hello world", b"second"]


async def test_frames_split_at_every_byte_boundary(core: Broker) -> None:
    _, reference = await _run_session(core, [SESSION])
    for i in range(1, len(SESSION)):
        got, output = await _run_session(core, [SESSION[:i], SESSION[i:]])
        assert got == EXPECTED, f"split at {i}"
        assert output == reference, f"split at {i}"


async def test_one_byte_at_a_time(core: Broker) -> None:
    _, reference = await _run_session(core, [SESSION])
    got, output = await _run_session(core, [bytes((b,)) for b in SESSION])
    assert got == EXPECTED
    assert output == reference


async def test_three_way_splits_inside_content(core: Broker) -> None:
    """Split the stream in three around the content frames, at every pair of offsets."""
    start = SESSION.index(b"hello ") - 40
    end = SESSION.index(b"world") + 10
    _, reference = await _run_session(core, [SESSION])
    for i in range(start, end, 3):
        for j in range(i + 1, end, 5):
            _, output = await _run_session(core, [SESSION[:i], SESSION[i:j], SESSION[j:]])
            assert output == reference, (i, j)


async def test_pipelined_methods_answered_in_order_with_one_write(core: Broker) -> None:
    proto, transport = await connect(core)
    writes_before = transport.writes
    data = marshal(1, *[commands.Queue.Declare(queue=f"q{i}", auto_delete=True) for i in range(50)])
    data += b"".join(publish(1, f"q{i}", str(i).encode()) for i in range(50))
    data += marshal(1, *[commands.Basic.Get(queue=f"q{i}", no_ack=True) for i in range(50)])
    proto.data_received(data)
    await settle()
    frames = parse(transport.take())
    assert transport.writes == writes_before + 1, "one writelines for the whole read"
    declares = [v.queue for _, v in frames if isinstance(v, commands.Queue.DeclareOk)]
    assert declares == [f"q{i}" for i in range(50)]
    bodies = [v.value for _, v in frames if isinstance(v, ContentBody)]
    assert bodies == [str(i).encode() for i in range(50)]


async def test_pipelined_publishes_confirmed_with_one_ack(core: Broker) -> None:
    proto, transport = await connect(core)
    proto.data_received(
        marshal(
            1,
            commands.Confirm.Select(nowait=True),
            commands.Queue.Declare(queue="c", auto_delete=True),
        )
    )
    await settle()
    transport.take()
    proto.data_received(b"".join(publish(1, "c", b"x") for _ in range(100)))
    await settle()
    acks = [v for _, v in parse(transport.take()) if isinstance(v, commands.Basic.Ack)]
    assert [(a.delivery_tag, a.multiple) for a in acks] == [(100, True)]


async def test_pause_writing_stops_deliveries_resume_restarts(core: Broker) -> None:
    consumer, ctransport = await connect(core)
    consumer.data_received(
        marshal(
            1, commands.Queue.Declare(queue="bp"), commands.Basic.Consume(queue="bp", no_ack=True)
        )
    )
    await settle()
    ctransport.take()
    producer, _ = await connect(core)
    consumer.pause_writing()
    producer.data_received(b"".join(publish(1, "bp", str(i).encode()) for i in range(20)))
    await settle(10)
    assert ctransport.take() == b"", "nothing is delivered while the socket is full"
    assert core.vhosts["/"].queues["bp"].message_count == 20
    consumer.resume_writing()
    await settle(10)
    bodies = [v.value for _, v in parse(ctransport.take()) if isinstance(v, ContentBody)]
    assert bodies == [str(i).encode() for i in range(20)]
    assert core.vhosts["/"].queues["bp"].message_count == 0


async def test_pause_writing_with_two_consumers_only_blocks_one(core: Broker) -> None:
    slow, slow_t = await connect(core)
    fast, fast_t = await connect(core)
    for proto in (slow, fast):
        proto.data_received(
            marshal(
                1,
                commands.Queue.Declare(queue="two"),
                commands.Basic.Consume(queue="two", no_ack=True),
            )
        )
    await settle()
    slow_t.take()
    fast_t.take()
    slow.pause_writing()
    fast.data_received(b"".join(publish(1, "two", b"m") for _ in range(10)))
    await settle(10)
    assert slow_t.take() == b""
    delivered = [v for _, v in parse(fast_t.take()) if isinstance(v, commands.Basic.Deliver)]
    assert len(delivered) == 10


async def test_deliveries_split_at_negotiated_frame_max(core: Broker) -> None:
    proto, transport = await connect(core, frame_max=4096)
    body = bytes(range(256)) * 100
    proto.data_received(marshal(1, commands.Queue.Declare(queue="fm", exclusive=True)))
    proto.data_received(
        marshal(
            1,
            commands.Basic.Publish(routing_key="fm"),
            header.ContentHeader(0, len(body), commands.Basic.Properties()),
            *[ContentBody(body[i : i + 4088]) for i in range(0, len(body), 4088)],
        )
    )
    proto.data_received(marshal(1, commands.Basic.Get(queue="fm", no_ack=True)))
    await settle()
    frames = parse(transport.take())
    parts = [v.value for _, v in frames if isinstance(v, ContentBody)]
    assert b"".join(parts) == body
    assert all(len(p) <= 4096 - 8 for p in parts)


async def test_bad_protocol_header(core: Broker) -> None:
    proto = AMQPProtocol(core)
    transport = MockTransport()
    proto.connection_made(transport)  # type: ignore[arg-type]
    proto.data_received(b"AMQP\x00\x00\x08\x00")
    assert transport.take() == PROTOCOL_HEADER
    assert transport.closed


async def test_hard_error_half_closes(core: Broker) -> None:
    proto, transport = await connect(core)
    proto.data_received(b"\x05\x00\x01\x00\x00\x00\x01x\xce")  # unknown frame type
    await settle()
    frames = parse(transport.take())
    assert names(frames) == ["Connection.Close"]
    assert frames[0][1].reply_code == 501
    assert transport.eof_written, "the peer is told at once that nothing more comes"
    proto.data_received(marshal(0, commands.Connection.CloseOk()))  # unparseable now
    proto.connection_lost(None)
    assert not core.connections


async def test_close_ok_after_channel_level_hard_error_closes(core: Broker) -> None:
    proto, transport = await connect(core)
    proto.data_received(marshal(1, commands.Exchange.Declare(exchange="x", exchange_type="?")))
    await settle()
    close = parse(transport.take())[0][1]
    assert close.reply_code == 503
    assert not transport.closed and not transport.eof_written
    proto.data_received(marshal(1, commands.Queue.Declare(queue="ignored")))
    proto.data_received(marshal(0, commands.Connection.CloseOk()))
    await settle()
    assert transport.take() == b"", "frames after our Close are ignored"
    assert transport.closed


async def test_connection_lost_mid_content_cleans_up(core: Broker) -> None:
    proto, _transport = await connect(core)
    proto.data_received(
        marshal(1, commands.Queue.Declare(queue="mid"), commands.Basic.Get(queue="mid"))
    )
    data = publish(1, "mid", b"0123456789")
    proto.data_received(data[:-5])
    proto.connection_lost(ConnectionResetError())
    await settle()
    assert core.vhosts["/"].queues["mid"].message_count == 0
    assert not core.connections


async def test_connection_lost_requeues_unacked(core: Broker) -> None:
    proto, _transport = await connect(core)
    proto.data_received(marshal(1, commands.Queue.Declare(queue="rq")))
    proto.data_received(b"".join(publish(1, "rq", str(i).encode()) for i in range(3)))
    proto.data_received(marshal(1, commands.Basic.Consume(queue="rq")))
    await settle()
    q = core.vhosts["/"].queues["rq"]
    assert (q.message_count, q.unacked) == (0, 3)
    proto.connection_lost(None)
    await settle()
    assert (q.message_count, q.unacked) == (3, 0)


async def test_data_after_connection_lost_is_ignored(core: Broker) -> None:
    proto, transport = await connect(core)
    proto.connection_lost(None)
    proto.data_received(marshal(1, commands.Queue.Declare(queue="late")))
    await settle()
    assert "late" not in core.vhosts["/"].queues
    assert transport.take() == b""


async def test_frames_for_closing_channel_dropped(core: Broker) -> None:
    proto, transport = await connect(core, channels=(1, 2))
    proto.data_received(
        marshal(1, commands.Basic.Ack(delivery_tag=9))
        + publish(1, "nowhere", b"dropped")
        + marshal(1, commands.Queue.Declare(queue="dropped"))
        + marshal(2, commands.Queue.Declare(queue="kept"))
    )
    await settle()
    got = names(parse(transport.take()))
    assert got == ["Channel.Close", "Queue.DeclareOk"]
    assert "dropped" not in core.vhosts["/"].queues
    proto.data_received(marshal(1, commands.Channel.CloseOk(), commands.Channel.Open()))
    await settle()
    assert names(parse(transport.take())) == ["Channel.OpenOk"]


async def test_server_shutdown_sends_connection_forced(core: Broker) -> None:
    _proto, transport = await connect(core)
    core.close()
    frames = parse(transport.take())
    assert frames[0][1].reply_code == 320


# -- buffered reads (server.reading) ----------------------------------------------------------


def _read(proto: AMQPProtocol, data: bytes) -> int:
    """Feed ``data`` the way the loop does for a BufferedProtocol; return the read sizes."""
    biggest = 0
    while data:
        with memoryview(proto.get_buffer(-1)) as buf:  # released before the update, as uvloop
            n = min(len(buf), len(data))
            biggest = max(biggest, len(buf))
            buf[:n] = data[:n]
        proto.buffer_updated(n)
        data = data[n:]
    return biggest


async def test_reads_grow_while_large_bodies_come_and_bodies_arrive_intact(core: Broker) -> None:
    proto, transport = await connect(core)
    _read(proto, marshal(1, commands.Queue.Declare(queue="big")))
    small = publish(1, "big", b"x" * 100)
    large = method_frame(1, spec.BasicPublish(0, "", "big", False, False)) + b"".join(
        content_frames(1, bytes(range(256)) * 4096, EMPTY, 131072)  # 1 MiB, 8 frames
    )
    assert _read(proto, small * 10) == READ_SIZE
    assert _read(proto, large + large) == READ_MAX
    assert _read(proto, small) == READ_MAX  # the read after a large body: still large
    assert _read(proto, small) == READ_SIZE
    await settle()
    assert core.vhosts["/"].queues["big"].message_count == 14
    transport.take()
    _read(proto, marshal(1, commands.Basic.Get(queue="big", no_ack=True)) * 14)
    await settle()
    bodies = [v.value for _, v in parse(transport.take()) if isinstance(v, ContentBody)]
    got = b"".join(bodies)
    assert got == b"x" * 1000 + bytes(range(256)) * 8192 + b"x" * 200


def test_each_thread_reads_into_its_own_buffer() -> None:
    # Two brokers in one process (tests, federation) run two loops in two threads: a
    # shared read buffer was overwritten by the other loop mid-read and lost messages.
    from lavinmq.server import reading

    other: list[tuple[object, memoryview]] = []
    thread = threading.Thread(
        target=lambda: other.append((reading._buffers.large, reading._buffers.small))
    )
    thread.start()
    thread.join()
    mine = reading._buffers.large, reading._buffers.small
    assert other and other[0][0] is not mine[0] and other[0][1].obj is not mine[1].obj
    with memoryview(mine[0]) as large:
        assert len(large) == READ_MAX and len(mine[1]) == READ_SIZE


async def test_a_large_record_held_for_delivery_then_small_ones_in_the_same_read(
    core: Broker,
) -> None:
    # The large one is delivered from memory (the store holds it: a view); the small ones
    # published right after it end up in the same delivery run, framed by the compiled
    # path, which must take the view too.
    proto, transport = await connect(core)
    _read(proto, marshal(1, commands.Queue.Declare(queue="mixed")))
    _read(proto, marshal(1, commands.Basic.Consume(queue="mixed", no_ack=True)))
    await settle()
    transport.take()
    large = method_frame(1, spec.BasicPublish(0, "", "mixed", False, False)) + b"".join(
        content_frames(1, bytes(range(256)) * 1024, EMPTY, 131072)  # 256 KiB
    )
    _read(proto, marshal(2, commands.Channel.Open()))
    await settle()
    transport.take()
    # Another channel: the small ones are another publish batch, so the large one is last
    # in its own and held.
    _read(proto, large + publish(2, "mixed", b"s1") + publish(2, "mixed", b"s2"))
    await settle()
    frames = parse(transport.take())
    bodies = b"".join(v.value for _, v in frames if isinstance(v, ContentBody))
    assert names(frames).count("Basic.Deliver") == 3
    assert bodies == bytes(range(256)) * 1024 + b"s1s2"
    assert not proto.closed
