"""Global options, connection settings, error exits, help, completion and startup cost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import ThreadingMixIn, UnixStreamServer

import orjson
import pytest

from lavinmqctl.client import Target
from tests.broker_thread import BrokerThread
from tests.cli.conftest import Ctl, fails, invoke, json_out, ok, table

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_arguments_shows_help() -> None:
    result = invoke()
    assert result.exit_code == 2  # a usage error, with the help as the explanation
    assert "Usage: lavinmqctl" in result.output
    assert "User Management:" in result.output


def test_help_groups_commands_by_section() -> None:
    out = ok(invoke("--help"))
    for section in (
        "User Management:",
        "Virtual Hosts:",
        "Queues:",
        "Exchanges:",
        "Connections:",
        "Policies:",
        "Parameters:",
        "Definitions:",
        "Server:",
    ):
        assert section in out
    assert out.index("add_user") < out.index("add_vhost") < out.index("list_queues")
    assert ok(invoke("-h")) == out


def test_command_help() -> None:
    out = ok(invoke("create_queue", "--help"))
    assert "--durable" in out and "--dead-letter-exchange" in out and "--vhost" in out


def test_version() -> None:
    assert ok(invoke("--version")).startswith("lavinmqctl ")


def test_unknown_command_is_a_usage_error() -> None:
    result = invoke("frobnicate")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_global_options_may_follow_the_command(ctl: Ctl) -> None:
    assert json_out(ctl("list_users", "--format", "json", "name")) == [{"name": "guest"}]
    assert json_out(ctl("list_users", "name", "-f", "json")) == [{"name": "guest"}]
    assert ok(ctl("list_users", "-q")).splitlines()[0].split() == ["name", "tags"]
    assert ok(ctl("list_users", "--silent")) == "guest  administrator\n"


def test_options_after_double_dash_stay_arguments(ctl: Ctl) -> None:
    ok(ctl("create_queue", "--", "-q"))
    assert json_out(ctl("-f", "json", "list_queues", "name")) == [{"name": "-q"}]


def test_global_options_after_the_command_on_uri(broker: BrokerThread) -> None:
    result = invoke("list_vhosts", "--uri", broker.http_url, "-f", "json")
    assert json_out(result) == [{"name": "/"}]


def test_text_format_is_table(ctl: Ctl) -> None:
    assert table(ok(ctl("-f", "text", "-q", "list_vhosts"))) == [["name"], ["/"]]


def test_invalid_format_is_a_usage_error(ctl: Ctl) -> None:
    result = ctl("-f", "yaml", "list_vhosts")
    assert result.exit_code == 2
    assert "yaml" in result.stderr


def test_unreachable_broker() -> None:
    port = _free_port()
    line = fails(
        invoke("--uri", f"http://127.0.0.1:{port}", "list_queues"),
        rf"cannot connect to http://127.0.0.1:{port}: Connection refused",
    )
    assert line == f"Error: cannot connect to http://127.0.0.1:{port}: Connection refused"


def test_unreachable_prints_nothing_on_stdout() -> None:
    result = invoke("--uri", f"http://127.0.0.1:{_free_port()}", "-q", "status")
    assert result.exit_code == 1
    assert result.stdout == ""


def test_timeout() -> None:
    with socket.socket() as server:  # accepts (backlog) but never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        fails(
            invoke("--uri", f"http://127.0.0.1:{port}", "--timeout", "0.2", "status"),
            r"timed out after 0.2s talking to http://127.0.0.1:\d+",
        )


def test_wrong_password_is_401(broker: BrokerThread) -> None:
    result = invoke("--uri", broker.http_url, "--password", "wrong", "list_users")
    fails(result, r"^Error: 401 Unauthorized: Login failed$")


def test_unknown_user_is_401(broker: BrokerThread) -> None:
    fails(invoke("--uri", broker.http_url, "--user", "nobody", "status"), r"401 Unauthorized")


def test_non_admin_is_refused(ctl: Ctl, broker: BrokerThread) -> None:
    ok(ctl("add_user", "mon", "pw", "--tags", "monitoring"))
    ok(ctl("set_permissions", "mon", ".*", ".*", ".*"))
    result = invoke("--uri", broker.http_url, "--user", "mon", "--password", "pw", "list_users")
    fails(result, r"^Error: 40[13] ")


def test_credentials_in_uri(broker: BrokerThread) -> None:
    uri = broker.http_url.replace("http://", "http://guest:guest@")
    assert json_out(invoke("--uri", uri, "-f", "json", "list_vhosts")) == [{"name": "/"}]
    bad = broker.http_url.replace("http://", "http://guest:nope@")
    fails(invoke("--uri", bad, "list_vhosts"), r"401")
    # --password wins over the URI's
    ok(invoke("--uri", bad, "--password", "guest", "list_vhosts"))


def test_env_vars(broker: BrokerThread) -> None:
    env = {
        "LAVINMQCTL_URI": broker.http_url,
        "LAVINMQCTL_USER": "guest",
        "LAVINMQCTL_PASSWORD": "guest",
    }
    assert json_out(invoke("-f", "json", "list_vhosts", env=env)) == [{"name": "/"}]
    env["LAVINMQCTL_PASSWORD"] = "wrong"
    fails(invoke("list_vhosts", env=env), r"401")


def test_env_vhost(ctl: Ctl) -> None:
    ok(ctl("add_vhost", "envvh"))
    ok(ctl("create_queue", "q", env={"LAVINMQCTL_VHOST": "envvh"}))
    assert json_out(ctl("-f", "json", "-p", "envvh", "list_queues", "name")) == [{"name": "q"}]


def test_host_and_hostname_port(broker: BrokerThread) -> None:
    port = str(broker.http_port)
    assert json_out(invoke("--host", f"127.0.0.1:{port}", "-f", "json", "list_vhosts"))
    assert json_out(invoke("--host", broker.http_url, "-f", "json", "list_vhosts"))
    assert json_out(invoke("--hostname", "127.0.0.1", "--port", port, "-f", "json", "list_vhosts"))
    assert json_out(invoke("-P", port, "-f", "json", "list_vhosts"))
    env = {"LAVINMQCTL_HOST": f"127.0.0.1:{port}"}
    assert json_out(invoke("-f", "json", "list_vhosts", env=env))


def test_invalid_uri() -> None:
    fails(invoke("--uri", "ftp://x", "status"), r"scheme must be http or https")
    fails(invoke("--uri", "http://host:notaport", "status"), r"invalid URI")


def test_invalid_uri_does_not_block_offline_commands() -> None:
    env = {"LAVINMQCTL_URI": "ftp://x"}
    assert "Display server status" in ok(invoke("status", "--help", env=env))
    assert ok(invoke("hash_password", "pw", env=env)).strip()


class _UnixHTTPServer(ThreadingMixIn, UnixStreamServer):
    daemon_threads = True


class _Canned(BaseHTTPRequestHandler):
    """A stand-in API: /api/vhosts, and a queue listing served in two pages."""

    PAGES = {
        "/api/queues/%2F": {
            "items": [{"name": "a"}, {"name": "b"}],
            "page": 1,
            "page_count": 2,
            "page_size": 2,
        },
        "/api/queues/%2F?page=2&page_size=2": {
            "items": [{"name": "c"}],
            "page": 2,
            "page_count": 2,
            "page_size": 2,
        },
        "/api/vhosts": [{"name": "/"}],
    }

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Basic Z3Vlc3Q6Z3Vlc3Q=":
            self._reply(401, {"error": "not_authorized", "reason": "Login failed"})
        elif self.path in self.PAGES:
            self._reply(200, self.PAGES[self.path])
        else:
            self._reply(404, {"reason": "nope"})

    def _reply(self, status: int, data: object) -> None:
        body = orjson.dumps(data)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def unix_api(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "ctl.sock")
    server = _UnixHTTPServer(path, _Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path
    server.shutdown()
    server.server_close()


def test_control_unix_socket(unix_api: str) -> None:
    result = invoke("--control-unix-path", unix_api, "-f", "json", "list_vhosts")
    assert json_out(result) == [{"name": "/"}]
    env = {"LAVINMQCTL_CONTROL_UNIX_PATH": unix_api}
    assert json_out(invoke("-f", "json", "list_vhosts", env=env)) == [{"name": "/"}]
    fails(invoke("--control-unix-path", unix_api, "list_users"), r"^Error: 404 Not Found: nope$")
    fails(invoke("--control-unix-path", unix_api, "--user", "x", "list_vhosts"), r"401")


def test_paged_listings_are_followed(unix_api: str) -> None:
    result = invoke("--control-unix-path", unix_api, "-f", "json", "list_queues", "name")
    assert json_out(result) == [{"name": "a"}, {"name": "b"}, {"name": "c"}]


def test_control_unix_socket_missing(tmp_path: Path) -> None:
    fails(
        invoke("--control-unix-path", str(tmp_path / "none.sock"), "status"),
        r"cannot connect to unix:.*none.sock",
    )


def test_target_describe() -> None:
    assert Target("https", "::1", 443).describe() == "https://[::1]:443"


def _run(*code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, *code],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_startup_does_not_import_heavy_modules() -> None:
    heavy = ["aiohttp", "rich", "http.client", "ssl", "lavinmq", "pydantic"]
    code = (
        "import sys, lavinmqctl.app\n"
        "from typer.main import get_command\n"
        "get_command(lavinmqctl.app.app)\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_module_entry_point() -> None:
    result = _run("-m", "lavinmqctl", "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: lavinmqctl" in result.stdout
    result = _run("-m", "lavinmqctl", "--uri", f"http://127.0.0.1:{_free_port()}", "status")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot connect to ")
    assert len(result.stderr.splitlines()) == 1


def test_shell_completion_script() -> None:
    result = _run("-m", "lavinmqctl", "--show-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "complete" in result.stdout


def test_shell_completion_of_command_names() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "_LAVINMQCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "lavinmqctl list_qu",
        "COMP_CWORD": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "lavinmqctl"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert "list_queues" in result.stdout
