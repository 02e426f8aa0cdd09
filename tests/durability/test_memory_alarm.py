"""Memory alarm: publishers are blocked (Connection.Blocked "low on memory") while the
broker's resident memory is over ``memory_high_watermark``, together with the disk alarm
(unblocked when the last alarm clears), and the management API reports both."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pamqp import commands

from lavinmq.config import Config, load
from tests.broker_thread import BrokerThread
from tests.durability.test_disk_alarm import BLOCKING, no_frame, publisher, ready, set_free
from tests.integration.helpers import pika_connect, wait_for


def set_watermark(broker: BrokerThread, watermark: float) -> None:
    def apply() -> None:
        broker.broker.config.memory_high_watermark = watermark
        broker.broker.memory_alarm.check()

    broker.call(apply)


def node(broker: BrokerThread) -> dict[str, Any]:
    request = urllib.request.Request(f"{broker.http_url}/api/nodes")
    request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    with urllib.request.urlopen(request, timeout=5) as response:
        nodes: list[dict[str, Any]] = json.load(response)
    return nodes[0]


def test_config_key_default_and_ini(tmp_path: Path) -> None:
    assert Config().memory_high_watermark == 0.4
    ini = tmp_path / "lavinmq.ini"
    ini.write_text("[main]\nmemory_high_watermark = 0.25\n")
    assert load(["-c", str(ini)], environ={}).memory_high_watermark == 0.25
    ini.write_text("[main]\nmemory_high_watermark = 2147483648\n")
    assert load(["-c", str(ini)], environ={}).memory_high_watermark == 2147483648


def test_memory_alarm_blocks_publishers_until_memory_is_back_under(
    make_broker: Callable[..., BrokerThread],
) -> None:
    broker = make_broker(memory_high_watermark=2.0)  # 2 bytes: over it from the start
    admin = pika_connect(broker)
    admin.channel().queue_declare("mem-q")  # not a publisher: never blocked
    assert broker.call(lambda: broker.broker.memory_alarm.active)
    info = node(broker)
    assert info["mem_alarm"] is True and info["mem_limit"] == 2
    assert info["mem_used"] > 10 << 20 and info["disk_free_alarm"] is False

    client = publisher(broker, BLOCKING)
    client.publish(1, "", "mem-q", b"first")  # stored: it came in the read that blocked
    assert client.expect(commands.Connection.Blocked, channel=0).reason == "low on memory"
    for i in range(3):
        client.publish(1, "", "mem-q", b"held %d" % i)
    time.sleep(0.3)
    assert ready(broker, "mem-q") == 1

    # Both alarms: clearing the memory one alone does not unblock.
    set_free(broker, 0)
    set_watermark(broker, 0)  # off
    assert not broker.call(lambda: broker.broker.memory_alarm.active)
    assert node(broker)["disk_free_alarm"] is True
    no_frame(client)
    assert ready(broker, "mem-q") == 1

    set_free(broker, 10**15)
    client.expect(commands.Connection.Unblocked, channel=0)
    wait_for(lambda: ready(broker, "mem-q") == 4, what="held publishes stored")
    info = node(broker)
    assert info["mem_alarm"] is False and info["disk_free_alarm"] is False
    client.close(graceful=True)
    admin.close()


def test_the_default_watermark_does_not_block(broker: BrokerThread) -> None:
    alarm = broker.broker.memory_alarm
    assert not broker.call(lambda: alarm.active)
    assert broker.call(alarm.limit) > 100 << 20
    assert broker.call(lambda: alarm.used) > 0
