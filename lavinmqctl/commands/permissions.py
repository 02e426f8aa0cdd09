"""Permissions: set_permissions, clear_permissions, list_permissions, list_user_permissions
(/api/permissions/{vhost}/{user})."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lavinmqctl.client import api_path
from lavinmqctl.options import VHost, columns_arg, resource_app
from lavinmqctl.session import session

PANEL = "User Management"
app = resource_app()

Username = Annotated[str, typer.Argument(help="User name", metavar="USERNAME")]


def _regex(what: str) -> Any:
    return typer.Argument(help=f"Regex of resource names the user may {what}", metavar=what.upper())


@app.command("set_permissions", rich_help_panel=PANEL)
def set_permissions(
    ctx: typer.Context,
    username: Username,
    configure: Annotated[str, _regex("configure")],
    write: Annotated[str, _regex("write")],
    read: Annotated[str, _regex("read")],
    vhost: VHost = None,
) -> None:
    """Set permissions for a user."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Setting permissions for user "{username}" in vhost "{vh}" ...')
    sess.api.put(
        api_path("permissions", vh, username),
        {"configure": configure, "write": write, "read": read},
    )


@app.command("clear_permissions", rich_help_panel=PANEL)
def clear_permissions(ctx: typer.Context, username: Username, vhost: VHost = None) -> None:
    """Revoke a user's permissions in a vhost."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Clearing permissions for user "{username}" in vhost "{vh}" ...')
    sess.api.delete(api_path("permissions", vh, username))


@app.command("list_permissions", rich_help_panel=PANEL)
def list_permissions(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg("user configure write read")] = None,
    vhost: VHost = None,
) -> None:
    """List the users' permissions in a vhost."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Listing permissions for vhost "{vh}" ...')
    rows = sess.api.get_list(api_path("vhosts", vh, "permissions"))
    sess.rows(rows, columns or ["user", "configure", "write", "read"])


@app.command("list_user_permissions", rich_help_panel=PANEL)
def list_user_permissions(ctx: typer.Context, username: Username) -> None:
    """List a user's permissions in every vhost."""
    sess = session(ctx)
    sess.info(f'Listing permissions for user "{username}" ...')
    rows = sess.api.get_list(api_path("users", username, "permissions"))
    sess.rows(rows, ["vhost", "configure", "write", "read"])
