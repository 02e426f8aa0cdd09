"""Policies and operator policies: set_policy, clear_policy, list_policies,
set_operator_policy, clear_operator_policy, list_operator_policies
(/api/policies/{vhost}/{name}, /api/operator-policies/{vhost}/{name})."""

from __future__ import annotations

from typing import Annotated

import typer

from lavinmqctl.client import api_path
from lavinmqctl.options import VHost, columns_arg, parse_json_object, resource_app
from lavinmqctl.session import Session, session

PANEL = "Policies"
COLUMNS = ["vhost", "name", "pattern", "apply-to", "definition", "priority"]
app = resource_app()

PolicyName = Annotated[str, typer.Argument(help="Policy name", metavar="NAME")]
Pattern = Annotated[
    str, typer.Argument(help="Regex of the queue/exchange names it applies to", metavar="PATTERN")
]
Definition = Annotated[
    str, typer.Argument(metavar="DEFINITION", help="JSON object, e.g. '{\"max-length\": 10}'")
]
Priority = Annotated[int, typer.Option("--priority", help="Priority (highest wins)")]
ApplyTo = Annotated[str, typer.Option("--apply-to", help="all, queues or exchanges")]
Columns = Annotated[list[str] | None, columns_arg(" ".join(COLUMNS))]


def _set(
    sess: Session,
    kind: str,
    name: str,
    pattern: str,
    definition: str,
    priority: int,
    apply_to: str,
    vhost: str | None,
) -> None:
    vh = sess.vhost_for(vhost)
    body = {
        "pattern": pattern,
        "definition": parse_json_object(definition, "definition"),
        "priority": priority,
        "apply-to": apply_to,
    }
    label = "operator policy" if kind == "operator-policies" else "policy"
    sess.info(f'Setting {label} "{name}" for pattern "{pattern}" in vhost "{vh}" ...')
    sess.api.put(api_path(kind, vh, name), body)


def _clear(sess: Session, kind: str, name: str, vhost: str | None) -> None:
    vh = sess.vhost_for(vhost)
    label = "operator policy" if kind == "operator-policies" else "policy"
    sess.info(f'Clearing {label} "{name}" in vhost "{vh}" ...')
    sess.api.delete(api_path(kind, vh, name))


def _list(sess: Session, kind: str, columns: list[str] | None, vhost: str | None) -> None:
    vh = sess.vhost_for(vhost)
    label = "operator policies" if kind == "operator-policies" else "policies"
    sess.info(f"Listing {label} for vhost {vh} ...")
    sess.rows(sess.api.get_list(api_path(kind, vh)), columns or COLUMNS)


@app.command("set_policy", rich_help_panel=PANEL)
def set_policy(
    ctx: typer.Context,
    name: PolicyName,
    pattern: Pattern,
    definition: Definition,
    priority: Priority = 0,
    apply_to: ApplyTo = "all",
    vhost: VHost = None,
) -> None:
    """Sets or updates a policy."""
    _set(session(ctx), "policies", name, pattern, definition, priority, apply_to, vhost)


@app.command("clear_policy", rich_help_panel=PANEL)
def clear_policy(ctx: typer.Context, name: PolicyName, vhost: VHost = None) -> None:
    """Clears (removes) a policy."""
    _clear(session(ctx), "policies", name, vhost)


@app.command("list_policies", rich_help_panel=PANEL)
def list_policies(ctx: typer.Context, columns: Columns = None, vhost: VHost = None) -> None:
    """Lists all policies in a virtual host."""
    _list(session(ctx), "policies", columns, vhost)


@app.command("set_operator_policy", rich_help_panel=PANEL)
def set_operator_policy(
    ctx: typer.Context,
    name: PolicyName,
    pattern: Pattern,
    definition: Definition,
    priority: Priority = 0,
    apply_to: ApplyTo = "queues",
    vhost: VHost = None,
) -> None:
    """Sets or updates an operator policy (limits that override user policies)."""
    _set(session(ctx), "operator-policies", name, pattern, definition, priority, apply_to, vhost)


@app.command("clear_operator_policy", rich_help_panel=PANEL)
def clear_operator_policy(ctx: typer.Context, name: PolicyName, vhost: VHost = None) -> None:
    """Clears (removes) an operator policy."""
    _clear(session(ctx), "operator-policies", name, vhost)


@app.command("list_operator_policies", rich_help_panel=PANEL)
def list_operator_policies(
    ctx: typer.Context, columns: Columns = None, vhost: VHost = None
) -> None:
    """Lists all operator policies in a virtual host."""
    _list(session(ctx), "operator-policies", columns, vhost)
