"""Broker configuration: defaults, the INI file (LavinMQ's sections and keys) and the CLI.

Precedence, as LavinMQ: command line > environment > INI file > defaults.
The CLI uses argparse rather than typer on purpose: the broker's idle RSS budget is 40 MB
and typer/click/rich add several MB at import time for a parser that runs once.
"""

from __future__ import annotations

import argparse
import configparser
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from lavinmq import __version__

LOG_LEVELS = ("trace", "debug", "info", "notice", "warn", "warning", "error", "fatal", "none")


@dataclass(slots=True)
class Config:
    """Every broker setting. Field names double as INI keys where noted in ``INI_KEYS``."""

    data_dir: str = "/var/lib/lavinmq"
    config_file: str = ""
    log_level: str = "info"
    log_file: str = ""
    pidfile: str = ""
    bind: str = "127.0.0.1"
    amqp_bind: str = ""
    amqp_port: int = 5672
    amqps_port: int = -1
    unix_path: str = ""
    http_bind: str = ""
    http_port: int = 15672
    https_port: int = -1
    http_unix_path: str = ""
    tls_cert_path: str = ""
    tls_key_path: str = ""
    tls_ca_cert_path: str = ""
    tls_ciphers: str = ""
    tls_min_version: str = ""
    tls_verify_peer: bool = False
    heartbeat: int = 300
    frame_max: int = 131072
    channel_max: int = 2048
    max_message_size: int = 128 * 1024 * 1024
    segment_size: int = 8 * 1024 * 1024
    free_disk_min: int = 0
    memory_high_watermark: float = 0.4
    set_timestamp: bool = False
    guest_only_loopback: bool = True
    default_user: str = "guest"
    default_password: str = "guest"
    default_consumer_prefetch: int = 65535
    stats_interval: int = 5000
    stats_log_size: int = 120
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def amqp_host(self) -> str:
        """The address the AMQP listener binds (``--amqp-bind`` or ``--bind``)."""
        return self.amqp_bind or self.bind

    @property
    def http_host(self) -> str:
        """The address the HTTP listener binds (``--http-bind`` or ``--bind``)."""
        return self.http_bind or self.bind


# (section, key) -> Config attribute, as in LavinMQ's lavinmq.ini.
INI_KEYS: dict[tuple[str, str], str] = {
    ("main", "data_dir"): "data_dir",
    ("main", "log_level"): "log_level",
    ("main", "log_file"): "log_file",
    ("main", "pidfile"): "pidfile",
    ("main", "tls_cert"): "tls_cert_path",
    ("main", "tls_key"): "tls_key_path",
    ("main", "tls_ca_cert"): "tls_ca_cert_path",
    ("main", "tls_ciphers"): "tls_ciphers",
    ("main", "tls_min_version"): "tls_min_version",
    ("main", "tls_verify_peer"): "tls_verify_peer",
    ("main", "segment_size"): "segment_size",
    ("main", "free_disk_min"): "free_disk_min",
    ("main", "memory_high_watermark"): "memory_high_watermark",
    ("main", "set_timestamp"): "set_timestamp",
    ("amqp", "set_timestamp"): "set_timestamp",  # where LavinMQ 1.x had it
    ("main", "default_user_only_loopback"): "guest_only_loopback",
    ("main", "default_user"): "default_user",
    ("main", "default_password"): "default_password",
    ("main", "default_consumer_prefetch"): "default_consumer_prefetch",
    ("main", "stats_interval"): "stats_interval",
    ("main", "stats_log_size"): "stats_log_size",
    ("amqp", "bind"): "amqp_bind",
    ("amqp", "port"): "amqp_port",
    ("amqp", "tls_port"): "amqps_port",
    ("amqp", "unix_path"): "unix_path",
    ("amqp", "heartbeat"): "heartbeat",
    ("amqp", "frame_max"): "frame_max",
    ("amqp", "channel_max"): "channel_max",
    ("amqp", "max_message_size"): "max_message_size",
    ("mgmt", "bind"): "http_bind",
    ("mgmt", "port"): "http_port",
    ("mgmt", "tls_port"): "https_port",
    ("mgmt", "unix_path"): "http_unix_path",
}

ENV_KEYS: dict[str, str] = {
    "LAVINMQ_DATADIR": "data_dir",
    "LAVINMQ_AMQP_PORT": "amqp_port",
    "LAVINMQ_AMQPS_PORT": "amqps_port",
    "LAVINMQ_AMQP_BIND": "amqp_bind",
    "LAVINMQ_HTTP_PORT": "http_port",
    "LAVINMQ_HTTPS_PORT": "https_port",
    "LAVINMQ_HTTP_BIND": "http_bind",
    "LAVINMQ_TLS_CERT_PATH": "tls_cert_path",
    "LAVINMQ_TLS_KEY_PATH": "tls_key_path",
    "LAVINMQ_TLS_CIPHERS": "tls_ciphers",
    "LAVINMQ_TLS_MIN_VERSION": "tls_min_version",
}


