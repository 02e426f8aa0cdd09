"""Browser fixtures: Debian's Chromium driven by Playwright, against an in-process broker.

The browser is the system's ``/usr/bin/chromium`` (Playwright's own download is never
used). On a clean CI machine, where we run as root, the first test installs it with
apt-get; elsewhere the tests skip when it is missing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.broker_thread import BrokerThread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REFRESH_MS = 1000  # the UI's refresh interval in tests (the user's choice is kept in localStorage)
INSTALL_LOCK = Path("/tmp/lavinmq-ui-tests-apt.lock")


def _install_chromium() -> str | None:
    """apt-get install chromium, once across xdist workers; the reason when it can't."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing (install Debian's chromium package)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> None:
        subprocess.run(["apt-get", *args], env=env, capture_output=True, timeout=900, check=False)

    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other xdist workers wait for the first install
        if not os.path.exists(CHROMIUM):
            apt("install", "-y", "-q", "chromium")
        if not os.path.exists(CHROMIUM):  # stale package lists on a fresh machine
            apt("update", "-q")
            apt("install", "-y", "-q", "chromium")
    return None if os.path.exists(CHROMIUM) else "apt-get install -y chromium failed"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        reason = _install_chromium()
        if reason:
            pytest.skip(reason)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerThread]:
    """The shared broker fixture, sampling rates every 200 ms so charts move quickly."""
    bt = BrokerThread(tmp_path / "data", stats_interval=200).start()
    yield bt
    bt.stop()
    errors = [e.get("message") or repr(e.get("exception")) for e in bt.errors]
    assert not errors, f"broker event loop errors: {errors}"


class UI:
    """A browser tab on the broker's UI that records script errors."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._on_console)

    def _on_console(self, msg: Any) -> None:
        # 4xx answers the UI expects (a wrong password, a deleted queue) are logged as well
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {msg.text}")

    def open(self, route: str = "") -> None:
        self.page.goto(f"{self.base_url}/#/{route}")

    def sign_in(self, user: str = "guest", password: str = "guest") -> None:
        page = self.page
        page.goto(f"{self.base_url}/")
        page.fill("#login-username", user)
        page.fill("#login-password", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#app:not([hidden])")

    def go(self, route: str) -> None:
        """Navigate inside the app (no reload) and wait for the page's first render."""
        self.page.evaluate("hash => { window.location.hash = hash }", f"#/{route}")
        self.page.wait_for_selector("#main .page h1")
        self.page.wait_for_selector("#main[aria-busy]", state="detached")

    def confirm(self) -> None:
        self.page.click("dialog.confirm button[value=ok]")


@pytest.fixture
def ui(browser: Any, broker: BrokerThread) -> Iterator[UI]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(f"localStorage.setItem('lavinmq.refresh', '{REFRESH_MS}')")
    tab = UI(context.new_page(), broker.http_url)
    yield tab
    context.close()
    assert not tab.errors, tab.errors
