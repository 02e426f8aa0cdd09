"""add_vhost, delete_vhost, list_vhosts and the vhost limit commands."""

from __future__ import annotations

from tests.broker_thread import BrokerThread
from tests.cli.conftest import Ctl, fails, json_out, ok, table


def test_add_list_delete_vhost(ctl: Ctl, broker: BrokerThread) -> None:
    assert ok(ctl("add_vhost", "staging")) == 'Adding vhost "staging" ...\n'
    assert broker.call(lambda: "staging" in broker.broker.vhosts)
    out = ok(ctl("list_vhosts"))
    assert out.splitlines()[0] == "Listing vhosts ..."
    assert table(out)[1:] == [["name"], ["/"], ["staging"]]
    assert ok(ctl("delete_vhost", "staging")) == 'Deleting vhost "staging" ...\n'
    assert json_out(ctl("-f", "json", "list_vhosts")) == [{"name": "/"}]


def test_add_vhost_with_metadata(ctl: Ctl) -> None:
    ok(
        ctl(
            "add_vhost",
            "meta",
            "--description",
            "for tests",
            "--tags",
            "a,b",
            "--default-queue-type",
            "classic",
        )
    )
    rows = json_out(ctl("-f", "json", "list_vhosts", "name", "description", "tags"))
    assert {"name": "meta", "description": "for tests", "tags": ["a", "b"]} in rows


def test_vhost_with_slash_in_name_is_encoded(ctl: Ctl) -> None:
    ok(ctl("add_vhost", "a/b"))
    assert {"name": "a/b"} in json_out(ctl("-f", "json", "list_vhosts"))
    ok(ctl("create_queue", "-p", "a/b", "q"))
    assert json_out(ctl("-f", "json", "list_queues", "-p", "a/b", "name", "vhost")) == [
        {"name": "q", "vhost": "a/b"}
    ]
    ok(ctl("delete_vhost", "a/b"))


def test_delete_missing_vhost_is_404(ctl: Ctl) -> None:
    fails(ctl("delete_vhost", "nope"), r"404 Not Found: vhost 'nope' not found")


def test_set_list_clear_vhost_limits(ctl: Ctl) -> None:
    out = ok(ctl("set_vhost_limits", '{"max-connections": 10, "max-queues": 2}'))
    assert out == 'Applying limits to vhost "/" ...\n'
    assert json_out(ctl("-f", "json", "list_vhost_limits")) == [
        {"vhost": "/", "limits": {"max-connections": 10, "max-queues": 2}}
    ]
    assert json_out(ctl("-f", "json", "list_vhost_limits", "--global")) == [
        {"vhost": "/", "limits": {"max-connections": 10, "max-queues": 2}}
    ]
    table_out = table(ok(ctl("-q", "list_vhost_limits")))
    assert table_out == [["vhost", "limits"], ["/", '{"max-connections":10,"max-queues":2}']]
    ok(ctl("create_queue", "q1"))
    ok(ctl("create_queue", "q2"))
    fails(ctl("create_queue", "q3"), r"max-queues|limit")
    ok(ctl("clear_vhost_limits"))
    assert json_out(ctl("-f", "json", "list_vhost_limits")) == []
    ok(ctl("create_queue", "q3"))


def test_vhost_limits_other_vhost(ctl: Ctl) -> None:
    ok(ctl("add_vhost", "lim"))
    ok(ctl("set_vhost_limits", "-p", "lim", '{"max-queues": 5}'))
    assert json_out(ctl("-f", "json", "-p", "lim", "list_vhost_limits")) == [
        {"vhost": "lim", "limits": {"max-queues": 5}}
    ]
    assert json_out(ctl("-f", "json", "list_vhost_limits")) == []


def test_vhost_limits_errors(ctl: Ctl) -> None:
    fails(ctl("set_vhost_limits", "not json"), r"limits is not valid JSON")
    fails(ctl("set_vhost_limits", "[1]"), r"limits must be a JSON object")
    fails(ctl("set_vhost_limits", "{}"), r"at least one limit")
    fails(ctl("set_vhost_limits", '{"max-bananas": 1}'), r"400 Bad Request")
    fails(ctl("set_vhost_limits", "-p", "nope", '{"max-queues": 1}'), r"404 Not Found")
    fails(ctl("list_vhost_limits", "-p", "nope"), r"404 Not Found")
