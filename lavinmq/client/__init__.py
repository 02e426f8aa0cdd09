"""A small, fast asyncio AMQP 0-9-1 client on the sans-IO codec in :mod:`lavinmq.amqp`.

::

    from lavinmq.client import connect

    async with connect("amqp://guest:guest@127.0.0.1:5672/%2f") as conn:
        async with conn.channel() as ch:
            name, _, _ = await ch.queue_declare("", exclusive=True)
            ch.basic_publish(b"hello", routing_key=name)
            msg = await ch.basic_get(name, no_ack=True)

It depends only on :mod:`lavinmq.amqp` and the standard library, and runs on any
asyncio loop (uvloop recommended for throughput).
"""

from lavinmq.amqp.properties import BasicProperties
from lavinmq.client.channel import Channel
from lavinmq.client.connection import Connection
from lavinmq.client.connector import connect
from lavinmq.client.consumer import ConsumerIterator
from lavinmq.client.errors import (
    CONNECTION_LOST,
    ChannelClosed,
    ClientError,
    ConnectError,
    ConnectionClosed,
    PublishNacked,
)
from lavinmq.client.message import Message
from lavinmq.client.url import ConnectionParameters, parse_url

__all__ = [
    "CONNECTION_LOST",
    "BasicProperties",
    "Channel",
    "ChannelClosed",
    "ClientError",
    "ConnectError",
    "Connection",
    "ConnectionClosed",
    "ConnectionParameters",
    "ConsumerIterator",
    "Message",
    "PublishNacked",
    "connect",
    "parse_url",
]
