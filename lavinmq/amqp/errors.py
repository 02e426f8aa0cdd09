"""AMQP errors keyed by reply code, split by who must close: channel or connection.

``SoftError`` subclasses close the channel (Channel.Close); ``HardError`` subclasses close
the connection (Connection.Close). The server maps them to close frames at its edge, once.
``reply_text`` follows RabbitMQ's shape: ``"NOT_FOUND - no queue 'q' in vhost '/'"``.
"""

from __future__ import annotations

from typing import ClassVar


class AMQPError(Exception):
    """A protocol error with an AMQP reply code.

    Args:
        text: the human readable reason (without the code name prefix).
        class_id: the class id of the method that failed, 0 when none.
        method_id: the method id of the method that failed, 0 when none.
    """

    reply_code: ClassVar[int] = 541
    name: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, text: str = "", class_id: int = 0, method_id: int = 0) -> None:
        super().__init__(text)
        self.text = text
        self.class_id = class_id
        self.method_id = method_id

    @property
    def reply_text(self) -> str:
        """The reply text as sent in a close frame (at most 255 bytes)."""
        full = f"{self.name} - {self.text}" if self.text else self.name
        return full.encode()[:255].decode(errors="ignore")

    def with_method(self, class_id: int, method_id: int) -> AMQPError:
        """Fill in the failing method when it was not known where the error was raised."""
        if not self.class_id:
            self.class_id, self.method_id = class_id, method_id
        return self


class SoftError(AMQPError):
    """A channel-level error: the server closes the channel."""


class HardError(AMQPError):
    """A connection-level error: the server closes the connection."""


ERRORS_BY_CODE: dict[int, type[AMQPError]] = {}


def _register(cls: type[AMQPError]) -> type[AMQPError]:
    if cls.reply_code in ERRORS_BY_CODE:
        raise RuntimeError(f"duplicate AMQP error code {cls.reply_code}")
    ERRORS_BY_CODE[cls.reply_code] = cls
    return cls


@_register
class ContentTooLarge(SoftError):
    reply_code = 311
    name = "CONTENT_TOO_LARGE"


@_register
class NoRoute(SoftError):
    reply_code = 312
    name = "NO_ROUTE"


@_register
class NoConsumers(SoftError):
    reply_code = 313
    name = "NO_CONSUMERS"


@_register
class AccessRefused(SoftError):
    reply_code = 403
    name = "ACCESS_REFUSED"


@_register
class NotFound(SoftError):
    reply_code = 404
    name = "NOT_FOUND"


@_register
class ResourceLocked(SoftError):
    reply_code = 405
    name = "RESOURCE_LOCKED"


@_register
class PreconditionFailed(SoftError):
    reply_code = 406
    name = "PRECONDITION_FAILED"


@_register
class ConnectionForced(HardError):
    reply_code = 320
    name = "CONNECTION_FORCED"


@_register
class InvalidPath(HardError):
    reply_code = 402
    name = "INVALID_PATH"


@_register
class FrameError(HardError):
    reply_code = 501
    name = "FRAME_ERROR"


@_register
class SyntaxError_(HardError):  # noqa: N801 - trailing underscore avoids the builtin
    reply_code = 502
    name = "SYNTAX_ERROR"


@_register
class CommandInvalid(HardError):
    reply_code = 503
    name = "COMMAND_INVALID"


@_register
class ChannelError(HardError):
    reply_code = 504
    name = "CHANNEL_ERROR"


@_register
class UnexpectedFrame(HardError):
    reply_code = 505
    name = "UNEXPECTED_FRAME"


@_register
class ResourceError(HardError):
    reply_code = 506
    name = "RESOURCE_ERROR"


@_register
class NotAllowed(HardError):
    reply_code = 530
    name = "NOT_ALLOWED"


@_register
class NotImplemented_(HardError):  # noqa: N801 - trailing underscore avoids the builtin
    reply_code = 540
    name = "NOT_IMPLEMENTED"


@_register
class InternalError(HardError):
    reply_code = 541
    name = "INTERNAL_ERROR"


def error_for_code(code: int, text: str = "", class_id: int = 0, method_id: int = 0) -> AMQPError:
    """Build the error class registered for ``code`` (InternalError when unknown)."""
    return ERRORS_BY_CODE.get(code, InternalError)(text, class_id, method_id)
