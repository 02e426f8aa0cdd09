"""Turning client exceptions into one-line messages for the user."""

from __future__ import annotations

from lavinmq.client import ChannelClosed, ConnectError, ConnectionClosed


class PerfError(Exception):
    """A run cannot go on: the message says why (printed as ``lavinmqperf: <message>``)."""


def describe(exc: BaseException) -> str:
    """A short, specific explanation of ``exc`` (unreachable broker, refused login, ...)."""
    if isinstance(exc, ConnectError):
        return f"{exc} (is the broker running, and is the URI right?)"
    if isinstance(exc, ConnectionClosed):
        if exc.reply_code == 403:
            return f"access refused, check the user name and password in --uri: {exc}"
        if exc.reply_code == 530:
            return f"not allowed, check the vhost in --uri: {exc}"
        return f"the broker closed the connection: {exc}"
    if isinstance(exc, ChannelClosed):
        return f"the broker refused an operation: {exc}"
    if isinstance(exc, TimeoutError):
        return "timed out connecting to the broker"
    if isinstance(exc, PerfError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


__all__ = ["PerfError", "describe"]
