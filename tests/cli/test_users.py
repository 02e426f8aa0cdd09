"""add_user, delete_user, list_users, change_password, set_user_tags, hash_password and the
permission commands."""

from __future__ import annotations

import base64
import hashlib

import orjson

from lavinmq.auth.password import verify_password
from lavinmqctl.commands.users import hash_password_sha256, split_tags
from tests.broker_thread import BrokerThread
from tests.cli.conftest import Ctl, fails, invoke, json_out, ok, table


def test_list_users_table(ctl: Ctl) -> None:
    out = ok(ctl("list_users"))
    lines = out.splitlines()
    assert lines[0] == "Listing users ..."
    assert table("\n".join(lines[1:])) == [["name", "tags"], ["guest", "administrator"]]


def test_list_users_json_and_columns(ctl: Ctl) -> None:
    assert json_out(ctl("list_users", "--format=json")) == [
        {"name": "guest", "tags": ["administrator"]}
    ]
    assert json_out(ctl("-f", "json", "list_users", "name")) == [{"name": "guest"}]


def test_add_user_then_it_can_log_in(ctl: Ctl, broker: BrokerThread) -> None:
    out = ok(ctl("add_user", "alice", "s3cret", "--tags", "administrator"))
    assert out == 'Adding user "alice" ...\n'
    rows = json_out(ctl("list_users", "-f", "json"))
    assert {"name": "alice", "tags": ["administrator"]} in rows
    as_alice = invoke(
        "--uri",
        broker.http_url,
        "--user",
        "alice",
        "--password",
        "s3cret",
        "-q",
        "list_users",
        "name",
    )
    assert table(ok(as_alice)) == [["name"], ["guest"], ["alice"]]


def test_add_user_quiet_prints_nothing(ctl: Ctl) -> None:
    assert ok(ctl("-q", "add_user", "bob", "pw")) == ""
    assert ok(ctl("add_user", "carol", "pw", "--quiet")) == ""


def test_add_existing_user_fails(ctl: Ctl) -> None:
    fails(ctl("add_user", "guest", "x"), r"user 'guest' already exists")


def test_add_user_missing_password_is_a_usage_error(ctl: Ctl) -> None:
    result = ctl("add_user", "dave")
    assert result.exit_code == 2
    assert "Missing argument 'PASSWORD'" in result.stderr


def test_delete_user(ctl: Ctl) -> None:
    ok(ctl("add_user", "erin", "pw"))
    assert ok(ctl("delete_user", "erin")) == 'Deleting user "erin" ...\n'
    assert [u["name"] for u in json_out(ctl("-f", "json", "list_users"))] == ["guest"]


def test_delete_missing_user_is_404(ctl: Ctl) -> None:
    fails(ctl("delete_user", "nobody"), r"^Error: 404 Not Found: user 'nobody' not found$")


def test_change_password_keeps_tags(ctl: Ctl, broker: BrokerThread) -> None:
    ok(ctl("add_user", "frank", "old", "--tags", "administrator"))
    ok(ctl("change_password", "frank", "new"))
    new = invoke("--uri", broker.http_url, "--user", "frank", "--password", "new", "list_users")
    assert "frank" in ok(new)
    old = invoke("--uri", broker.http_url, "--user", "frank", "--password", "old", "list_users")
    fails(old, r"401 Unauthorized")


def test_change_password_of_missing_user_is_404(ctl: Ctl) -> None:
    fails(ctl("change_password", "nobody", "pw"), r"404 Not Found: user 'nobody' not found")


def test_set_user_tags_keeps_password(ctl: Ctl, broker: BrokerThread) -> None:
    ok(ctl("add_user", "gina", "pw"))
    ok(ctl("set_user_tags", "gina", "administrator", "monitoring,policymaker"))
    rows = json_out(ctl("-f", "json", "list_users"))
    assert {"name": "gina", "tags": ["administrator", "monitoring", "policymaker"]} in rows
    as_gina = invoke("--uri", broker.http_url, "--user", "gina", "--password", "pw", "status")
    ok(as_gina)
    ok(ctl("set_user_tags", "gina"))
    assert {"name": "gina", "tags": []} in json_out(ctl("-f", "json", "list_users"))


