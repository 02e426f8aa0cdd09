"""The TUI's screens: one per resource, plus the queue detail and the confirm dialog."""

from lavinmq_tui.screens.base import PolledScreen, RefreshRequest
from lavinmq_tui.screens.confirm import ConfirmScreen
from lavinmq_tui.screens.connections import ConnectionsScreen
from lavinmq_tui.screens.exchanges import ExchangesScreen
from lavinmq_tui.screens.overview import OverviewScreen
from lavinmq_tui.screens.queue_detail import QueueDetailScreen
from lavinmq_tui.screens.queues import QueuesScreen

__all__ = [
    "ConfirmScreen",
    "ConnectionsScreen",
    "ExchangesScreen",
    "OverviewScreen",
    "PolledScreen",
    "QueueDetailScreen",
    "QueuesScreen",
    "RefreshRequest",
]
