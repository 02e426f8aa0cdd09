"""Helpers shared by the client tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_for(predicate: Callable[[], object], seconds: float = 5.0) -> None:
    """Poll ``predicate()`` every millisecond until it is true (sleeps, never spins)."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - polling state set by callbacks
            await asyncio.sleep(0.001)
