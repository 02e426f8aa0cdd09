"""Units without a broker: table/JSON rendering, option hoisting, target resolution."""

from __future__ import annotations

import pytest
from typer.main import get_command

from lavinmqctl import output
from lavinmqctl.app import app
from lavinmqctl.client import ApiError, CtlError, _error_reason, api_path
from lavinmqctl.group import FlatGroup, hoist_global_options
from lavinmqctl.session import Endpoint, resolve_target


def test_dig_and_pick() -> None:
    item = {"name": "q", "a": {"b": {"c": 1}}, "x.y": 2}
    assert output.dig(item, "a.b.c") == 1
    assert output.dig(item, "x.y") == 2
    assert output.dig(item, "a.nope") is None
    assert output.dig(item, "name.deeper") is None
    assert output.pick([item], ["name", "missing"]) == [{"name": "q", "missing": None}]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (1.5, "1.5"),
        ("s", "s"),
        (["a", "b"], "a,b"),
        ([], ""),
        ({"b": 1, "a": [1]}, '{"a":[1],"b":1}'),
        ([1, 2], "[1,2]"),
    ],
)
def test_cell(value: object, text: str) -> None:
    assert output.cell(value) == text


def test_table_alignment() -> None:
    rows: list[dict[str, object]] = [
        {"name": "a", "messages": 10},
        {"name": "longer", "messages": None},
    ]
    assert output.table(rows, ["name", "messages"]) == ("name    messages\na       10\nlonger")
    assert output.table(rows, ["name"], header=False) == "a\nlonger"
    assert output.table([], ["name"]) == "name"
    assert output.table([], ["name"], header=False) == ""


def test_key_values_and_json() -> None:
    assert output.key_values({"A": 1, "B": None}) == "A: 1\nB: "
    assert output.to_json({"a": [1]}) == '{"a":[1]}'
    assert output.to_json({"a": 1}, pretty=True) == '{\n  "a": 1\n}'


def test_api_path_encodes_segments() -> None:
    assert api_path("queues", "/", "a b/c") == "/api/queues/%2F/a%20b%2Fc"
    assert api_path("connections", "1.2.3.4:5 -> 6.7.8.9:10") == (
        "/api/connections/1.2.3.4%3A5%20-%3E%206.7.8.9%3A10"
    )


def test_error_reason() -> None:
    assert _error_reason(b'{"error": "not_found", "reason": "no\\n queue"}') == "no queue"
    assert _error_reason(b'{"error": "bad"}') == "bad"
    assert _error_reason(b"<html><body>oops</body></html>") == ""
    assert _error_reason(b"plain text\nsecond line") == "plain text"
    assert _error_reason(b"") == ""
    assert str(ApiError(404, "Not Found", "")) == "404 Not Found"


def _group() -> FlatGroup:
    group = get_command(app)
    assert isinstance(group, FlatGroup)
    return group


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["list_users", "-f", "json"], ["-f", "json", "list_users"]),
        (["list_users", "--format=json", "name"], ["--format=json", "list_users", "name"]),
        (["-q", "list_users", "--silent"], ["--silent", "-q", "list_users"]),
        (["list_queues", "-p", "v", "-q"], ["-q", "list_queues", "-p", "v"]),
        (
            ["--uri", "http://x", "status", "--user", "u"],
            ["--user", "u", "--uri", "http://x", "status"],
        ),
        (["create_queue", "--", "-q"], ["create_queue", "--", "-q"]),
        (["create_queue", "--max-length", "-q"], ["create_queue", "--max-length", "-q"]),
        (["nosuch", "-q"], ["nosuch", "-q"]),
        (["--help"], ["--help"]),
        ([], []),
    ],
)
def test_hoist_global_options(args: list[str], expected: list[str]) -> None:
    assert hoist_global_options(_group(), args) == expected


def test_resolve_target_defaults() -> None:
    t = resolve_target(Endpoint())
    assert (t.scheme, t.host, t.port, t.user, t.password, t.unix_path) == (
        "http",
        "127.0.0.1",
        15672,
        "guest",
        "guest",
        "",
    )


@pytest.mark.parametrize(
    ("endpoint", "where"),
    [
        (Endpoint(uri="https://h.example"), "https://h.example:443"),
        (Endpoint(uri="http://h:1234"), "http://h:1234"),
        (Endpoint(host="other:99"), "http://other:99"),
        (Endpoint(host="other"), "http://other:15672"),
        (Endpoint(host="https://other:8443", uri="http://ignored:1"), "https://other:8443"),
        (Endpoint(hostname="n", port=5, scheme="https"), "https://n:5"),
        (Endpoint(port=1), "http://127.0.0.1:1"),
        (Endpoint(unix_path="/tmp/s.sock"), "unix:/tmp/s.sock"),
    ],
)
def test_resolve_target_precedence(endpoint: Endpoint, where: str) -> None:
    assert resolve_target(endpoint).describe() == where


def test_resolve_target_credentials() -> None:
    t = resolve_target(Endpoint(uri="http://a%40b:p%3Aw@h:1"))
    assert (t.user, t.password) == ("a@b", "p:w")
    t = resolve_target(Endpoint(uri="http://a:b@h:1", user="u", password="p"))
    assert (t.user, t.password) == ("u", "p")
    assert t.authorization() == "Basic dTpw"


def test_resolve_target_errors() -> None:
    with pytest.raises(CtlError, match="scheme must be http or https"):
        resolve_target(Endpoint(uri="amqp://h"))
    with pytest.raises(CtlError, match="no host"):
        resolve_target(Endpoint(uri="http://"))
