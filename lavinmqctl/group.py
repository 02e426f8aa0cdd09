"""The root command group: LavinMQ-style argument order, sectioned help, one error edge.

``lavinmqctl list_users --format=json`` and ``rabbitmqctl list_queues -q`` put global
options after the command name. Click only accepts a group's options before it, so
``parse_args`` moves them forward unless the command has an option of the same name
(``-p`` is both global and per-command; the command's own one then applies).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from lavinmqctl.client import CtlError

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter


def _option_names(params: Iterable[Any]) -> dict[str, bool]:
    """Option name -> whether it takes a value, for a command's parameters."""
    names: dict[str, bool] = {}
    for param in params:
        if getattr(param, "param_type_name", "") != "option":
            continue
        takes_value = not (getattr(param, "is_flag", False) or getattr(param, "count", False))
        for name in (*param.opts, *param.secondary_opts):
            names[name] = takes_value
    return names


def _split(arg: str) -> tuple[str, bool]:
    """``--format=json`` -> (``--format``, True: value attached); ``-q`` -> (``-q``, False)."""
    if arg.startswith("--") and "=" in arg:
        return arg.split("=", 1)[0], True
    return arg, False


def hoist_global_options(group: TyperGroup, args: list[str]) -> list[str]:
    """Move the group's options found after the command name to before it."""
    own = _option_names(group.params)
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        name, attached = _split(args[i])
        i += 2 if own.get(name) and not attached else 1
    if i >= len(args) or args[i] not in group.commands:
        return args
    command = group.commands[args[i]]
    theirs = _option_names(command.params)
    head, rest, moved = args[: i + 1], args[i + 1 :], []
    j = 0
    while j < len(rest) and rest[j] != "--":
        name, attached = _split(rest[j])
        width = 2 if (own.get(name) or theirs.get(name)) and not attached else 1
        if name in own and name not in theirs:
            moved.extend(rest[j : j + width])
            del rest[j : j + width]
            continue
        j += width
    return moved + head + rest if moved else args


class FlatGroup(TyperGroup):
    """Root group of lavinmqctl (see the module docstring)."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, list(args)))

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except CtlError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        visible: list[tuple[str, Command]] = [
            (name, cmd) for name, cmd in self.commands.items() if not cmd.hidden
        ]
        if not visible:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in visible)
        for name, cmd in visible:
            section = getattr(cmd, "rich_help_panel", None) or "Commands"
            sections.setdefault(section, []).append((name, cmd.get_short_help_str(limit)))
        for section, rows in sections.items():
            with formatter.section(section):
                formatter.write_dl(rows)
