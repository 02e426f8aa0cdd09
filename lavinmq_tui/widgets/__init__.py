"""Widgets shared by the screens."""

from lavinmq_tui.widgets.rates import RateGraph, StatBox
from lavinmq_tui.widgets.status import Status, StatusLine
from lavinmq_tui.widgets.table import Column, SortableTable

__all__ = ["Column", "RateGraph", "SortableTable", "StatBox", "Status", "StatusLine"]
