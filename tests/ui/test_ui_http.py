"""The UI's files over plain HTTP (no browser): public, typed, contained, and complete."""

from __future__ import annotations

import re

import requests

from lavinmq.http.ui import STATIC
from tests.broker_thread import BrokerThread

TYPES = {
    ".js": "application/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".html": "text/html",
}
IMPORT = re.compile(r"""(?:from|import)\s*\(?\s*['"](\.{1,2}/[^'"]+)['"]""")


def test_page_and_assets_need_no_credentials(broker: BrokerThread) -> None:
    r = requests.get(f"{broker.http_url}/", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert 'src="/static/js/app.js"' in r.text
    files = [p for p in STATIC.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        rel = path.relative_to(STATIC).as_posix()
        r = requests.get(f"{broker.http_url}/static/{rel}", timeout=5)
        assert r.status_code == 200, rel
        assert r.headers["Content-Type"].startswith(TYPES[path.suffix]), rel
        assert r.headers["Cache-Control"] == "no-cache"


def test_static_files_stay_inside_their_directory(broker: BrokerThread) -> None:
    for path in ("/static/%2e%2e/ui.py", "/static/js/%2e%2e/%2e%2e/app.py", "/static/..%2fui.py"):
        r = requests.get(f"{broker.http_url}{path}", timeout=5)
        assert r.status_code in (401, 403, 404), path
        assert "aiohttp" not in r.text, path


def test_api_challenges_only_clients_that_are_not_the_ui(broker: BrokerThread) -> None:
    r = requests.get(f"{broker.http_url}/api/overview", timeout=5)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.get(
        f"{broker.http_url}/api/overview", headers={"X-Requested-With": "XMLHttpRequest"}, timeout=5
    )
    assert r.status_code == 401
    assert "WWW-Authenticate" not in r.headers
    assert r.json()["error"] == "not_authorized"


def test_every_module_import_resolves() -> None:
    """A typo in an import only shows in a browser; catch it without one."""
    for module in STATIC.rglob("*.js"):
        for spec in IMPORT.findall(module.read_text()):
            target = spec if "${" not in spec else None
            if target is None:
                continue
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports {spec}"
    pages = {p.stem for p in (STATIC / "js" / "pages").glob("*.js")}
    routed = set(re.findall(r"'(\w+)'\]", (STATIC / "js" / "app.js").read_text()))
    assert routed == pages
