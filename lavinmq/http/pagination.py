"""Listing parameters of RabbitMQ's API: page, page_size, name, use_regex, sort, columns.

Without ``page`` a listing is a plain JSON array (filtered, sorted, column-picked); with
it, the paged object RabbitMQ returns (``items``, ``page_count``, ``filtered_count``...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from lavinmq.http.errors import bad_request
from lavinmq.http.json import json_response

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got '{raw}'") from None


def _matcher(query: Mapping[str, str]) -> re.Pattern[str] | str | None:
    term = query.get("name")
    if not term:
        return None
    if query.get("use_regex", "false").lower() == "true":
        try:
            return re.compile(term, re.IGNORECASE)
        except re.error as exc:
            raise bad_request(f"invalid regex in 'name': {exc}") from None
    return term.lower()


def _matches(item: dict[str, Any], matcher: re.Pattern[str] | str | None) -> bool:
    if matcher is None:
        return True
    name = str(item.get("name", ""))
    if isinstance(matcher, str):
        return matcher in name.lower()
    return matcher.search(name) is not None


def dig(item: Mapping[str, Any], path: list[str]) -> Any:
    """``item["a"]["b"]`` for the dotted key ``a.b``; None when any step is missing."""
    value: Any = item
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _sort_key(path: list[str]) -> Any:
    def key(item: dict[str, Any]) -> tuple[int, Any]:
        value = dig(item, path)
        if isinstance(value, bool):
            return (1, int(value))
        if isinstance(value, int | float):
            return (1, value)
        if isinstance(value, str):
            return (2, value.lower())
        return (0, 0) if value is None else (3, str(value))

    return key


def _pick(item: dict[str, Any], columns: list[list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in columns:
        value = dig(item, path)
        if value is None and not _has(item, path):
            continue
        target = out
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    return out


def _has(item: Mapping[str, Any], path: list[str]) -> bool:
    value: Any = item
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return False
        value = value[key]
    return True


def select(
    request: web.Request, items: Iterable[dict[str, Any]]
) -> dict[str, Any] | list[dict[str, Any]]:
    """Filter, sort, page and pick columns of ``items`` as the query string asks.

    Raises:
        ApiError: 400 for a bad page, page_size or regex.
    """
    query = request.query
    matcher = _matcher(query)
    everything = list(items)
    rows = [i for i in everything if _matches(i, matcher)]
    sort = query.get("sort")
    if sort:
        rows.sort(key=_sort_key(sort.split(".")))
    if query.get("sort_reverse", "false").lower() == "true":
        rows.reverse()
    columns = [c.split(".") for c in query.get("columns", "").split(",") if c]
    if "page" not in query:
        return [_pick(r, columns) for r in rows] if columns else rows
    page = _int_param(query, "page", 1)
    page_size = _int_param(query, "page_size", DEFAULT_PAGE_SIZE)
    if page < 1:
        raise bad_request("page must be a positive integer")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise bad_request(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    page_count = max((len(rows) + page_size - 1) // page_size, 1)
    if page > page_count:
        raise bad_request(f"page {page} out of range, the last page is {page_count}")
    chunk = rows[(page - 1) * page_size : page * page_size]
    return {
        "filtered_count": len(rows),
        "item_count": len(chunk),
        "items": [_pick(r, columns) for r in chunk] if columns else chunk,
        "page": page,
        "page_count": page_count,
        "page_size": page_size,
        "total_count": len(everything),
    }


def page(request: web.Request, items: Iterable[dict[str, Any]]) -> web.Response:
    """A listing response (see ``select``)."""
    return json_response(select(request, items))
