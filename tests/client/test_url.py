from __future__ import annotations

import pytest

from lavinmq.client import ConnectionParameters, parse_url


def test_defaults_and_query_parameters() -> None:
    params = parse_url(
        "amqp://guest:guest@127.0.0.1:5672/%2f?heartbeat=10&frame_max=131072&channel_max=2047"
    )
    assert params == ConnectionParameters(heartbeat=10)


def test_vhost_credentials_and_tls() -> None:
    params = parse_url(
        "amqps://us%40er:p%3Ass@broker.example:5999/my%2Fvhost?connection_timeout=2500"
    )
    assert (params.host, params.port, params.tls) == ("broker.example", 5999, True)
    assert (params.username, params.password) == ("us@er", "p:ss")
    assert params.vhost == "my/vhost"
    assert params.connection_timeout == 2.5


@pytest.mark.parametrize(
    ("url", "vhost", "port"),
    [("amqp://localhost", "/", 5672), ("amqp://localhost/", "/", 5672), ("amqps://h/v", "v", 5671)],
)
def test_vhost_and_port_defaults(url: str, vhost: str, port: int) -> None:
    params = parse_url(url)
    assert (params.vhost, params.port, params.heartbeat) == (vhost, port, None)


def test_ipv6_host() -> None:
    assert parse_url("amqp://[::1]:5673").host == "::1"


def test_bad_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported URL scheme"):
        parse_url("http://localhost")
