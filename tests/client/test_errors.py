from __future__ import annotations

import pickle

import pytest

from lavinmq.amqp.errors import (
    AccessRefused,
    AMQPError,
    ChannelError,
    HardError,
    NotFound,
    SoftError,
)
from lavinmq.client import CONNECTION_LOST, ChannelClosed, ConnectionClosed


def test_channel_closed_is_the_codec_error_for_its_code() -> None:
    exc = ChannelClosed(404, "NOT_FOUND - no queue 'q' in vhost '/'", 50, 10)
    assert isinstance(exc, ChannelClosed)
    assert isinstance(exc, NotFound)
    assert isinstance(exc, SoftError)
    assert isinstance(exc, AMQPError)
    assert not isinstance(exc, ConnectionClosed)
    assert (exc.reply_code, exc.class_id, exc.method_id) == (404, 50, 10)
    assert exc.reply_text == "NOT_FOUND - no queue 'q' in vhost '/'"
    assert exc.text == "no queue 'q' in vhost '/'"
    assert str(exc) == "404 NOT_FOUND - no queue 'q' in vhost '/'"
    assert type(exc).__name__ == "ChannelClosed[NotFound]"


def test_subclasses_are_cached_per_base_and_code() -> None:
    assert type(ChannelClosed(404, "a")) is type(ChannelClosed(404, "b"))
    assert not isinstance(ChannelClosed(404), ConnectionClosed)


def test_connection_closed_codes() -> None:
    hard = ConnectionClosed(504, "CHANNEL_ERROR - expected 'channel.open'")
    assert isinstance(hard, ChannelError)
    assert isinstance(hard, HardError)
    refused = ConnectionClosed(403, "ACCESS_REFUSED - Login was refused")
    assert isinstance(refused, AccessRefused)
    with pytest.raises(AccessRefused, match="Login was refused"):
        raise refused


def test_codes_without_a_registered_class() -> None:
    normal = ChannelClosed(200, "channel closed by the client")
    assert normal.reply_code == 200
    assert normal.name == "REPLY_SUCCESS"
    assert isinstance(normal, ChannelClosed)
    lost = ConnectionClosed(CONNECTION_LOST, "connection lost: reset")
    assert str(lost) == "connection lost: reset"


def test_copy_and_pickle_keep_the_class() -> None:
    exc = ChannelClosed(406, "PRECONDITION_FAILED - inequivalent arg", 50, 10)
    assert type(exc.copy()) is type(exc)
    assert exc.copy() is not exc
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is type(exc)
    assert clone.args == exc.args