def test_set_user_tags_of_missing_user_is_404(ctl: Ctl) -> None:
    fails(ctl("set_user_tags", "nobody", "administrator"), r"404 Not Found")


def test_hash_password_is_rabbitmq_sha256() -> None:
    result = invoke("hash_password", "hunter2")
    digest = ok(result).strip()
    assert verify_password("hunter2", digest, "rabbit_password_hashing_sha256")
    assert not verify_password("hunter3", digest, "rabbit_password_hashing_sha256")
    as_json = json_out(invoke("-f", "json", "hash_password", "x"))
    assert isinstance(as_json, str) and verify_password("x", as_json, "SHA256")


def test_hash_password_layout() -> None:
    """base64(salt + sha256(salt + password)), the 4-byte salt first."""
    salt = bytes.fromhex("908dc60a")
    raw = base64.b64decode(hash_password_sha256("test12", salt))
    assert raw == salt + hashlib.sha256(salt + b"test12").digest()


def test_hash_password_prompts_when_omitted() -> None:
    result = invoke("hash_password", input="from-prompt\n")
    digest = ok(result).strip().splitlines()[-1]
    assert verify_password("from-prompt", digest, "rabbit_password_hashing_sha256")


def test_hashed_password_works_as_imported_user(ctl: Ctl, broker: BrokerThread) -> None:
    digest = ok(invoke("hash_password", "pw")).strip()
    defs = {
        "users": [
            {
                "name": "hank",
                "password_hash": digest,
                "tags": "administrator",
                "hashing_algorithm": "rabbit_password_hashing_sha256",
            }
        ]
    }
    ok(ctl("import_definitions", "-", input=orjson.dumps(defs).decode()))
    ok(invoke("--uri", broker.http_url, "--user", "hank", "--password", "pw", "status"))


def test_split_tags() -> None:
    assert split_tags(["a", "b,c", " d , ", ""]) == "a,b,c,d"


def test_set_list_clear_permissions(ctl: Ctl) -> None:
    ok(ctl("add_user", "ivan", "pw"))
    ok(ctl("add_vhost", "v1"))
    out = ok(ctl("set_permissions", "-p", "v1", "ivan", "^conf", "^write", "^read"))
    assert out == 'Setting permissions for user "ivan" in vhost "v1" ...\n'
    rows = json_out(ctl("list_permissions", "-p", "v1", "--format", "json"))
    assert {"user": "ivan", "configure": "^conf", "write": "^write", "read": "^read"} in rows
    rows = json_out(ctl("-f", "json", "list_user_permissions", "ivan"))
    assert rows == [{"vhost": "v1", "configure": "^conf", "write": "^write", "read": "^read"}]
    ok(ctl("clear_permissions", "ivan", "-p", "v1"))
    assert json_out(ctl("-f", "json", "list_user_permissions", "ivan")) == []


def test_list_permissions_table(ctl: Ctl) -> None:
    assert table(ok(ctl("-q", "list_permissions"))) == [
        ["user", "configure", "write", "read"],
        ["guest", ".*", ".*", ".*"],
    ]


def test_global_vhost_applies_to_permissions(ctl: Ctl) -> None:
    ok(ctl("add_vhost", "v2"))
    ok(ctl("-p", "v2", "set_permissions", "guest", "a", "b", "c"))
    rows = json_out(ctl("-p", "v2", "-f", "json", "list_permissions"))
    assert rows == [{"user": "guest", "configure": "a", "write": "b", "read": "c"}]


def test_permission_errors(ctl: Ctl) -> None:
    fails(ctl("set_permissions", "nobody", ".*", ".*", ".*"), r"404 Not Found")
    fails(ctl("set_permissions", "-p", "novhost", "guest", ".*", ".*", ".*"), r"404 Not Found")
    fails(ctl("clear_permissions", "-p", "novhost", "guest"), r"404 Not Found")
    fails(ctl("list_permissions", "-p", "novhost"), r"404 Not Found")
    fails(ctl("set_permissions", "guest", "(", ".*", ".*"), r"400 Bad Request")
