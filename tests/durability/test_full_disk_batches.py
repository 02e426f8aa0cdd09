"""A full disk on the batched publish path: publishes that arrive together in one read
are stored together. When the disk fills up mid-batch, the messages stored before are
acked and the rest nacked, so the queue holds exactly what was acked (a nacked message
in the queue would be a duplicate once the publisher sends it again)."""

from __future__ import annotations

import os

from pamqp import commands, frame, header
from pamqp.body import ContentBody

from tests.durability.test_disk_alarm import filling_disk, ready
from tests.durability.test_disk_alarm import small_fs as small_fs  # the fixture
from tests.integration.helpers import RawClient, pika_connect

BATCH = 8


def send_batch(client: RawClient, bodies: list[bytes]) -> None:
    """Persistent publishes to "full" in one write: the broker takes them as a batch."""
    props = commands.Basic.Properties(delivery_mode=2)
    method = commands.Basic.Publish(exchange="", routing_key="full")
    client.send_bytes(
        b"".join(
            frame.marshal(value, 1)
            for body in bodies
            for value in (method, header.ContentHeader(0, len(body), props), ContentBody(body))
        )
    )


def settle(client: RawClient, upto: int, outcome: dict[int, bool]) -> None:
    """Read acks and nacks (single or multiple) until every tag up to ``upto`` has one."""
    while len(outcome) < upto:
        _, value = client.recv_frame(5)
        if isinstance(value, commands.Basic.Ack | commands.Basic.Nack):
            acked = isinstance(value, commands.Basic.Ack)
            low = min((t for t in range(1, upto + 1) if t not in outcome), default=upto)
            tags = range(low, value.delivery_tag + 1) if value.multiple else [value.delivery_tag]
            outcome.update((tag, acked) for tag in tags if tag not in outcome)


def test_full_disk_acks_what_a_batch_stored_and_nacks_the_rest(small_fs) -> None:  # type: ignore[no-untyped-def]
    with filling_disk(small_fs, "1m") as (broker, admin, client):
        outcome: dict[int, bool] = {}
        stored: list[bytes] = []
        for n in range(200):
            bodies = [b"%03d-%d" % (n, i) + os.urandom(8 * 1024) for i in range(BATCH)]
            send_batch(client, bodies)
            settle(client, (n + 1) * BATCH, outcome)
            batch = [outcome[n * BATCH + i + 1] for i in range(BATCH)]
            k = batch.count(True)
            assert batch == [True] * k + [False] * (BATCH - k), batch
            stored += bodies[:k]
            if k < BATCH:
                break
        assert not all(outcome.values()) and len(stored) > BATCH
        assert ready(broker, "full") == len(stored)
        client.close(graceful=True)
        admin.close()
        broker.restart()
        ch = pika_connect(broker).channel()
        got = [ch.basic_get("full", auto_ack=True)[2] for _ in range(len(stored))]
        assert got == stored and ch.basic_get("full")[0] is None
        ch.connection.close()
    assert not [e for e in broker.errors if "exception" in e]
