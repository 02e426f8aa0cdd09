"""The status line: unreachable broker, wrong credentials, and retrying until it answers."""

from __future__ import annotations

import asyncio
import socket

from lavinmq_tui.widgets import StatusLine
from tests.broker_thread import BrokerThread
from tests.tui.conftest import SIZE, make_app, until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_broker_shows_error_and_keeps_retrying() -> None:
    app = make_app(f"http://127.0.0.1:{free_port()}")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.status.state == "error", what="an error status")
        line = app.screen.query_one(StatusLine)
        assert line.has_class("-error")
        assert "cannot reach http://127.0.0.1:" in str(line.content)
        assert "Connection refused" in str(line.content)
        assert "retrying" in str(line.content)
        failed = app.poller
        await until(pilot, lambda: app.poller is not failed, what="another attempt")
        for key in ("2", "3", "4", "1"):
            await pilot.press(key)  # every screen still works, empty
        assert app.status.state == "error"


async def test_wrong_password_shows_login_failed(broker: BrokerThread) -> None:
    app = make_app(broker.http_url, password="wrong")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.status.state == "error")
        assert "login failed for user 'guest'" in app.status.text


async def test_recovers_when_the_broker_comes_back(broker: BrokerThread) -> None:
    app = make_app(broker.http_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.status.state == "ok")
        ports = broker.amqp_port, broker.http_port
        await asyncio.to_thread(broker.stop)
        await until(pilot, lambda: app.status.state == "error", what="broker down")
        broker.config.amqp_port, broker.config.http_port = ports
        await asyncio.to_thread(broker.start)
        await until(pilot, lambda: app.status.state == "ok", what="reconnected")
        assert not app.screen.query_one(StatusLine).has_class("-error")
