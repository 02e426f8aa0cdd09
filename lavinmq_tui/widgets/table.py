"""A ``DataTable`` that refreshes in place and sorts by any column.

Rows are keyed by a stable id (``vhost/name``), so a refresh updates the cells that
changed, adds and removes rows, re-applies the sort and puts the cursor back on the row
it was on. Cells are ``Cell``s: the text shown plus the value sorted by, so ``12.5/s``
sorts as a number and a queue named ``[x]`` is never read as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from lavinmq_tui.api import Json
from lavinmq_tui.format import Cell, SortKey


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its key, header label and how to make the cell from a JSON row."""

    key: str
    label: str
    cell: Callable[[Json], Cell]


class SortableTable(DataTable[Cell]):
    """Rows keyed by id; ``s`` sorts by the next column, ``S`` flips the order."""

    BINDINGS = [
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
    ]

    def __init__(self, columns: Sequence[Column], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.spec = tuple(columns)
        self.sort_column = self.spec[0].key
        self.sort_reverse = False

    def on_mount(self) -> None:
        for column in self.spec:
            self.add_column(self._label(column), key=column.key)

    @property
    def cursor_key(self) -> str | None:
        """The id of the row under the cursor (None when the table is empty)."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def sync(self, rows: Mapping[str, Json]) -> None:
        """Make the table show exactly ``rows`` (id -> JSON), keeping the cursor's row."""
        keep = self.cursor_key
        gone = [key for key in self.rows if key.value not in rows]
        for key in gone:
            self.remove_row(key)
        resort = False
        for row_id, data in rows.items():
            cells = [column.cell(data) for column in self.spec]
            if row_id in self.rows:
                resort |= self._update_row(row_id, cells)
            else:
                self.add_row(*cells, key=row_id)
                resort = True
        if resort:  # sorting re-renders the whole table: only when the order may change
            self._apply_sort()
        if (resort or gone) and self.row_count:
            row = self.cursor_row
            if keep is not None and keep in self.rows:
                row = self.get_row_index(keep)
            self.move_cursor(row=min(row, self.row_count - 1), animate=False)

    def _update_row(self, row_id: str, cells: list[Cell]) -> bool:
        """Update the cells that changed; True when the sorted column's did."""
        old = self.get_row(row_id)
        resort = False
        for column, cell, before in zip(self.spec, cells, old, strict=True):
            if cell != before:
                self.update_cell(row_id, column.key, cell, update_width=True)
                resort |= column.key == self.sort_column
        return resort

    def sort_by(self, column_key: str, reverse: bool | None = None) -> None:
        """Sort by ``column_key``; the same column again flips the order."""
        if reverse is None:
            reverse = not self.sort_reverse if column_key == self.sort_column else False
        keep = self.cursor_key
        self.sort_column, self.sort_reverse = column_key, reverse
        for column in self.spec:
            self.columns[ColumnKey(column.key)].label = self._label(column)
        self._apply_sort()  # also re-renders the header
        if keep is not None:
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    def _apply_sort(self) -> None:
        """Sort by the sort column; ties by the other columns, left to right."""
        index = [c.key for c in self.spec].index(self.sort_column)

        def key(cells: tuple[Cell, ...]) -> tuple[SortKey, ...]:
            return (cells[index].sort_key, *(cell.sort_key for cell in cells))

        self.sort(key=key, reverse=self.sort_reverse)

    def _label(self, column: Column) -> Text:
        """The header, with an arrow on the sorted column (the room for it always kept)."""
        arrow = "  "
        if column.key == self.sort_column:
            arrow = " ▼" if self.sort_reverse else " ▲"
        return Text(column.label + arrow)

    def action_sort_next(self) -> None:
        keys = [c.key for c in self.spec]
        self.sort_by(keys[(keys.index(self.sort_column) + 1) % len(keys)], reverse=False)

    def action_sort_reverse(self) -> None:
        self.sort_by(self.sort_column, reverse=not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value is not None:
            self.sort_by(event.column_key.value)
