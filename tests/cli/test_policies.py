"""Policies, operator policies and runtime parameters."""

from __future__ import annotations

from tests.broker_thread import BrokerThread
from tests.cli.conftest import Ctl, fails, json_out, ok, table


def test_set_list_clear_policy(ctl: Ctl) -> None:
    out = ok(
        ctl(
            "set_policy",
            "ttl",
            "^tmp\\.",
            '{"message-ttl": 1000}',
            "--priority",
            "2",
            "--apply-to",
            "queues",
        )
    )
    assert out == 'Setting policy "ttl" for pattern "^tmp\\." in vhost "/" ...\n'
    assert json_out(ctl("-f", "json", "list_policies")) == [
        {
            "vhost": "/",
            "name": "ttl",
            "pattern": "^tmp\\.",
            "apply-to": "queues",
            "definition": {"message-ttl": 1000},
            "priority": 2,
        }
    ]
    out = ok(ctl("list_policies"))
    assert out.splitlines()[0] == "Listing policies for vhost / ..."
    assert table(out)[1:] == [
        ["vhost", "name", "pattern", "apply-to", "definition", "priority"],
        ["/", "ttl", "^tmp\\.", "queues", '{"message-ttl":1000}', "2"],
    ]
    assert ok(ctl("clear_policy", "ttl")) == 'Clearing policy "ttl" in vhost "/" ...\n'
    assert json_out(ctl("-f", "json", "list_policies")) == []


def test_policy_applies_to_queue(ctl: Ctl) -> None:
    ok(ctl("create_queue", "capped"))
    ok(ctl("set_policy", "cap", "^capped$", '{"max-length": 1}'))
    rows = json_out(ctl("-f", "json", "list_queues", "name", "policy"))
    assert rows == [{"name": "capped", "policy": "cap"}]


def test_policy_in_other_vhost(ctl: Ctl) -> None:
    ok(ctl("add_vhost", "pv"))
    ok(ctl("-p", "pv", "set_policy", "p", ".*", '{"max-length": 5}'))
    assert json_out(ctl("-f", "json", "list_policies")) == []
    assert json_out(ctl("-f", "json", "list_policies", "name", "vhost", "-p", "pv")) == [
        {"name": "p", "vhost": "pv"}
    ]
    ok(ctl("clear_policy", "p", "-p", "pv"))


def test_policy_errors(ctl: Ctl) -> None:
    fails(ctl("set_policy", "p", ".*", "not-json"), r"definition is not valid JSON")
    fails(ctl("set_policy", "p", ".*", "[]"), r"definition must be a JSON object")
    fails(
        ctl("set_policy", "p", ".*", '{"max-length": 1}', "--apply-to", "nothing"),
        r"400 Bad Request: .*apply-to",
    )
    fails(ctl("set_policy", "p", "(", '{"max-length": 1}'), r"400 Bad Request")
    fails(ctl("set_policy", "p", ".*", '{"max-length": 1}', "-p", "nope"), r"404 Not Found")
    fails(ctl("clear_policy", "nope"), r"404 Not Found")
    fails(ctl("list_policies", "-p", "nope"), r"404 Not Found")


def test_operator_policies(ctl: Ctl) -> None:
    out = ok(ctl("set_operator_policy", "limits", ".*", '{"max-length": 100}'))
    assert out == 'Setting operator policy "limits" for pattern ".*" in vhost "/" ...\n'
    assert json_out(
        ctl("-f", "json", "list_operator_policies", "name", "apply-to", "definition")
    ) == [{"name": "limits", "apply-to": "queues", "definition": {"max-length": 100}}]
    assert json_out(ctl("-f", "json", "list_policies")) == []
    out = ok(ctl("list_operator_policies"))
    assert out.splitlines()[0] == "Listing operator policies for vhost / ..."
    ok(ctl("clear_operator_policy", "limits"))
    assert json_out(ctl("-f", "json", "list_operator_policies")) == []
    fails(ctl("clear_operator_policy", "limits"), r"404 Not Found")


def test_set_list_clear_parameter(ctl: Ctl, broker: BrokerThread) -> None:
    out = ok(ctl("set_parameter", "custom", "p1", '{"answer": 42}'))
    assert out.startswith('Setting runtime parameter "p1" for component "custom"')
    ok(ctl("add_vhost", "pv"))
    ok(ctl("set_parameter", "custom", "p2", '"text"', "-p", "pv"))
    assert json_out(ctl("-f", "json", "list_parameters")) == [
        {"component": "custom", "name": "p1", "value": {"answer": 42}}
    ]
    assert json_out(ctl("-f", "json", "-p", "pv", "list_parameters")) == [
        {"component": "custom", "name": "p2", "value": "text"}
    ]
    out = ok(ctl("list_parameters"))
    assert out.splitlines()[0] == "Listing runtime parameters for vhost / ..."
    assert table(out)[1:] == [["component", "name", "value"], ["custom", "p1", '{"answer":42}']]
    ok(ctl("clear_parameter", "custom", "p1"))
    assert json_out(ctl("-f", "json", "list_parameters")) == []


def test_parameter_errors(ctl: Ctl) -> None:
    fails(ctl("set_parameter", "custom", "p", "{bad"), r"value is not valid JSON")
    fails(ctl("set_parameter", "custom", "p", "1", "-p", "nope"), r"404 Not Found")
    fails(ctl("clear_parameter", "custom", "nope"), r"404 Not Found")
