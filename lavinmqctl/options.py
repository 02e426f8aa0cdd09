"""Parameter types shared by the command modules, and the per-resource Typer factory."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer

from lavinmqctl.client import CtlError

VHost = Annotated[
    str | None,
    typer.Option(
        "--vhost",
        "-p",
        metavar="VHOST",
        show_default=False,
        help="Virtual host [default: the global --vhost, else /]",
    ),
]

ScopeVHost = Annotated[
    str | None,
    typer.Option(
        "--vhost",
        "-p",
        metavar="VHOST",
        show_default=False,
        help="Only this virtual host [default: the global --vhost, else all]",
    ),
]


def columns_arg(defaults: str) -> Any:
    """The optional trailing column names of a ``list_*`` command."""
    return typer.Argument(
        metavar="COLUMN",
        show_default=False,
        help=f"Fields to show; dotted names dig into objects [default: {defaults}]",
    )


def resource_app() -> typer.Typer:
    """A Typer for one resource's commands; the root merges them flat (``add_typer``)."""
    return typer.Typer(rich_markup_mode=None)


def parse_json(text: str, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise CtlError(f"{what} is not valid JSON: {exc}") from None


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    value = parse_json(text, what)
    if not isinstance(value, dict):
        raise CtlError(f"{what} must be a JSON object")
    return value
