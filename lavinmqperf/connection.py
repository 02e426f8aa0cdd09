"""A client connection whose received bytes can bypass the codec (fast consumers)."""

from __future__ import annotations

import socket
from collections.abc import Callable

from lavinmq.client import Connection


class PerfConnection(Connection):
    """:class:`lavinmq.client.Connection` with a switchable raw receiver.

    While :attr:`receiver` is set, every received chunk goes to it instead of the codec;
    it hands the frames it does not handle itself to :meth:`forward`. Set it only between
    requests (no reply frame half-parsed by the codec), e.g. right before Basic.Consume.
    """

    receiver: Callable[[bytes], None] | None = None

    def data_received(self, data: bytes) -> None:
        receiver = self.receiver
        if receiver is None:
            Connection.data_received(self, data)
        else:
            self._heartbeat.received = True  # the codec path would have marked it
            receiver(data)

    def forward(self, frames: bytes) -> None:
        """Process complete frames through the regular codec path."""
        Connection.data_received(self, frames)

    def socket(self) -> socket.socket | None:
        """The connection's socket (``None`` when not connected)."""
        if self._transport is None:
            return None
        sock: socket.socket | None = self._transport.get_extra_info("socket")
        return sock

    def pause_reading(self) -> None:
        """Stop reading from the socket (consume rate limits)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        """Resume reading from the socket."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()


__all__ = ["PerfConnection"]