class ConfigError(ValueError):
    """A setting has a value of the wrong type or out of range."""


def _coerce(cfg: Config, attr: str, raw: str) -> Any:
    kind = type(getattr(cfg, attr))
    if kind is bool:
        low = raw.strip().lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{attr}: expected a boolean, got {raw!r}")
    if kind is int:
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigError(f"{attr}: expected an integer, got {raw!r}") from None
    if kind is float:
        try:
            return float(raw.strip())
        except ValueError:
            raise ConfigError(f"{attr}: expected a number, got {raw!r}") from None
    return raw.strip()


def apply_ini(cfg: Config, path: Path) -> None:
    """Read LavinMQ's INI file into ``cfg``; unknown keys are kept in ``cfg.extra``.

    Raises:
        ConfigError: when the file is missing, unparsable or has a bad value.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open() as fh:
            parser.read_file(fh)
    except (OSError, configparser.Error) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    for section in parser.sections():
        for key, raw in parser.items(section):
            attr = INI_KEYS.get((section, key))
            if attr is None:
                cfg.extra[f"{section}.{key}"] = raw
            else:
                setattr(cfg, attr, _coerce(cfg, attr, raw))


def apply_env(cfg: Config, environ: dict[str, str] | os._Environ[str]) -> None:
    """Apply LavinMQ's environment variables."""
    for name, attr in ENV_KEYS.items():
        if name in environ:
            setattr(cfg, attr, _coerce(cfg, attr, environ[name]))


def build_parser() -> argparse.ArgumentParser:
    """The ``lavinmq`` command line, with LavinMQ's option names."""
    p = argparse.ArgumentParser(prog="lavinmq", description="LavinMQ AMQP 0-9-1 broker")
    add = p.add_argument
    add("-c", "--config", dest="config_file", metavar="CONFIG", help="path to config file (INI)")
    add("-D", "--data-dir", dest="data_dir", metavar="DIRECTORY", help="data directory")
    add("-l", "--log-level", dest="log_level", choices=LOG_LEVELS, help="log level (default: info)")
    add("-d", "--debug", action="store_true", help="verbose logging (same as -l debug)")
    add("--pidfile", dest="pidfile", metavar="FILE", help="write the process id to FILE")
    add(
        "--guest-only-loopback",
        dest="guest_only_loopback",
        type=_bool_arg,
        metavar="BOOL",
        help="limit the default user to loopback connections (default: true)",
    )
    add("-v", "--version", action="version", version=f"lavinmq {__version__}")
    _add_listener_options(p.add_argument_group("listeners"))
    _add_tls_options(p.add_argument_group("TLS"))
    return p


def _add_listener_options(group: argparse._ArgumentGroup) -> None:
    add = group.add_argument
    add("-b", "--bind", help="IP address the AMQP and HTTP servers listen on (default: 127.0.0.1)")
    add("-p", "--amqp-port", type=int, metavar="PORT", help="AMQP port (default: 5672)")
    add("--amqps-port", type=int, metavar="PORT", help="AMQPS port (default: -1, off)")
    add("--amqp-bind", metavar="BIND", help="IP address the AMQP server listens on")
    add("--amqp-unix-path", dest="unix_path", metavar="PATH", help="AMQP UNIX socket path")
    add("--http-port", type=int, metavar="PORT", help="HTTP port (default: 15672)")
    add("--https-port", type=int, metavar="PORT", help="HTTPS port (default: -1, off)")
    add("--http-bind", metavar="BIND", help="IP address the HTTP server listens on")
    add("--http-unix-path", metavar="PATH", help="HTTP UNIX socket path")


def _add_tls_options(group: argparse._ArgumentGroup) -> None:
    add = group.add_argument
    add("--cert", dest="tls_cert_path", metavar="FILE", help="TLS certificate (including chain)")
    add("--key", dest="tls_key_path", metavar="FILE", help="private key for the TLS certificate")
    add("--ciphers", dest="tls_ciphers", metavar="CIPHERS", help="list of TLS ciphers to allow")
    add("--tls-min-version", metavar="VERSION", help="minimum TLS version (default 1.2)")


def _bool_arg(raw: str) -> bool:
    low = raw.lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {raw!r}")


def load(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Build the configuration from defaults, the INI file, the environment and ``argv``."""
    args = build_parser().parse_args(argv)
    cfg = Config()
    env = os.environ if environ is None else environ
    if env.get("STATE_DIRECTORY"):  # systemd's StateDirectory= is a default, as in LavinMQ
        cfg.data_dir = env["STATE_DIRECTORY"].split(":")[0]
    if args.config_file:
        apply_ini(cfg, Path(args.config_file))
        cfg.config_file = args.config_file
    apply_env(cfg, env)
    names = {f.name for f in fields(Config)}
    for key, value in vars(args).items():
        if key in names and value is not None:
            setattr(cfg, key, value)
    if args.debug:
        cfg.log_level = "debug"
    return cfg
