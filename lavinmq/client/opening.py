"""An object that is both awaitable and an async context manager.

``await connect(url)`` and ``async with connect(url) as conn`` (likewise
``conn.channel()``) share one return value; this is it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Opening(Generic[T]):
    """Wraps the coroutine that opens a resource and the function that closes it.

    Args:
        coro: the coroutine that opens the resource.
        close: called with the resource when an ``async with`` block exits.
    """

    __slots__ = ("_close", "_coro", "_resource")

    def __init__(self, coro: Coroutine[Any, Any, T], close: Callable[[T], Awaitable[None]]) -> None:
        self._coro = coro
        self._close = close
        self._resource: T | None = None

    def __await__(self) -> Generator[Any, None, T]:
        return self._coro.__await__()

    async def __aenter__(self) -> T:
        self._resource = await self._coro
        return self._resource

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._resource is not None:
            await self._close(self._resource)


__all__ = ["Opening"]
