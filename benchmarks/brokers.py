"""Brokers under test, each a process of its own on loopback: our broker and RabbitMQ.

Both are started fresh on a temporary data directory and a free port, and stopped (then
killed if need be) afterwards. RabbitMQ is started from the Debian package's scripts with
every path (Mnesia, logs, config, plugins, Erlang cookie) in the temporary directory and
its own node name and ports, so a RabbitMQ already running on this machine (a system
service on 5672) is left alone.
"""

from __future__ import annotations

import glob
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Protocol

from benchmarks.amqp_raw import RawClient

_URL = re.compile(r"AMQP URL: amqp://\S+:(\d+)")
RABBITMQ_SCRIPTS = "/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server"


class BrokerUnderTest(Protocol):
    name: str
    port: int

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def pid(self) -> int:
        """The process whose memory is measured."""
        ...


def raise_nofile() -> int:
    """Raise this process's open-file limit to the hard limit (children inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kb(pid: int, field: str = "VmRSS") -> int:
    """A ``/proc/<pid>/status`` field in kB (VmRSS: resident now, VmHWM: peak)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def wait_for_amqp(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until a full AMQP handshake succeeds on ``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            RawClient(port, timeout=5).close()
            return
        except (OSError, ConnectionError):
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"broker exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


class LavinMQPy:
    """``python -m lavinmq`` on a temporary data directory.

    Args:
        http: serve the management HTTP API too (the default configuration does).
    """

    def __init__(self, http: bool = True) -> None:
        self.name = "lavinmq-py" if http else "lavinmq-py (no HTTP API)"
        self.http = http
        self.port = 0
        self._proc: subprocess.Popen[str] | None = None
        self._tmp = ""

    def start(self) -> None:
        """Start on a new temporary data directory, or on the same one after ``kill``."""
        self._tmp = self._tmp or tempfile.mkdtemp(prefix="lavinmq-bench-")
        cmd = [
            sys.executable,
            "-m",
            "lavinmq",
            "-D",
            self._tmp,
            "-p",
            "0",
            "--http-port",
            "0" if self.http else "-1",
            "-l",
            "warn",
        ]
        self._proc = proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            m = _URL.search(line)
            if m:
                self.port = int(m.group(1))
                break
        else:
            raise RuntimeError(f"lavinmq exited with {proc.wait()}")
        # Keep reading stdout so that the broker never blocks on a full pipe.
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()

    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def kill(self) -> None:
        """SIGKILL, keeping the data directory for the next ``start`` (crash recovery)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()

    def stop(self) -> None:
        _stop(self._proc, 30)
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = ""


class RabbitMQ:
    """The Debian package's rabbitmq-server, as a private node in a temporary directory."""

    name = "rabbitmq"

    def __init__(self) -> None:
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp = ""
        self.version = ""

    @staticmethod
    def available() -> bool:
        return bool(glob.glob(RABBITMQ_SCRIPTS)) and shutil.which("erl") is not None

    @staticmethod
    def installed_version() -> str:
        scripts = sorted(glob.glob(RABBITMQ_SCRIPTS))
        return scripts[-1].split("rabbitmq_server-")[1].split("/")[0] if scripts else ""

    def start(self) -> None:
        script = sorted(glob.glob(RABBITMQ_SCRIPTS))[-1]
        self.version = self.installed_version()
        tmp = Path(tempfile.mkdtemp(prefix="rabbitmq-bench-"))
        self._tmp = str(tmp)
        self.port = free_port()
        (tmp / "rabbitmq-env.conf").write_text("")
        (tmp / "enabled_plugins").write_text("[].\n")
        (tmp / "rabbitmq.conf").write_text("loopback_users.guest = true\n")
        env = dict(
            os.environ,
            HOME=str(tmp),  # the Erlang cookie goes here
            RABBITMQ_CONF_ENV_FILE=str(tmp / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(tmp / "rabbitmq"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(tmp / "enabled_plugins"),
            RABBITMQ_NODENAME=f"bench{os.getpid()}@localhost",
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_MNESIA_BASE=str(tmp / "mnesia"),
            RABBITMQ_LOG_BASE=str(tmp / "log"),
            RABBITMQ_PID_FILE=str(tmp / "pid"),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        self._proc = subprocess.Popen(
            [script],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_amqp(self.port, 120, self._proc)

    def pid(self) -> int:
        """The beam.smp process (the script execs erl, which may stay a parent)."""
        assert self._proc is not None
        for pid in [self._proc.pid, *_descendants(self._proc.pid)]:
            try:
                with open(f"/proc/{pid}/comm") as fh:
                    if fh.read().strip().startswith("beam"):
                        return pid
            except FileNotFoundError:
                continue
        raise RuntimeError("no beam.smp process found")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            # The whole session: beam.smp and its erl_child_setup (not the shared epmd).
            try:
                os.killpg(self._proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        _stop(self._proc, 60)
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self._tmp, ignore_errors=True)


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


def _stop(proc: subprocess.Popen[str] | subprocess.Popen[bytes] | None, timeout: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out
