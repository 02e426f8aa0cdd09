"""The management UI in headless Chromium: sign in, watch rates, manage queues and messages."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pika  # type: ignore[import-untyped]
import pytest
import requests

from tests.broker_thread import BrokerThread
from tests.ui.conftest import UI

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
# The first test may wait for apt-get to install Chromium (see conftest); the tests
# themselves are bounded by Playwright's 10 s timeouts.
pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
AUTH = ("guest", "guest")
IMPORTED = {"queues": [{"name": "imported", "vhost": "staging", "durable": True, "arguments": {}}]}


@contextmanager
def lavinmqperf(broker: BrokerThread, seconds: int = 30) -> Iterator[subprocess.Popen[bytes]]:
    """``lavinmqperf throughput`` against ``broker``, publishing and consuming 500 msgs/s."""
    command = [
        sys.executable,
        "-c",
        "import sys; from lavinmqperf.app import main; sys.exit(main())",
        "throughput",
        *("--uri", broker.amqp_url, "-z", str(seconds), "-r", "500", "-a", "1", "-w", "1"),
        *("-u", "ui-perf", "-q"),
    ]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode not in (0, -15):
            print(f"lavinmqperf exited with {proc.returncode}: {err.decode(errors='replace')}")


def api(broker: BrokerThread, method: str, path: str, body: Any = None) -> requests.Response:
    r = requests.request(method, f"{broker.http_url}{path}", json=body, auth=AUTH, timeout=5)
    r.raise_for_status()
    return r


def queue_names(broker: BrokerThread, vhost: str = "/") -> list[str]:
    return broker.call(lambda: list(broker.broker.vhosts[vhost].queues))


def test_sign_in_needs_the_right_password_and_no_browser_dialog(ui: UI) -> None:
    page = ui.page
    whoami: list[Any] = []
    page.on("response", lambda r: whoami.append(r) if r.url.endswith("/api/whoami") else None)
    ui.open()
    expect(page.locator("#login")).to_be_visible()
    page.fill("#login-username", "guest")
    page.fill("#login-password", "wrong")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Wrong username or password")
    assert whoami[0].status == 401
    assert "www-authenticate" not in whoami[0].headers
    ui.sign_in()
    expect(page.locator("#current-user")).to_have_text("guest")
    expect(page.locator("#main h1")).to_have_text("Overview")
    page.reload()  # credentials last for the browser session
    expect(page.locator("#main h1")).to_have_text("Overview")
    page.click("#sign-out")
    expect(page.locator("#login")).to_be_visible()
    page.reload()
    expect(page.locator("#login")).to_be_visible()


def test_overview_rates_move_while_lavinmqperf_runs(
    ui: UI, broker: BrokerThread, tmp_path: Path
) -> None:
    ui.sign_in()
    page = ui.page
    publish = page.locator("#rates-chart li[data-key=publish] .value")
    deliver = page.locator("#rates-chart li[data-key=deliver] .value")
    expect(publish).to_have_text("0/s")
    with lavinmqperf(broker):
        expect(publish).not_to_have_text("0/s", timeout=20_000)
        expect(deliver).not_to_have_text("0/s")
        expect(page.locator("#total-connections .value")).not_to_have_text("0")
        line = page.locator("#rates-chart path.line[data-key=deliver]")
        before = line.get_attribute("d")
        expect(line).not_to_have_attribute("d", before or "")  # new samples: the line moves
        page.screenshot(path=tmp_path / "overview.png", full_page=True)
    assert (tmp_path / "overview.png").stat().st_size > 10_000


def test_create_and_delete_a_queue(ui: UI, broker: BrokerThread) -> None:
    ui.sign_in()
    ui.go("queues")
    page = ui.page
    page.wait_for_selector("#add-queue select[name=vhost] option[value='/']", state="attached")
    page.fill("#add-queue input[name=name]", "made-in-ui")
    page.click("#add-queue button[type=submit]")
    row = page.locator("#queues tbody tr", has_text="made-in-ui")
    expect(row).to_be_visible()
    assert "made-in-ui" in queue_names(broker)
    row.get_by_role("link", name="made-in-ui").click()
    page.click("#delete-queue")
    ui.confirm()
    page.wait_for_url("**/#/queues")
    expect(page.locator("#queues tbody")).not_to_contain_text("made-in-ui")
    assert "made-in-ui" not in queue_names(broker)


def test_publish_and_get_a_message_on_the_queue_page(ui: UI, broker: BrokerThread) -> None:
    api(broker, "PUT", "/api/queues/%2F/inbox", {"durable": True})
    ui.sign_in()
    ui.go("queues/%2F/inbox")
    page = ui.page
    page.fill("#publish-form textarea[name=payload]", "hello from the browser")
    page.fill("#publish-form textarea[name=headers]", '{"x-origin": "ui-test"}')
    page.click("#publish-form button[type=submit]")
    expect(page.locator(".toast span").last).to_have_text("Message published")
    expect(page.locator("#queue-ready")).to_have_text("1")
    page.select_option("#get-form select[name=ackmode]", "ack_requeue_false")
    page.click("#get-form button[type=submit]")
    expect(page.locator("#messages .payload")).to_have_text("hello from the browser")
    expect(page.locator("#messages")).to_contain_text('"x-origin":"ui-test"')
    expect(page.locator("#queue-messages")).to_have_text("0")
    api(
        broker,
        "POST",
        "/api/exchanges/%2F/amq.default/publish",
        {"routing_key": "inbox", "payload": "to purge", "properties": {}},
    )
    expect(page.locator("#queue-ready")).to_have_text("1")
    page.click("#purge-queue")
    ui.confirm()
    expect(page.locator("#queue-ready")).to_have_text("0")
    page.click("#pause-queue")
    expect(page.locator("#pause-queue")).to_have_text("Resume")
    expect(page.locator(".state-paused")).to_have_text("paused")
    page.click("#pause-queue")
    expect(page.locator("#pause-queue")).to_have_text("Pause")
    expect(page.locator(".state-running")).to_have_text("running")


def test_exchange_binding_and_publish(ui: UI, broker: BrokerThread) -> None:
    api(broker, "PUT", "/api/queues/%2F/orders", {"durable": True})
    ui.sign_in()
    ui.go("exchanges")
    page = ui.page
    page.wait_for_selector("#add-exchange select[name=vhost] option[value='/']", state="attached")
    page.fill("#add-exchange input[name=name]", "shop")
    page.select_option("#add-exchange select[name=type]", "topic")
    page.click("#add-exchange button[type=submit]")
    page.locator("#exchanges tbody tr", has_text="shop").get_by_role("link", name="shop").click()
    page.fill("#bind-form input[name=other]", "orders")
    page.fill("#bind-form input[name=routing_key]", "order.*")
    page.click("#bind-form button[type=submit]")
    expect(page.locator("table.data", has_text="order.*")).to_be_visible()
    page.fill("#publish-form input[name=routing_key]", "order.created")
    page.fill("#publish-form textarea[name=payload]", "{}")
    page.click("#publish-form button[type=submit]")
    expect(page.locator(".toast span").last).to_have_text("Message published")
    assert api(broker, "GET", "/api/queues/%2F/orders").json()["messages"] == 1
    page.click("#delete-exchange")
    ui.confirm()
    page.wait_for_url("**/#/exchanges")
    expect(page.locator("#exchanges tbody")).not_to_contain_text("shop")


def test_connection_and_channel_pages_and_close(ui: UI, broker: BrokerThread) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    ch = conn.channel()
    ch.queue_declare("watched")
    ch.basic_consume("watched", lambda *a: None)
    closed = threading.Event()
    try:
        ui.sign_in()
        ui.go("channels")
        page = ui.page
        expect(page.locator("#channels tbody tr")).to_have_count(1)
        ui.go("queues/%2F/watched")
        expect(page.locator("#main")).to_contain_text("ctag")
        ui.go("connections")
        page.locator("#connections tbody a").first.click()
        expect(page.locator("#main")).to_contain_text("Pika Python Client Library")
        page.get_by_role("button", name="Close connection").click()
        ui.confirm()
        page.wait_for_url("**/#/connections")
        expect(page.locator("#connections tbody")).to_contain_text("Nothing here yet")
        with pytest.raises(pika.exceptions.ConnectionClosed):
            conn.process_data_events(1)
        closed.set()
    finally:
        if not closed.is_set() and conn.is_open:
            conn.close()


def test_users_vhosts_policies_and_definitions(
    ui: UI, broker: BrokerThread, tmp_path: Path
) -> None:
    ui.sign_in()
    page = ui.page
    ui.go("vhosts")
    page.fill("#add-vhost input[name=name]", "staging")
    page.click("#add-vhost button[type=submit]")
    expect(page.locator("#vhosts tbody")).to_contain_text("staging")

    ui.go("users")
    page.fill("#add-user input[name=name]", "alice")
    page.fill("#add-user input[name=password]", "s3cret")
    page.get_by_role("button", name="monitoring").click()
    page.click("#add-user button[type=submit]")
    page.locator("#users tbody").get_by_role("link", name="alice").click()
    page.wait_for_selector(
        "#set-permission select[name=vhost] option[value=staging]", state="attached"
    )
    page.select_option("#set-permission select[name=vhost]", "staging")
    page.click("#set-permission button[type=submit]")
    expect(page.locator("#permissions")).to_contain_text("staging")
    user = api(broker, "GET", "/api/users/alice").json()
    assert user["tags"] == ["monitoring"]

    ui.go("policies")
    page.fill("#add-policy input[name=name]", "cap")
    page.fill("#add-policy input[name=pattern]", "^orders")
    page.fill("#add-policy textarea[name=definition]", '{"max-length": 10}')
    page.click("#add-policy button[type=submit]")
    expect(page.locator("#policies tbody")).to_contain_text('{"max-length":10}')

    ui.go("definitions")
    page.wait_for_selector("#export-definitions option[value=staging]", state="attached")
    with page.expect_download() as download:
        page.click("#export-definitions button[type=submit]")
    exported = json.loads(Path(download.value.path()).read_text())
    assert {"alice", "guest"} <= {u["name"] for u in exported["users"]}
    assert "cap" in {p["name"] for p in exported["policies"]}
    upload = tmp_path / "defs.json"
    upload.write_text(json.dumps(IMPORTED))
    page.set_input_files("#import-definitions input[type=file]", upload)
    page.click("#import-definitions button[type=submit]")
    expect(page.locator(".toast span", has_text="Definitions imported")).to_be_visible()
    assert "imported" in queue_names(broker, "staging")

    ui.go("users/alice")
    page.click("#delete-user")
    ui.confirm()
    page.wait_for_url("**/#/users")
    expect(page.locator("#users tbody")).not_to_contain_text("alice")


def test_shovel_and_federation_upstream_forms(ui: UI, broker: BrokerThread) -> None:
    ui.sign_in()
    page = ui.page
    ui.go("shovels")
    page.wait_for_selector("#add-shovel select[name=vhost] option[value='/']", state="attached")
    page.fill("#add-shovel input[name=name]", "mover")
    page.fill("#add-shovel input[name=src-name]", "from-here")
    page.fill("#add-shovel input[name=dest-name]", "to-there")
    page.click("#add-shovel button[type=submit]")
    row = page.locator("#shovels tbody tr", has_text="mover")
    expect(row).to_contain_text("queue from-here")
    value = api(broker, "GET", "/api/parameters/shovel/%2F/mover").json()["value"]
    assert value["src-queue"] == "from-here" and value["dest-queue"] == "to-there"
    row.get_by_role("button", name="Pause").click()
    expect(row).to_contain_text("paused")
    row.get_by_role("button", name="Resume").click()
    expect(row).not_to_contain_text("paused")
    row.get_by_role("button", name="Delete").click()
    ui.confirm()
    expect(page.locator("#shovels tbody")).not_to_contain_text("mover")

    ui.go("federation")
    page.wait_for_selector("#add-upstream select[name=vhost] option[value='/']", state="attached")
    page.fill("#add-upstream input[name=name]", "origin")
    page.fill("#add-upstream input[name=uri]", "amqp://guest:secret@127.0.0.1:1")
    page.click("#add-upstream button[type=submit]")
    expect(page.locator("#upstreams tbody")).to_contain_text("amqp://guest:***@127.0.0.1:1")
    assert api(broker, "GET", "/api/parameters/federation-upstream/%2F/origin").ok


@pytest.mark.parametrize(
    "route",
    [
        "overview",
        "exchanges/%2F/amq.default",
        "exchanges/%2F/amq.topic",
        "users/guest",
        "channels",
        "vhosts",
        "no-such-page",
    ],
)
def test_pages_render_without_script_errors(ui: UI, route: str) -> None:
    ui.sign_in()
    ui.go(route)
    heading = ui.page.locator("#main h1")
    if route == "no-such-page":
        expect(heading).to_have_text("Not found")
    else:
        expect(heading).not_to_have_text("Error")


def test_cancel_a_consumer_on_the_queue_page(ui: UI, broker: BrokerThread) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    ch = conn.channel()
    ch.queue_declare("watched")
    ch.basic_consume("watched", lambda *_: None, consumer_tag="ctag-ui")
    ui.sign_in()
    ui.go("queues/%2F/watched")
    page = ui.page
    row = page.locator("tr", has_text="ctag-ui")
    row.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("No consumers")).to_be_visible()
    conn.process_data_events(time_limit=0.2)  # the client gets Basic.Cancel
    assert not ch.consumer_tags
    conn.close()
