"""Rendering rows for people (aligned tables) and for scripts (JSON via orjson).

Columns are field names of the API's JSON objects; a dotted name digs into nested objects
(``message_stats.publish``, ``queue.name``), as ``rabbitmqctl list_queues name messages``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson


def dig(item: Mapping[str, Any], column: str) -> Any:
    """``item["a"]["b"]`` for column ``a.b``; a key containing dots is tried whole first."""
    if column in item:
        return item[column]
    value: Any = item
    for key in column.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def pick(items: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Each item reduced to ``columns`` (in that order); absent fields become null."""
    return [{c: dig(item, c) for c in columns} for item in items]


def cell(value: Any) -> str:
    """One table cell: true/false, empty for null, lists of names comma-joined, else JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], header: bool = True) -> str:
    """Left-aligned columns separated by two spaces, without trailing blanks."""
    lines = [[cell(row.get(c)) for c in columns] for row in rows]
    if header:
        lines.insert(0, list(columns))
    if not lines:
        return ""
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def key_values(record: Mapping[str, Any]) -> str:
    """``Key: value`` lines, as ``lavinmqctl status`` prints them."""
    return "\n".join(f"{k}: {cell(v)}" for k, v in record.items())


def to_json(data: Any, pretty: bool = False) -> str:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(data, option=option | orjson.OPT_NON_STR_KEYS).decode()
