"""export_definitions, import_definitions (with the round trip to a fresh broker), status,
cluster_status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.broker_thread import BrokerThread
from tests.cli.conftest import Ctl, fails, invoke, json_out, ok


def _populate(ctl: Ctl) -> None:
    ok(ctl("add_user", "ops", "pw", "--tags", "monitoring"))
    ok(ctl("add_vhost", "prod"))
    ok(ctl("set_permissions", "-p", "prod", "ops", "^ops", ".*", ".*"))
    ok(ctl("create_queue", "-p", "prod", "orders", "--durable", "--max-length", "100"))
    ok(ctl("create_exchange", "-p", "prod", "topic", "events", "--durable"))
    ok(ctl("set_policy", "-p", "prod", "ttl", "^orders$", '{"message-ttl": 60000}'))
    ok(ctl("set_vhost_limits", "-p", "prod", '{"max-queues": 50}'))
    ok(ctl("set_parameter", "-p", "prod", "custom", "knob", '{"on": true}'))


def _portable(defs: dict[str, Any]) -> dict[str, Any]:
    """What must survive a round trip (version fields differ per broker)."""
    keys = (
        "users",
        "vhosts",
        "permissions",
        "policies",
        "parameters",
        "queues",
        "exchanges",
        "bindings",
    )
    return {k: sorted(defs.get(k, []), key=orjson.dumps) for k in keys}


def test_export_to_stdout(ctl: Ctl) -> None:
    defs = json_out(ctl("export_definitions"))
    assert {"name": "guest", "tags": ["administrator"]}.items() <= defs["users"][0].items()
    assert [v["name"] for v in defs["vhosts"]] == ["/"]


def test_export_one_vhost(ctl: Ctl) -> None:
    _populate(ctl)
    defs = json_out(ctl("export_definitions", "-p", "prod"))
    assert [q["name"] for q in defs["queues"]] == ["orders"]
    assert "users" not in defs or defs["users"] == []
    fails(ctl("export_definitions", "-p", "nope"), r"404 Not Found")


def test_round_trip_to_fresh_broker(ctl: Ctl, fresh_broker: BrokerThread, tmp_path: Path) -> None:
    _populate(ctl)
    file = tmp_path / "defs.json"
    out = ok(ctl("export_definitions", str(file)))
    assert out == f"Exported definitions for all virtual hosts to {file}\n"
    exported = orjson.loads(file.read_bytes())

    target = ("--uri", fresh_broker.http_url)
    assert [v["name"] for v in json_out(invoke(*target, "-f", "json", "list_vhosts"))] == ["/"]
    out = ok(invoke(*target, "import_definitions", str(file)))
    assert out == f"Importing definitions for all virtual hosts from {file} ...\n"

    reexported = json_out(invoke(*target, "export_definitions"))
    assert _portable(reexported) == _portable(exported)
    assert json_out(
        invoke(*target, "-f", "json", "-p", "prod", "list_queues", "name", "durable", "arguments")
    ) == [{"name": "orders", "durable": True, "arguments": {"x-max-length": 100}}]
    assert json_out(invoke(*target, "-f", "json", "-p", "prod", "list_vhost_limits")) == [
        {"vhost": "prod", "limits": {"max-queues": 50}}
    ]
    # the imported user logs in with the password it had on the first broker
    ok(invoke("--uri", fresh_broker.http_url, "--user", "ops", "--password", "pw", "status"))


def test_import_from_stdin_into_vhost(ctl: Ctl) -> None:
    ok(ctl("add_vhost", "dst"))
    defs = {
        "queues": [{"name": "from-stdin", "durable": True, "auto_delete": False, "arguments": {}}]
    }
    ok(ctl("import_definitions", "-", "-p", "dst", input=orjson.dumps(defs).decode()))
    assert json_out(ctl("-f", "json", "-p", "dst", "list_queues", "name")) == [
        {"name": "from-stdin"}
    ]


def test_import_errors(ctl: Ctl, tmp_path: Path) -> None:
    fails(
        ctl("import_definitions", str(tmp_path / "missing.json")),
        r"cannot read .*missing.json: No such file or directory",
    )
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    fails(ctl("import_definitions", str(bad)), r"definitions in .*bad.json is not valid JSON")
    bad.write_text('{"queues": "not a list"}')
    fails(ctl("import_definitions", str(bad)), r"400 Bad Request")
    fails(ctl("export_definitions", str(tmp_path / "no" / "dir.json")), r"cannot write")


def test_status(ctl: Ctl) -> None:
    ok(ctl("create_queue", "q"))
    lines = ok(ctl("status")).splitlines()
    keys = [line.split(":", 1)[0] for line in lines]
    assert keys == [
        "Version",
        "Node",
        "Uptime",
        "Connections",
        "Channels",
        "Consumers",
        "Exchanges",
        "Queues",
        "Bindings",
        "Messages",
        "Messages_ready",
        "Messages_unacked",
    ]
    assert "Queues: 1" in lines
    record = json_out(ctl("status", "--format=json"))
    assert record["Version"] and record["Node"] and record["Queues"] == 1
    assert record["Bindings"] is not None


def test_cluster_status(ctl: Ctl) -> None:
    record = json_out(ctl("-f", "json", "cluster_status"))
    assert record["this_node"] and record["version"]
    assert record["followers"] == []
    lines = ok(ctl("cluster_status")).splitlines()
    assert lines[0].startswith("this_node: ")
