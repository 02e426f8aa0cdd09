"""A channel: method dispatch, close handshake, flow, qos and cleanup.

The method handlers are split by concern into mixins: ``EntityHandlers`` (exchange and
queue methods), ``BasicHandlers`` (consume, get, ack...), ``PublishHandlers`` (publish,
confirms, transactions). They all work on the state declared in ``ChannelState``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lavinmq.amqp import spec
from lavinmq.amqp.errors import AMQPError, ChannelError, CommandInvalid
from lavinmq.amqp.frames import method_frame
from lavinmq.server.channel_basic import BasicHandlers
from lavinmq.server.channel_entities import EntityHandlers
from lavinmq.server.channel_state import ChannelState
from lavinmq.server.publish_batch import BatchPublishHandlers

if TYPE_CHECKING:
    from lavinmq.server.protocol import AMQPProtocol

log = logging.getLogger(__name__)


class Channel(BatchPublishHandlers, BasicHandlers, EntityHandlers, ChannelState):
    """One open AMQP channel of a connection."""

    def __init__(self, conn: AMQPProtocol, number: int) -> None:
        ChannelState.__init__(self, conn, number)
        BatchPublishHandlers.__init__(self)

    def on_method(self, method: spec.Method) -> None:
        """Dispatch a method (without content) received on this channel."""
        if self.closing:
            if isinstance(method, spec.ChannelCloseOk):
                self._finish_close()
            elif isinstance(method, spec.ChannelClose):
                self.send(spec.ChannelCloseOk())
                self._finish_close()
            return
        handler = _HANDLERS.get(type(method))
        if handler is None:
            raise CommandInvalid(f"{method.NAME} not allowed on a channel")
        try:
            handler(self, method)
        except AMQPError as exc:
            raise exc.with_method(method.CLASS_ID, method.METHOD_ID) from None

    def on_content(self, method: spec.Method, properties: bytes, body: bytes) -> None:
        if self.closing:
            return
        self.on_publish(method, properties, body)  # type: ignore[arg-type]

    # -- channel class ------------------------------------------------------------------

    def _channel_open(self, m: spec.ChannelOpen) -> None:
        raise ChannelError(f"second 'channel.open' seen on channel {self.number}")

    def _channel_close(self, m: spec.ChannelClose) -> None:
        self.cleanup()
        self.send(spec.ChannelCloseOk())
        self._forget()

    def _channel_close_ok(self, m: spec.ChannelCloseOk) -> None:
        """A Close-Ok we did not ask for: ignore it, as RabbitMQ does."""

    def _channel_flow(self, m: spec.ChannelFlow) -> None:
        self.flow_active = m.active
        self.send(spec.ChannelFlowOk(m.active))
        if m.active:
            self.resume_deliveries()

    def _channel_flow_ok(self, m: spec.ChannelFlowOk) -> None:
        """Reply to a server-sent Channel.Flow; the broker never sends one."""

    def _access_request(self, m: spec.AccessRequest) -> None:
        self.send(spec.AccessRequestOk(1))

    def close_with(self, exc: AMQPError) -> None:
        """Server-initiated close for a soft error: Channel.Close, then await Close-Ok."""
        if self.closing:
            return
        self.cleanup()
        self.closing = True
        self.conn.codec.discard_channel(self.number)
        self.send(spec.ChannelClose(exc.reply_code, exc.reply_text, exc.class_id, exc.method_id))

    def _finish_close(self) -> None:
        self._forget()

    def _forget(self) -> None:
        self.conn.codec.reset_channel(self.number)
        if self.conn.channels.get(self.number) is self:
            del self.conn.channels[self.number]

    def cleanup(self) -> None:
        """Release everything: cancel consumers, requeue unacked messages, drop tx state."""
        if self.cleaned:
            return
        self.cleaned = True
        self.cancel_all_consumers()
        self.discard_tx()
        self.requeue_all_unacked()

    def send(self, method: spec.Method) -> None:
        self.conn.send(method_frame(self.number, method))

    def details(self) -> dict[str, Any]:
        from lavinmq.server.info import channel_details  # cold path: imported on first use

        return channel_details(self)


_HANDLERS: dict[type[spec.Method], Any] = {
    spec.ChannelOpen: Channel._channel_open,
    spec.ChannelClose: Channel._channel_close,
    spec.ChannelCloseOk: Channel._channel_close_ok,
    spec.ChannelFlow: Channel._channel_flow,
    spec.ChannelFlowOk: Channel._channel_flow_ok,
    spec.AccessRequest: Channel._access_request,
    spec.ExchangeDeclare: Channel.exchange_declare,
    spec.ExchangeDelete: Channel.exchange_delete,
    spec.ExchangeBind: Channel.exchange_bind,
    spec.ExchangeUnbind: Channel.exchange_unbind,
    spec.QueueDeclare: Channel.queue_declare,
    spec.QueueBind: Channel.queue_bind,
    spec.QueueUnbind: Channel.queue_unbind,
    spec.QueuePurge: Channel.queue_purge,
    spec.QueueDelete: Channel.queue_delete,
    spec.BasicQos: Channel.basic_qos,
    spec.BasicConsume: Channel.basic_consume,
    spec.BasicCancel: Channel.basic_cancel,
    spec.BasicCancelOk: Channel.basic_cancel_ok,
    spec.BasicGet: Channel.basic_get,
    spec.BasicAck: Channel.basic_ack,
    spec.BasicReject: Channel.basic_reject,
    spec.BasicNack: Channel.basic_nack,
    spec.BasicRecoverAsync: Channel.basic_recover_async,
    spec.BasicRecover: Channel.basic_recover,
    spec.ConfirmSelect: Channel.confirm_select,
    spec.TxSelect: Channel.tx_select,
    spec.TxCommit: Channel.tx_commit,
    spec.TxRollback: Channel.tx_rollback,
}
