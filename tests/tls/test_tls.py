"""AMQPS on the TLS port and HTTPS for the management API, with certificates made here.

The server certificate is issued for ``localhost`` only, so connecting to ``127.0.0.1``
fails the client's hostname check.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pika
import pika.credentials
import pika.exceptions
import pytest
import trustme

from lavinmq.auth import Permissions
from lavinmq.client import ConnectError, ConnectionClosed, connect
from tests.broker_thread import BrokerThread


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("localhost")
    cert.private_key_pem.write_to_path(d / "key.pem")
    cert.cert_chain_pems[0].write_to_path(d / "cert.pem")
    for extra in cert.cert_chain_pems[1:]:
        with (d / "cert.pem").open("ab") as fh:
            fh.write(extra.bytes())
    ca.cert_pem.write_to_path(d / "ca.pem")
    return {
        "tls_cert_path": str(d / "cert.pem"),
        "tls_key_path": str(d / "key.pem"),
        "ca": str(d / "ca.pem"),
    }


@pytest.fixture
def tls_broker(
    tmp_path: Path, server_files: dict[str, str]
) -> Iterator[Callable[..., BrokerThread]]:
    started: list[BrokerThread] = []

    def make(**overrides: Any) -> BrokerThread:
        config = {
            "amqps_port": 0,
            "https_port": 0,
            "tls_cert_path": server_files["tls_cert_path"],
            "tls_key_path": server_files["tls_key_path"],
            **overrides,
        }
        bt = BrokerThread(tmp_path / f"data{len(started)}", **config).start()
        started.append(bt)
        return bt

    yield make
    for bt in started:
        bt.stop()
        assert not bt.errors, bt.errors


def amqps_port(bt: BrokerThread) -> int:
    assert bt.launcher is not None
    return bt.launcher.amqps_port


def client_ctx(
    ca: trustme.CA, cert: trustme.LeafCert | None = None, **kwargs: Any
) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    if cert is not None:
        cert.configure_cert(ctx)
    for key, value in kwargs.items():
        setattr(ctx, key, value)
    return ctx


async def roundtrip(url: str, ctx: ssl.SSLContext) -> bytes:
    async with connect(url, ssl=ctx) as conn:
        ch = await conn.channel()
        q, _, _ = await ch.queue_declare("", exclusive=True)
        ch.basic_publish(b"over tls", "", q)
        msg = None
        while msg is None:
            msg = await ch.basic_get(q, no_ack=True)
        return msg.body


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
async def test_amqps_roundtrip_tls12_or_13(
    tls_broker: Callable[..., BrokerThread], ca: trustme.CA
) -> None:
    bt = tls_broker()
    url = f"amqps://guest:guest@localhost:{amqps_port(bt)}/%2f"
    assert await roundtrip(url, client_ctx(ca)) == b"over tls"
    _, writer = await asyncio.open_connection("localhost", amqps_port(bt), ssl=client_ctx(ca))
    assert writer.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
    writer.close()
    old = client_ctx(
        ca, minimum_version=ssl.TLSVersion.TLSv1, maximum_version=ssl.TLSVersion.TLSv1_1
    )
    with pytest.raises((ssl.SSLError, ConnectError, ConnectionClosed)):
        await roundtrip(url, old)


def test_amqps_with_pika(tls_broker: Callable[..., BrokerThread], ca: trustme.CA) -> None:
    bt = tls_broker()
    params = pika.ConnectionParameters(
        "localhost",
        amqps_port(bt),
        ssl_options=pika.SSLOptions(client_ctx(ca), "localhost"),
        connection_attempts=1,
    )
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"pika tls")
    assert ch.basic_get(q, auto_ack=True)[2] == b"pika tls"
    conn.close()


async def test_wrong_hostname_is_rejected(
    tls_broker: Callable[..., BrokerThread], ca: trustme.CA
) -> None:
    bt = tls_broker()
    url = f"amqps://guest:guest@127.0.0.1:{amqps_port(bt)}/%2f"  # the cert says localhost
    with pytest.raises(ConnectError, match=r"(?i)mismatch|doesn't match|certificate verify failed"):
        await roundtrip(url, client_ctx(ca))
    with pytest.raises(ssl.SSLCertVerificationError):  # untrusted CA
        await asyncio.open_connection("localhost", amqps_port(bt), ssl=ssl.create_default_context())


async def test_tls_min_version_and_ciphers(
    tls_broker: Callable[..., BrokerThread], ca: trustme.CA
) -> None:
    bt = tls_broker(tls_min_version="1.3")
    url = f"amqps://guest:guest@localhost:{amqps_port(bt)}/%2f"
    with pytest.raises((ssl.SSLError, ConnectError, ConnectionClosed)):
        await roundtrip(url, client_ctx(ca, maximum_version=ssl.TLSVersion.TLSv1_2))
    assert await roundtrip(url, client_ctx(ca)) == b"over tls"

    bt = tls_broker(tls_ciphers="ECDHE-ECDSA-AES256-GCM-SHA384")
    url = f"amqps://guest:guest@localhost:{amqps_port(bt)}/%2f"
    tls12 = client_ctx(ca, maximum_version=ssl.TLSVersion.TLSv1_2)
    tls12.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    with pytest.raises((ssl.SSLError, ConnectError, ConnectionClosed)):
        await roundtrip(url, tls12)
    _, writer = await asyncio.open_connection(
        "localhost", amqps_port(bt), ssl=client_ctx(ca, maximum_version=ssl.TLSVersion.TLSv1_2)
    )
    assert writer.get_extra_info("ssl_object").cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"
    writer.close()


async def test_client_certificate_required(
    tls_broker: Callable[..., BrokerThread], ca: trustme.CA, server_files: dict[str, str]
) -> None:
    bt = tls_broker(tls_ca_cert_path=server_files["ca"], tls_verify_peer=True)
    url = f"amqps://guest:guest@localhost:{amqps_port(bt)}/%2f"
    with pytest.raises((ssl.SSLError, ConnectError, ConnectionClosed)):  # no certificate
        await roundtrip(url, client_ctx(ca))
    rogue = trustme.CA().issue_cert("client")
    with pytest.raises((ssl.SSLError, ConnectError, ConnectionClosed)):  # untrusted issuer
        await roundtrip(url, client_ctx(ca, rogue))
    assert await roundtrip(url, client_ctx(ca, ca.issue_cert("client"))) == b"over tls"


def pika_external(
    bt: BrokerThread, ctx: ssl.SSLContext, port: int | None = None
) -> pika.BlockingConnection:
    params = pika.ConnectionParameters(
        "localhost",
        port or amqps_port(bt),
        credentials=pika.credentials.ExternalCredentials(),
        ssl_options=pika.SSLOptions(ctx, "localhost") if port is None else None,
        connection_attempts=1,
    )
    return pika.BlockingConnection(params)


def test_external_auth_with_client_certificate(
    tls_broker: Callable[..., BrokerThread], ca: trustme.CA, server_files: dict[str, str]
) -> None:
    bt = tls_broker(tls_ca_cert_path=server_files["ca"])  # certificates optional, verified if sent
    bt.call(lambda: bt.broker.users.add("certuser", password_hash="", tags=[]))  # no password
    bt.call(lambda: bt.broker.users.set_permissions("certuser", "/", Permissions()))
    conn = pika_external(bt, client_ctx(ca, ca.issue_cert("client", common_name="certuser")))
    ch = conn.channel()
    ch.queue_declare("ext", exclusive=True)
    users = bt.call(lambda: [c.user_name for c in bt.broker.connections.values()])
    assert users == ["certuser"]
    conn.close()
    with pytest.raises(pika.exceptions.AMQPConnectionError):  # CN is not a user
        pika_external(bt, client_ctx(ca, ca.issue_cert("client", common_name="nobody")))
    with pytest.raises(pika.exceptions.AMQPConnectionError):  # no certificate: no EXTERNAL
        pika_external(bt, client_ctx(ca))
    with pytest.raises(pika.exceptions.AMQPConnectionError):  # plain TCP: no EXTERNAL
        pika_external(bt, client_ctx(ca), port=bt.amqp_port)


async def test_https_management_api(
    tls_broker: Callable[..., BrokerThread], ca: trustme.CA
) -> None:
    bt = tls_broker()
    assert bt.launcher is not None
    port = bt.launcher.https_port
    headers = {"Authorization": aiohttp.encode_basic_auth("guest", "guest")}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(
            f"https://localhost:{port}/api/overview", ssl=client_ctx(ca)
        ) as resp:
            assert resp.status == 200
            assert "cluster_name" in await resp.json()
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(f"https://127.0.0.1:{port}/api/overview", ssl=client_ctx(ca))
