"""User management: add_user, delete_user, list_users, change_password, set_user_tags,
hash_password (/api/users)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lavinmqctl.client import ApiError, CtlError, api_path
from lavinmqctl.options import columns_arg, resource_app
from lavinmqctl.session import Session, session

PANEL = "User Management"
SALT_SIZE = 4
app = resource_app()

Username = Annotated[str, typer.Argument(help="User name", metavar="USERNAME")]


def hash_password_sha256(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + utf8))."""
    import base64
    import hashlib
    import os

    salt = os.urandom(SALT_SIZE) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def split_tags(tags: list[str]) -> str:
    """``["administrator", "a,b"]`` -> ``"administrator,a,b"`` (both spellings are accepted)."""
    return ",".join(t.strip() for arg in tags for t in arg.split(",") if t.strip())


def _fetch_user(sess: Session, username: str) -> dict[str, Any]:
    user = sess.api.get(api_path("users", username))
    if not isinstance(user, dict):
        raise CtlError(f"unexpected response for user '{username}'")
    return user


@app.command("add_user", rich_help_panel=PANEL)
def add_user(
    ctx: typer.Context,
    username: Username,
    password: Annotated[str, typer.Argument(help="Password", metavar="PASSWORD")],
    tags: Annotated[
        list[str] | None,
        typer.Option("--tags", metavar="TAGS", help="Tag(s), comma-separated or repeated"),
    ] = None,
) -> None:
    """Creates a new user."""
    sess = session(ctx)
    path = api_path("users", username)
    try:
        sess.api.get(path)
    except ApiError as exc:
        if exc.status != 404:
            raise
    else:
        raise CtlError(f"user '{username}' already exists")
    sess.info(f'Adding user "{username}" ...')
    sess.api.put(path, {"password": password, "tags": split_tags(tags or [])})


@app.command("delete_user", rich_help_panel=PANEL)
def delete_user(ctx: typer.Context, username: Username) -> None:
    """Delete a user."""
    sess = session(ctx)
    sess.info(f'Deleting user "{username}" ...')
    sess.api.delete(api_path("users", username))


@app.command("list_users", rich_help_panel=PANEL)
def list_users(
    ctx: typer.Context, columns: Annotated[list[str] | None, columns_arg("name tags")] = None
) -> None:
    """List user names and tags."""
    sess = session(ctx)
    sess.info("Listing users ...")
    sess.rows(sess.api.get_list("/api/users"), columns or ["name", "tags"])


@app.command("change_password", rich_help_panel=PANEL)
def change_password(
    ctx: typer.Context,
    username: Username,
    new_password: Annotated[str, typer.Argument(help="New password", metavar="NEW_PASSWORD")],
) -> None:
    """Change the user password."""
    sess = session(ctx)
    user = _fetch_user(sess, username)
    sess.info(f'Changing password for user "{username}" ...')
    sess.api.put(
        api_path("users", username), {"password": new_password, "tags": user.get("tags", [])}
    )


@app.command("set_user_tags", rich_help_panel=PANEL)
def set_user_tags(
    ctx: typer.Context,
    username: Username,
    tags: Annotated[
        list[str] | None,
        typer.Argument(help="Tags (none clears them)", metavar="TAG", show_default=False),
    ] = None,
) -> None:
    """Sets user tags."""
    sess = session(ctx)
    user = _fetch_user(sess, username)
    joined = split_tags(tags or [])
    sess.info(f'Setting tags for user "{username}" to [{joined}] ...')
    body: dict[str, Any] = {"tags": joined}
    if user.get("password_hash") is not None:  # keep the password on servers that replace
        body["password_hash"] = user["password_hash"]
        body["hashing_algorithm"] = user.get("hashing_algorithm", "rabbit_password_hashing_sha256")
    sess.api.put(api_path("users", username), body)


@app.command("hash_password", rich_help_panel=PANEL)
def hash_password(
    ctx: typer.Context,
    password: Annotated[
        str | None,
        typer.Argument(
            help="Password (prompted for when omitted)", metavar="PASSWORD", show_default=False
        ),
    ] = None,
) -> None:
    """Hash a password (salted SHA-256, as RabbitMQ and LavinMQ store it)."""
    sess = session(ctx)
    if password is None:
        password = typer.prompt("Password", hide_input=True)
    sess.value(hash_password_sha256(password))
