"""Management-API views of live connections and channels (RabbitMQ's JSON shapes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lavinmq.server.channel import Channel
    from lavinmq.server.protocol import AMQPProtocol


def connection_details(conn: AMQPProtocol) -> dict[str, Any]:
    props = conn.client_properties
    return {
        "name": conn.name,
        "vhost": conn.vhost_name,
        "user": conn.user_name,
        "protocol": "AMQP 0-9-1",
        "auth_mechanism": "PLAIN",
        "host": conn.local[0],
        "port": conn.local[1],
        "peer_host": conn.peer[0],
        "peer_port": conn.peer[1],
        "ssl": conn.tls,
        "state": "closing" if conn.closing else ("blocked" if not conn.writable else "running"),
        "channels": len(conn.channels),
        "channel_max": conn.channel_max,
        "frame_max": conn.frame_max,
        "timeout": conn.heartbeat,
        "connected_at": int(conn.connected_at * 1000),
        "client_properties": props,
        "recv_oct": conn.stat_recv_oct,
        "send_oct": conn.stat_send_oct,
        "type": "network",
        "node": "lavinmq@localhost",
    }


def channel_details(ch: Channel) -> dict[str, Any]:
    conn = ch.conn
    return {
        "name": f"{conn.name} ({ch.number})",
        "number": ch.number,
        "vhost": ch.vhost.name,
        "user": conn.user_name,
        "connection_details": {
            "name": conn.name,
            "peer_host": conn.peer[0],
            "peer_port": conn.peer[1],
        },
        "consumer_count": len(ch.consumers),
        "messages_unacknowledged": len(ch.unacked),
        "prefetch_count": ch.prefetch_count,
        "global_prefetch_count": ch.global_prefetch,
        "confirm": ch.confirm,
        "transactional": ch.in_tx,
        "state": "flow" if not ch.flow_active else ("closing" if ch.closing else "running"),
        "node": "lavinmq@localhost",
    }
