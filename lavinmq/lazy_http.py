"""Listen on the HTTP port at start, load the management app on the first connection.

aiohttp and the API modules are ~14 MB of an idle broker's ~42 MB RSS. The listening
sockets are opened at start-up (so the port is taken and reported at once); the first
connection to arrive is parked (reading paused) while the app loads, then it and every
later connection are handed to aiohttp's protocol. Nothing here imports aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import cast

log = logging.getLogger(__name__)
ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class LazyProtocolFactory:
    """A protocol factory that loads the real one (``load``) when first needed."""

    def __init__(self, load: Callable[[], Awaitable[ProtocolFactory]]) -> None:
        self._load = load
        self._factory: ProtocolFactory | None = None
        self._parked: list[_Parked] = []
        self._loading: asyncio.Task[None] | None = None

    @property
    def loaded(self) -> bool:
        return self._factory is not None

    def __call__(self) -> asyncio.BaseProtocol:
        if self._factory is not None:
            return self._factory()
        return _Parked(self)

    async def ensure_loaded(self) -> None:
        """Load now (tests, or a caller that wants the app's side effects at once)."""
        if self._factory is None:
            if self._loading is None:
                self._loading = asyncio.ensure_future(self._load_now())
            await asyncio.shield(self._loading)

    def _park(self, parked: _Parked) -> None:
        self._parked.append(parked)
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load_now())

    async def _load_now(self) -> None:
        try:
            factory = await self._load()
        except Exception:  # the broker keeps running without its HTTP API
            log.exception("loading the management HTTP API failed")
            parked, self._parked = self._parked, []
            for p in parked:
                p.abort()
            self._loading = None
            return
        self._factory = factory
        parked, self._parked = self._parked, []
        for p in parked:
            p.hand_over(factory())


class _Parked(asyncio.Protocol):
    """A connection that arrived before the app was loaded."""

    def __init__(self, owner: LazyProtocolFactory) -> None:
        self._owner = owner
        self._transport: asyncio.Transport | None = None
        self._received: list[bytes] = []
        self._eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.pause_reading()
        self._owner._park(self)

    def data_received(self, data: bytes) -> None:
        # uvloop may deliver the first read even though reading was paused in
        # connection_made: keep it for the real protocol, and stop reading more.
        self._received.append(data)
        if self._transport is not None:
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def hand_over(self, protocol: asyncio.BaseProtocol) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if self._received:
            cast(asyncio.Protocol, protocol).data_received(b"".join(self._received))
        if self._eof:
            cast(asyncio.Protocol, protocol).eof_received()
        transport.resume_reading()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
