"""Exchange types by their AMQP type name."""

from __future__ import annotations

from lavinmq.broker.exchange.base import Destination, Exchange, args_key
from lavinmq.broker.exchange.direct import DefaultExchange, DirectExchange
from lavinmq.broker.exchange.fanout import FanoutExchange
from lavinmq.broker.exchange.headers import HeadersExchange
from lavinmq.broker.exchange.topic import TopicExchange

EXCHANGE_TYPES: dict[str, type[Exchange]] = {
    "direct": DirectExchange,
    "fanout": FanoutExchange,
    "topic": TopicExchange,
    "headers": HeadersExchange,
}

__all__ = [
    "EXCHANGE_TYPES",
    "DefaultExchange",
    "Destination",
    "DirectExchange",
    "Exchange",
    "FanoutExchange",
    "HeadersExchange",
    "TopicExchange",
    "args_key",
]
