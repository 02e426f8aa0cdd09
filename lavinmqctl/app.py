"""lavinmqctl: administer a running LavinMQ through its management HTTP API.

Command names, arguments and options follow LavinMQ's own lavinmqctl (and rabbitmqctl).
Each resource module registers its commands on a Typer of its own; ``add_typer`` without a
name merges them into the root, so commands stay flat: ``lavinmqctl list_queues``.
Startup stays light: no rich, no aiohttp, and ``http.client`` only on the first request.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lavinmqctl.commands import (
    bindings,
    connections,
    definitions,
    exchanges,
    parameters,
    permissions,
    policies,
    queues,
    shovels,
    status,
    users,
    vhosts,
)
from lavinmqctl.group import FlatGroup
from lavinmqctl.session import DEFAULT_URI, Endpoint, OutputFormat, Session

app = typer.Typer(
    cls=FlatGroup,
    name="lavinmqctl",
    help="Administer a running LavinMQ broker over its management HTTP API.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
for _module in (
    users,
    permissions,
    vhosts,
    queues,
    exchanges,
    bindings,
    connections,
    policies,
    parameters,
    shovels,
    definitions,
    status,
):
    app.add_typer(_module.app)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"lavinmqctl {version('lavinmq')}")
        except PackageNotFoundError:
            typer.echo("lavinmqctl (unknown version)")
        raise typer.Exit()


Uri = Annotated[
    str,
    typer.Option(
        "--uri",
        "-U",
        envvar="LAVINMQCTL_URI",
        metavar="URI",
        help="Management API URI, may include user:password@",
    ),
]
Host = Annotated[
    str | None,
    typer.Option(
        "--host",
        "-H",
        envvar="LAVINMQCTL_HOST",
        show_default=False,
        metavar="HOST",
        help="Host[:port] or URI of the API (overrides --uri)",
    ),
]
Hostname = Annotated[
    str | None, typer.Option("--hostname", metavar="NAME", help="API host name", show_default=False)
]
Port = Annotated[
    int | None,
    typer.Option(
        "--port", "-P", metavar="PORT", help="API port [default: 15672]", show_default=False
    ),
]
Scheme = Annotated[
    str | None,
    typer.Option(
        "--scheme", metavar="SCHEME", help="http or https [default: http]", show_default=False
    ),
]
UnixPath = Annotated[
    str | None,
    typer.Option(
        "--control-unix-path",
        envvar="LAVINMQCTL_CONTROL_UNIX_PATH",
        show_default=False,
        metavar="PATH",
        help="Talk HTTP over this unix socket instead of TCP",
    ),
]
User = Annotated[
    str | None,
    typer.Option(
        "--user",
        "-u",
        envvar="LAVINMQCTL_USER",
        metavar="USER",
        help="API user [default: guest]",
        show_default=False,
    ),
]
Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar="LAVINMQCTL_PASSWORD",
        metavar="PASSWORD",
        help="API password [default: guest]",
        show_default=False,
    ),
]
GlobalVHost = Annotated[
    str | None,
    typer.Option(
        "--vhost",
        "-p",
        envvar="LAVINMQCTL_VHOST",
        show_default=False,
        metavar="VHOST",
        help="Virtual host for commands that take one [default: /]",
    ),
]
Format = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Suppress informational messages")]
Silent = Annotated[
    bool, typer.Option("--silent", "-s", help="Suppress informational messages and table headers")
]
Timeout = Annotated[
    float, typer.Option("--timeout", "-t", metavar="SECONDS", help="Seconds to wait for the API")
]
Version = Annotated[
    bool,
    typer.Option(
        "--version", "-v", callback=_version, is_eager=True, help="Show the version and exit"
    ),
]


@app.callback()
def global_options(
    ctx: typer.Context,
    uri: Uri = DEFAULT_URI,
    host: Host = None,
    hostname: Hostname = None,
    port: Port = None,
    scheme: Scheme = None,
    control_unix_path: UnixPath = None,
    user: User = None,
    password: Password = None,
    vhost: GlobalVHost = None,
    fmt: Format = OutputFormat.table,
    quiet: Quiet = False,
    silent: Silent = False,
    timeout: Timeout = 30.0,
    version: Version = False,
) -> None:
    """Administer a running LavinMQ broker over its management HTTP API.

    Global options may also follow the command (lavinmqctl list_queues -q --format json).
    """
    endpoint = Endpoint(
        uri, host, hostname, port, scheme, control_unix_path, user, password, timeout
    )
    sess = Session(endpoint, fmt, quiet, silent, vhost)
    ctx.obj = sess
    ctx.call_on_close(sess.close)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="lavinmqctl")
