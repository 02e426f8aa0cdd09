"""Connection-level methods on channel 0: Start/Tune/Open, Close, Blocked, Update-Secret.

Authentication supports PLAIN and AMQPLAIN, and EXTERNAL on TLS connections whose client
certificate was verified (the user is the certificate's CN, as RabbitMQ's
``rabbitmq_auth_mechanism_ssl`` with ``ssl_cert_login_from = common_name``). The default
user (guest) may only connect from loopback unless ``guest_only_loopback`` is off, as RabbitMQ.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any

from lavinmq import __version__
from lavinmq.amqp import spec
from lavinmq.amqp.errors import (
    AccessRefused,
    AMQPError,
    ChannelError,
    CommandInvalid,
    NotAllowed,
    UnexpectedFrame,
)
from lavinmq.amqp.frames import method_frame
from lavinmq.amqp.types import decode_table
from lavinmq.broker.parameters import limit_reached

if TYPE_CHECKING:
    from lavinmq.auth import User
    from lavinmq.server.protocol import AMQPProtocol

log = logging.getLogger(__name__)
MIN_FRAME_MAX = 4096
UNLIMITED_FRAME = 0xFFFFFFFF
CAPABILITIES = {
    "publisher_confirms": True,
    "exchange_exchange_bindings": True,
    "basic.nack": True,
    "consumer_cancel_notify": True,
    "connection.blocked": True,
    "consumer_priorities": True,
    "authentication_failure_close": True,
    "per_consumer_qos": True,
    "direct_reply_to": True,
}
SERVER_PROPERTIES: dict[str, Any] = {
    "product": "LavinMQ",
    "version": __version__,
    "platform": "Python",
    "information": "LavinMQ in Python, https://lavinmq.com",
    "capabilities": CAPABILITIES,
}


def parse_credentials(mechanism: str, response: bytes) -> tuple[str, str]:
    """(username, password) from a PLAIN or AMQPLAIN response.

    Raises:
        AccessRefused: for a malformed response.
        CommandInvalid: for an unsupported mechanism.
    """
    if mechanism == "PLAIN":
        parts = response.split(b"\x00")
        if len(parts) != 3:
            raise AccessRefused("malformed PLAIN response")
        return parts[1].decode(errors="replace"), parts[2].decode(errors="replace")
    if mechanism == "AMQPLAIN":
        table = _amqplain_table(response)
        login, password = table.get("LOGIN"), table.get("PASSWORD")
        if not isinstance(login, str | bytes) or not isinstance(password, str | bytes):
            raise AccessRefused("malformed AMQPLAIN response")
        return _text(login), _text(password)
    raise CommandInvalid(f"unknown authentication mechanism '{mechanism}'")  # as RabbitMQ


def _negotiation_failed(name: str, value: int, limit: int) -> NotAllowed:
    return NotAllowed(
        f"failed to negotiate connection parameters: negotiated {name} = {value} "
        f"is higher than the maximum allowed value ({limit})",
        10,
        31,
    )


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _amqplain_table(response: bytes) -> dict[str, Any]:
    # Clients send the table without its length prefix (RabbitMQ parses it that way);
    # accept the prefixed form too.
    for data in (len(response).to_bytes(4, "big") + response, response):
        try:
            table, end = decode_table(data, 0)
        except (AMQPError, ValueError, IndexError):
            continue
        if end == len(data):
            return table
    raise AccessRefused("malformed AMQPLAIN response")


def peer_cert_name(conn: AMQPProtocol) -> str:
    """The CN of the verified client certificate of a TLS connection, else ""."""
    if not conn.tls or conn.transport is None:
        return ""
    cert = conn.transport.get_extra_info("peercert")  # {} / None unless verified
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return ""


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host in ("unix", "localhost")


class Handshake:
    """Runs the connection state machine of one AMQPProtocol."""

    __slots__ = ("conn", "expected", "opened", "sent_start")

    def __init__(self, conn: AMQPProtocol) -> None:
        self.conn = conn
        self.sent_start = False
        self.opened = False
        self.expected: type[spec.Method] | None = spec.ConnectionStartOk

    def start(self) -> None:
        self.sent_start = True
        mechanisms = b"PLAIN AMQPLAIN EXTERNAL" if peer_cert_name(self.conn) else b"PLAIN AMQPLAIN"
        properties = {**SERVER_PROPERTIES, "cluster_name": self.conn.broker.cluster_name}
        self.conn.send(
            method_frame(0, spec.ConnectionStart(0, 9, properties, mechanisms, b"en_US"))
        )

    def on_method(self, m: spec.Method) -> None:
        conn = self.conn
        if isinstance(m, spec.ConnectionCloseOk):
            conn.on_close_ok()
            return
        if conn.closing:
            if isinstance(m, spec.ConnectionClose):
                conn.send(method_frame(0, spec.ConnectionCloseOk()))
                conn.abort()
            return
        if isinstance(m, spec.ConnectionClose):
            self._client_close()
            return
        if self.expected is not None and not isinstance(m, self.expected):
            raise UnexpectedFrame(f"expected {self.expected.NAME}, got {m.NAME}")
        if self.opened and isinstance(m, _HANDSHAKE_METHODS):  # RabbitMQ's code and text
            raise ChannelError(f"unexpected method {m.NAME} in connection state running")
        handler = _HANDLERS.get(type(m))
        if handler is None:
            raise CommandInvalid(f"{m.NAME} not allowed on channel 0")
        handler(self, m)

    def _client_close(self) -> None:
        conn = self.conn
        conn.closing = True
        conn._cleanup_channels()
        conn.send(method_frame(0, spec.ConnectionCloseOk()))
        conn.abort()

    def _start_ok(self, m: spec.ConnectionStartOk) -> None:
        conn = self.conn
        conn.client_properties = m.client_properties
        username, user = self._authenticate(m)
        if user is None:
            log.warning("connection %s: authentication failure for user %r", conn.name, username)
            raise AccessRefused(
                f"Login was refused using authentication mechanism {m.mechanism}. "
                "For details see the broker logfile."
            ).with_method(10, 11)
        cfg = conn.config
        if (
            username == cfg.default_user
            and cfg.guest_only_loopback
            and not is_loopback(conn.peer[0])
        ):
            raise AccessRefused(f"user '{username}' can only connect via localhost").with_method(
                10, 11
            )
        conn.user = user
        conn.user_name = username
        self.expected = spec.ConnectionTuneOk
        conn.send(
            method_frame(0, spec.ConnectionTune(self._channel_max(), cfg.frame_max, cfg.heartbeat))
        )

    def _authenticate(self, m: spec.ConnectionStartOk) -> tuple[str, User | None]:
        """(username, the user when the credentials are good)."""
        broker = self.conn.broker
        if m.mechanism == "EXTERNAL" and peer_cert_name(self.conn):
            username = peer_cert_name(self.conn)  # the TLS layer verified the certificate
            return username, broker.users.get(username)
        username, password = parse_credentials(m.mechanism, m.response)
        user = broker.users.get(username)
        if user is None and username == broker.direct_user.name:
            user = broker.direct_user  # shovels and federation links (in memory only)
        return username, user if user is not None and user.check_password(password) else None

    def _channel_max(self) -> int:
        """The server's channel_max, lowered to the user's max-channels limit (per connection)."""
        cfg_max = self.conn.config.channel_max or 65535
        assert self.conn.user is not None
        user_max = self.conn.user.limits.get("max-channels", -1)
        return min(cfg_max, user_max) if user_max > 0 else cfg_max

    def _tune_ok(self, m: spec.ConnectionTuneOk) -> None:
        conn = self.conn
        cfg = conn.config
        if m.frame_max and m.frame_max < MIN_FRAME_MAX:
            raise NotAllowed(
                f"frame_max {m.frame_max} below the minimum {MIN_FRAME_MAX}"
            ).with_method(10, 31)
        # 0 means "no limit": refused when the server has one, as RabbitMQ and LavinMQ do.
        if cfg.frame_max and (m.frame_max == 0 or m.frame_max > cfg.frame_max):
            raise _negotiation_failed("frame_max", m.frame_max, cfg.frame_max)
        if cfg.channel_max and (m.channel_max == 0 or m.channel_max > cfg.channel_max):
            raise _negotiation_failed("channel_max", m.channel_max, cfg.channel_max)
        # 0 means "no limit" on both sides; frames are then bounded by what a u32 holds.
        conn.frame_max = m.frame_max or cfg.frame_max or UNLIMITED_FRAME
        conn.channel_max = min(m.channel_max or 65535, self._channel_max())
        conn.codec.frame_max = conn.frame_max
        conn.start_heartbeats(m.heartbeat)
        self.expected = spec.ConnectionOpen

    def _open(self, m: spec.ConnectionOpen) -> None:
        conn = self.conn
        name = m.virtual_host or "/"  # an empty vhost means the default one (LavinMQ)
        vhost = conn.broker.vhosts.get(name)
        if vhost is None:
            raise NotAllowed(f"vhost '{name}' not found").with_method(10, 40)
        assert conn.user is not None
        if name not in conn.user.permissions:
            raise NotAllowed(
                f"access to vhost '{name}' refused for user '{conn.user_name}'"
            ).with_method(10, 40)
        self._check_connection_limits(vhost.name, vhost.parameters.limits, conn.user.limits)
        conn.vhost = vhost
        conn.vhost_name = vhost.name
        self.expected = None
        self.opened = True
        conn.broker.register(conn)
        conn.send(method_frame(0, spec.ConnectionOpenOk()))
        log.info("connection %s opened (user %s, vhost %s)", conn.name, conn.user_name, vhost.name)

    def _check_connection_limits(
        self, vhost: str, vhost_limits: dict[str, int], user_limits: dict[str, int]
    ) -> None:
        broker = self.conn.broker
        user = self.conn.user_name
        limit = limit_reached(vhost_limits, "max-connections", broker.connection_count(vhost))
        if limit is not None:
            raise NotAllowed(
                f"access to vhost '{vhost}' refused for user '{user}': connection "
                f"limit ({limit}) is reached"
            ).with_method(10, 40)
        count = sum(1 for c in broker.connections.values() if c.user_name == user)
        limit = limit_reached(user_limits, "max-connections", count)
        if limit is not None:
            raise NotAllowed(
                f"Connection refused for user '{user}'. User connection limit ({limit}) is reached"
            ).with_method(10, 40)

    def _blocked(self, m: spec.Method) -> None:
        """Clients may send Blocked/Unblocked; nothing to do (RabbitMQ ignores them)."""

    def _update_secret(self, m: spec.ConnectionUpdateSecret) -> None:
        self.conn.send(method_frame(0, spec.ConnectionUpdateSecretOk()))


_HANDSHAKE_METHODS = (spec.ConnectionStartOk, spec.ConnectionTuneOk, spec.ConnectionOpen)
_HANDLERS: dict[type[spec.Method], Any] = {
    spec.ConnectionStartOk: Handshake._start_ok,
    spec.ConnectionTuneOk: Handshake._tune_ok,
    spec.ConnectionOpen: Handshake._open,
    spec.ConnectionBlocked: Handshake._blocked,
    spec.ConnectionUnblocked: Handshake._blocked,
    spec.ConnectionUpdateSecret: Handshake._update_secret,
}
