"""The checked-in OpenAPI description matches the routes, and fuzzing it finds no 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    status_code_conformance,
)

from lavinmq.http import openapi
from lavinmq.http.app import OPENAPI, make_app
from tests.broker_thread import BrokerThread

SCHEMA = schemathesis.openapi.from_path(OPENAPI)
AUTH = ("guest", "guest")


def test_checked_in_spec_is_current() -> None:
    assert OPENAPI.read_bytes() == openapi.dumps(), (
        "run: python -m lavinmq.http.openapi > lavinmq/http/openapi.json"
    )


def test_every_route_is_documented(tmp_path: Path) -> None:
    from lavinmq.broker.broker import Broker
    from lavinmq.config import Config

    loop = asyncio.new_event_loop()
    broker = Broker(Config(data_dir=str(tmp_path)), loop)
    app = make_app(broker, sample=False)
    loop.close()
    spec = openapi.build()["paths"]
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if (
            route.method == "HEAD"
            or path in (None, "/api/openapi.json")
            or not path.startswith(("/api/", "/metrics"))
        ):
            continue
        assert route.method.lower() in spec[openapi.openapi_path(path)], path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerThread]:
    bt = BrokerThread(tmp_path_factory.mktemp("fuzz") / "data").start()
    yield bt
    bt.stop()
    assert not bt.errors


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.auth = AUTH
        yield s


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_fuzz_no_server_errors(
    case: schemathesis.Case, live: BrokerThread, session: requests.Session
) -> None:
    if case.method == "DELETE" and case.path in ("/api/vhosts/{vhost}", "/api/users/{name}"):
        case.path_parameters = {k: f"fuzz-{v}" for k, v in (case.path_parameters or {}).items()}
    headers = {"Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="}  # guest:guest, to get past auth
    response = case.call(base_url=live.http_url, session=session, headers=headers, timeout=10)
    failed_check = response.status_code == 503 and case.path.startswith("/api/health/")
    assert response.status_code < 500 or failed_check, (
        f"{case.method} {case.formatted_path}: {response.text}"
    )
    case.validate_response(
        response, checks=[status_code_conformance], excluded_checks=[ignored_auth]
    )
