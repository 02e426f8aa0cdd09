"""``lavinmq -D DATA_DIR``: run the broker."""

from __future__ import annotations

import asyncio
import logging
import sys

from lavinmq import log as lavinmq_log
from lavinmq.config import ConfigError, load
from lavinmq.launcher import Launcher
from lavinmq.malloc_tuning import tune_malloc


def _announce(launcher: Launcher) -> None:
    cfg = launcher.config
    host = cfg.amqp_host if cfg.amqp_host not in ("0.0.0.0", "::") else "127.0.0.1"
    http_host = cfg.http_host if cfg.http_host not in ("0.0.0.0", "::") else "127.0.0.1"
    lines = [f"LavinMQ is running, data in {cfg.data_dir}"]
    if launcher.amqp_port:
        lines.append(f"  AMQP URL: amqp://guest:guest@{host}:{launcher.amqp_port}")
    if launcher.amqps_port:
        lines.append(f"  AMQPS URL: amqps://guest:guest@{host}:{launcher.amqps_port}")
    if launcher.http_port:
        lines.append(f"  Web UI and HTTP API: http://{http_host}:{launcher.http_port}")
    print("\n".join(lines), flush=True)  # noqa: T201 - the user asked for this output


def main(argv: list[str] | None = None) -> int:
    try:
        config = load(argv)
    except ConfigError as exc:
        print(f"lavinmq: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    lavinmq_log.setup(config.log_level, config.log_file)
    if config.extra:  # a typo, or a LavinMQ setting this broker does not have
        logging.getLogger("lavinmq.config").warning(
            "ignoring unknown settings in %s: %s",
            config.config_file,
            ", ".join(sorted(config.extra)),
        )
    tune_malloc()
    launcher = Launcher(config)
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        pass
    try:
        asyncio.run(launcher.run(_announce))
    except RuntimeError as exc:  # e.g. the data dir is locked
        print(f"lavinmq: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    except OSError as exc:  # e.g. the port is in use
        print(f"lavinmq: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
