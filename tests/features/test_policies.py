"""Policies and operator policies applied live, through the management API as operators do."""

from __future__ import annotations

import requests

from tests.broker_thread import BrokerThread
from tests.features.helpers import count, eventually, get_all, publish

AUTH = ("guest", "guest")


def _put(broker: BrokerThread, path: str, body: dict[str, object]) -> None:
    r = requests.put(f"{broker.http_url}/api/{path}", json=body, auth=AUTH, timeout=5)
    assert r.status_code in (201, 204), r.text


def test_policy_max_length_and_dead_letter_apply_to_existing_queue(
    broker: BrokerThread, ch
) -> None:
    ch.exchange_declare("pol-dlx", "fanout")
    ch.queue_declare("pol-dead")
    ch.queue_bind("pol-dead", "pol-dlx")
    ch.queue_declare("pol-q")
    _put(
        broker,
        "policies/%2F/limit",
        {
            "pattern": "^pol-q$",
            "apply-to": "queues",
            "priority": 1,
            "definition": {"max-length": 2, "dead-letter-exchange": "pol-dlx"},
        },
    )
    for i in range(4):
        publish(ch, "pol-q", b"%d" % i)
    assert [b for _, _, b in get_all(ch, "pol-q")] == [b"2", b"3"]
    eventually(ch, lambda: count(ch, "pol-dead") == 2)
    info = requests.get(f"{broker.http_url}/api/queues/%2F/pol-q", auth=AUTH, timeout=5).json()
    assert info["policy"] == "limit"
    assert info["effective_policy_definition"]["max-length"] == 2


def test_operator_policy_lowest_value_wins(broker: BrokerThread, ch) -> None:
    ch.queue_declare("op-q", arguments={"x-max-length": 5})
    _put(
        broker,
        "operator-policies/%2F/cap",
        {"pattern": "^op-", "apply-to": "queues", "definition": {"max-length": 1}},
    )
    for i in range(3):
        publish(ch, "op-q", b"%d" % i)
    assert count(ch, "op-q") == 1


def test_alternate_exchange_by_policy(broker: BrokerThread, ch) -> None:
    ch.exchange_declare("pae", "fanout")
    ch.queue_declare("pae-q")
    ch.queue_bind("pae-q", "pae")
    ch.exchange_declare("pmain", "direct")
    _put(
        broker,
        "policies/%2F/ae",
        {
            "pattern": "^pmain$",
            "apply-to": "exchanges",
            "definition": {"alternate-exchange": "pae"},
        },
    )
    publish(ch, "nowhere", b"stray", exchange="pmain")
    assert [b for _, _, b in get_all(ch, "pae-q")] == [b"stray"]
