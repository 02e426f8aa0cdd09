"""Throughput of lavinmq.client against a running broker (a script, not a test).

    LAVINMQ_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f \
        .venv/bin/python tests/client/bench_throughput.py [--count 1000000] [--size 16]

Measures, with 16-byte bodies by default:
  publish       basic_publish() per message, drain() every 1000, until all are in the queue
  publish_many  the publish_many() batch fast path, same accounting
  consume       basic_consume(no_ack=True) draining the queue filled by the publish run
  both          a publisher and a no-ack consumer running at once on two connections

With --fake, the peer is tests/client/fake_broker.py in a subprocess instead (a sink for
publishes, an endless stream of deliveries for the consumer), which measures what the
client itself can do without the broker's limits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import uvloop

from lavinmq.client import Channel, Connection, Message, connect

URL = os.environ.get("LAVINMQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
BATCH = 1000


async def publish(ch: Channel, queue: str, count: int, body: bytes, many: bool) -> None:
    conn = ch.connection
    for _ in range(count // BATCH):
        if many:
            ch.publish_many(body, BATCH, "", queue)
        else:
            for _ in range(BATCH):
                ch.basic_publish(body, "", queue)
        await conn.drain()


async def wait_queue_len(ch: Channel, queue: str, count: int) -> None:
    while (await ch.queue_declare(queue, passive=True))[1] < count:  # noqa: ASYNC110 - polls the broker
        await asyncio.sleep(0.005)


async def consume(ch: Channel, queue: str, count: int, cancel: bool = True) -> None:
    done = asyncio.get_running_loop().create_future()
    seen = 0

    def on_message(msg: Message) -> None:
        nonlocal seen
        seen += 1
        if seen == count and not done.done():
            done.set_result(None)

    tag = await ch.basic_consume(queue, on_message, no_ack=True)
    await done
    if cancel:
        await ch.basic_cancel(tag)


def report(label: str, count: int, started: tuple[float, float]) -> None:
    elapsed = time.perf_counter() - started[0]
    cpu = time.process_time() - started[1]
    print(
        f"{label:<13} {count:>9} msgs in {elapsed:6.2f}s = {count / elapsed:>10,.0f} msgs/s"
        f"  (client CPU {cpu / elapsed:4.0%})"
    )


def now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


async def run(count: int, size: int) -> None:
    body = b"x" * size
    async with connect(URL) as pconn, connect(URL) as cconn:
        pch, cch = await pconn.channel(), await cconn.channel()
        queue, _, _ = await pch.queue_declare("bench-throughput", auto_delete=False)
        await pch.queue_purge(queue)
        for many in (False, True):
            started = now()
            await publish(pch, queue, count, body, many)
            await wait_queue_len(pch, queue, count)
            report("publish_many" if many else "publish", count, started)
            started = now()
            await consume(cch, queue, count)
            report("consume", count, started)
        started = now()
        await asyncio.gather(publish(pch, queue, count, body, False), consume(cch, queue, count))
        report("both", count, started)
        await pch.queue_delete(queue)


async def run_fake(count: int, size: int, port: int) -> None:
    body = b"x" * size
    url = f"amqp://guest:guest@127.0.0.1:{port}/%2f"
    for mode in ("sink", "blast"):
        broker = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).with_name("fake_broker.py")), "--mode", mode,
            "--port", str(port), "--size", str(size),
        )  # fmt: skip
        try:
            conn = await connect_retry(url)
            ch = await conn.channel()
            for many in (False, True) if mode == "sink" else (False,):
                started = now()
                if mode == "sink":
                    await publish(ch, "q", count, body, many)
                else:
                    await consume(ch, "q", count, cancel=False)
                label = "consume" if mode == "blast" else "publish_many" if many else "publish"
                report(f"fake {label}", count, started)
            conn.abort()
        finally:
            broker.terminate()
            await broker.wait()


async def connect_retry(url: str) -> Connection:
    for _ in range(100):
        try:
            return await connect(url)
        except OSError:
            await asyncio.sleep(0.05)
    return await connect(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--fake", action="store_true", help="use fake_broker.py as the peer")
    parser.add_argument("--fake-port", type=int, default=5673)
    args = parser.parse_args()
    if args.fake:
        uvloop.run(run_fake(args.count, args.size, args.fake_port))
    else:
        uvloop.run(run(args.count, args.size))


if __name__ == "__main__":
    main()
