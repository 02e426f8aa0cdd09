"""``lavinmq-tui`` options: flags, LAVINMQ_TUI_* variables, credentials in the URI."""

from __future__ import annotations

import pytest

from lavinmq_tui.api import Target, api_path
from lavinmq_tui.app import make_app


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URI", "USER", "PASSWORD", "INTERVAL"):
        monkeypatch.delenv(f"LAVINMQ_TUI_{name}", raising=False)


def test_defaults() -> None:
    app = make_app([])
    assert app.target == Target("http://127.0.0.1:15672", "guest", "guest")
    assert app.interval == 1.0


def test_flags_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAVINMQ_TUI_URI", "http://mq.example:15672/")
    monkeypatch.setenv("LAVINMQ_TUI_USER", "ops")
    monkeypatch.setenv("LAVINMQ_TUI_PASSWORD", "s3cret")
    monkeypatch.setenv("LAVINMQ_TUI_INTERVAL", "2.5")
    app = make_app([])
    assert app.target == Target("http://mq.example:15672", "ops", "s3cret")
    assert app.interval == 2.5
    app = make_app(["--user", "admin", "--interval", "0.5"])
    assert (app.target.user, app.target.password, app.interval) == ("admin", "s3cret", 0.5)


def test_credentials_and_scheme_in_the_uri() -> None:
    target = Target.parse("https://bob:pw@[::1]:443/mgmt/", "guest", "guest")
    assert target == Target("https://[::1]:443/mgmt", "bob", "pw")
    assert Target.parse("localhost:15672", "u", "p").uri == "http://localhost:15672"
    assert api_path("queues", "/", "a/b c") == "/api/queues/%2F/a%2Fb%20c"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--uri", "amqp://localhost"], r"not an http\(s\) URI"),
        (["--interval", "0"], "--interval must be > 0"),
    ],
)
def test_bad_options_exit(argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        make_app(argv)


def test_bad_interval_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        make_app(["--interval", "soon"])
    assert exc.value.code == 2
    assert "invalid float value: 'soon'" in capsys.readouterr().err
