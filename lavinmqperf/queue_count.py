"""queue-count: declare many queues, report the tool's memory, repeat on Enter."""

from __future__ import annotations

import secrets
import sys
from typing import TextIO

from lavinmq.amqp.frames import method_frame
from lavinmq.amqp.spec import QueueDeclare
from lavinmq.amqp.types import FieldTable
from lavinmq.client import connect
from lavinmqperf.interactive import humanize_bytes, rss_bytes, wait_for_enter


async def run(
    uri: str,
    queues: int,
    durable: bool,
    arguments: FieldTable,
    no_wait: bool,
    out: TextIO | None = None,
) -> int:
    """Declare ``queues`` queues per round until end of input; return how many in total."""
    out = out or sys.stdout
    count = 0
    async with connect(uri, name="lavinmqperf queue-count") as conn:
        ch = await conn.channel()
        while True:
            for _ in range(queues):
                name = f"lavinmqperf-queue-{secrets.token_hex(4)}"
                if no_wait:  # the client has no nowait declare: send the frame as is
                    method = QueueDeclare(
                        0, name, False, durable, not durable, False, True, arguments
                    )
                    conn.send_frame(method_frame(ch.number, method))
                else:
                    await ch.queue_declare(
                        name, durable=durable, exclusive=not durable, arguments=arguments
                    )
                print(".", end="", file=out, flush=True)
            count += queues
            await conn.drain()
            print(file=out)
            print(f"{count} queues Using {humanize_bytes(rss_bytes())} memory.", file=out)
            print(
                f"Press enter to add {queues} more queues or ctrl-c to abort", file=out, flush=True
            )
            if not await wait_for_enter():
                break
        if no_wait:
            await ch.basic_qos(0)  # a round trip: every declare before it was handled
    return count
