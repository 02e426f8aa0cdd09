"""Client exceptions.

Server closes are reported as :class:`ChannelClosed` (Channel.Close) and
:class:`ConnectionClosed` (Connection.Close, or the socket going away). Both are
:class:`~lavinmq.amqp.errors.AMQPError` subclasses, and constructing one picks a cached
subclass that also derives from the codec's class for the reply code, so callers can
catch by protocol meaning or by scope::

    try:
        await ch.queue_declare("missing", passive=True)
    except NotFound:              # lavinmq.amqp.errors.NotFound
        ...
    except ChannelClosed as exc:  # any other channel-level close
        print(exc.reply_code, exc.reply_text)

``ChannelClosed(404, "NOT_FOUND - ...")`` therefore returns an instance of
``ChannelClosed[NotFound]``, a subclass of both ``ChannelClosed`` and ``NotFound``.
Codes without a registered class (200 for a normal close, 0 for a lost socket) get a
subclass that only fixes ``reply_code``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from lavinmq.amqp.errors import ERRORS_BY_CODE, AMQPError

CONNECTION_LOST = 0
"""``reply_code`` of a :class:`ConnectionClosed` raised because the socket went away."""

_CODE_NAMES = {200: "REPLY_SUCCESS", CONNECTION_LOST: "CONNECTION_LOST"}


class ClientError(Exception):
    """Misuse of the client or a local failure that is not a server reply code."""


class ConnectError(ClientError, OSError):
    """The TCP (or TLS) connection to the broker could not be established."""


class PublishNacked(ClientError):
    """The broker nacked at least one message published under publisher confirms."""


class _Closed(AMQPError):
    """Shared behaviour of :class:`ChannelClosed` and :class:`ConnectionClosed`."""

    _by_code: ClassVar[dict[int, type[_Closed]]]

    def __new__(
        cls, reply_code: int, reply_text: str = "", class_id: int = 0, method_id: int = 0
    ) -> Self:
        if "_by_code" in cls.__dict__:
            cls = cls._subclass_for(reply_code)
        return super().__new__(cls)

    def __init__(
        self, reply_code: int, reply_text: str = "", class_id: int = 0, method_id: int = 0
    ) -> None:
        prefix = f"{self.name} - "
        text = reply_text.removeprefix(prefix)
        super().__init__(text, class_id, method_id)
        self.args = (reply_code, reply_text, class_id, method_id)
        self._reply_text = reply_text or self.name

    @property
    def reply_text(self) -> str:
        """The reply text exactly as the server sent it (``"NOT_FOUND - no queue ..."``)."""
        return self._reply_text

    def __str__(self) -> str:
        if self.reply_code == CONNECTION_LOST:
            return self._reply_text
        return f"{self.reply_code} {self._reply_text}"

    def __reduce__(self) -> tuple[Any, ...]:
        base = next(c for c in type(self).__mro__ if "_by_code" in c.__dict__)
        return (base, self.args)

    def copy(self) -> Self:
        """A fresh exception with the same arguments (re-raising one instance grows its traceback)."""
        return type(self)(*self.args)

    @classmethod
    def _subclass_for(cls, reply_code: int) -> type[Self]:
        sub = cls._by_code.get(reply_code)
        if sub is None:
            registered = ERRORS_BY_CODE.get(reply_code)
            if registered is not None:
                bases: tuple[type, ...] = (cls, registered)
                name = registered.name
                label = registered.__name__
            else:
                bases = (cls,)
                name = _CODE_NAMES.get(reply_code, f"REPLY_{reply_code}")
                label = str(reply_code)
            attrs = {"reply_code": reply_code, "name": name, "__module__": cls.__module__}
            sub = type(f"{cls.__name__}[{label}]", bases, attrs)
            cls._by_code[reply_code] = sub
        return sub  # type: ignore[return-value]


class ChannelClosed(_Closed):
    """The channel was closed: by the server (Channel.Close), by the client, or with its connection.

    Args:
        reply_code: the AMQP reply code (404, 406, ...; 200 for a normal close).
        reply_text: the reply text as sent by the server.
        class_id: the class id of the method that caused the close, 0 when none.
        method_id: the method id of the method that caused the close, 0 when none.
    """

    _by_code: ClassVar[dict[int, type[_Closed]]] = {}


class ConnectionClosed(_Closed):
    """The connection was closed by the server (Connection.Close), the client, or the network.

    A lost socket uses ``reply_code`` :data:`CONNECTION_LOST` (0).

    Args:
        reply_code: the AMQP reply code (320, 403, 530, ...; 200 for a normal close).
        reply_text: the reply text as sent by the server, or a description of the failure.
        class_id: the class id of the method that caused the close, 0 when none.
        method_id: the method id of the method that caused the close, 0 when none.
    """

    _by_code: ClassVar[dict[int, type[_Closed]]] = {}


__all__ = [
    "CONNECTION_LOST",
    "ChannelClosed",
    "ClientError",
    "ConnectError",
    "ConnectionClosed",
    "PublishNacked",
]
