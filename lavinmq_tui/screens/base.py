"""What every screen shares: polled by the app, and confirm-then-call API actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from textual import work
from textual.message import Message
from textual.screen import Screen

from lavinmq_tui.api import ApiError, ManagementClient
from lavinmq_tui.screens.confirm import ConfirmScreen

T = TypeVar("T")
ApiAction = Callable[[], Awaitable[None]]
Hook = Callable[[], object] | None


class RefreshRequest(Message):
    """Ask the app to poll now (after an action changed the broker)."""


class PolledScreen(Screen[None], Generic[T]):
    """A screen whose data the app's poller fetches (``fetch``) and shows (``show``)."""

    def __init__(self, client: ManagementClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client

    async def fetch(self) -> T:
        raise NotImplementedError

    def show(self, data: T) -> None:
        raise NotImplementedError

    async def poll(self) -> None:
        """Fetch and show; raises ``ApiError`` for the app's status line."""
        data = await self.fetch()
        if self.is_ready:
            self.show(data)

    @property
    def is_ready(self) -> bool:
        """Composed, still on the stack and the app not shutting down: safe to ``show``."""
        app = self.app
        return self.is_mounted and app.is_running and self in app.screen_stack

    def confirm_then(
        self, question: str, action: ApiAction, done: str, yes: str = "Yes", then: Hook = None
    ) -> None:
        """Ask ``question``; on yes run ``action`` in a worker, report, then call ``then``."""

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.call_api(action, done, then)

        self.app.push_screen(ConfirmScreen(question, yes), answered)

    @work(group="api-action")
    async def call_api(self, action: ApiAction, done: str, then: Hook = None) -> None:
        try:
            await action()
        except ApiError as exc:
            self.notify(str(exc), title="Failed", severity="error")
            return
        self.notify(done)
        self.app.post_message(RefreshRequest())
        if then is not None:
            then()
