"""A real ``python -m lavinmq`` process for durability tests: start, kill -9, SIGTERM.

The broker listens on port 0; its port is read from the "AMQP URL" line it prints on
stdout. Its log (stderr) is appended to ``<workdir>/broker.log`` across restarts so that a
test can check what a restart reported.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

_URL = re.compile(r"AMQP URL: (amqp://\S+:(\d+))")


class BrokerProcess:
    """One broker data directory, run as a child process (possibly many times).

    Args:
        workdir: holds ``data/`` (the data dir), ``broker.log`` and ``lavinmq.ini``.
        ini: ``{section: {key: value}}`` written to ``lavinmq.ini`` and passed with ``-c``.
        args: extra command-line arguments.
    """

    def __init__(
        self,
        workdir: Path,
        ini: dict[str, dict[str, object]] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "broker.log"
        self.ini_path = workdir / "lavinmq.ini"
        self.args = list(args or [])
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.stdout_lines: list[str] = []
        self._log: IO[str] | None = None
        self._reader: threading.Thread | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        if ini:
            self.write_ini(ini)

    def write_ini(self, ini: dict[str, dict[str, object]]) -> None:
        text = "".join(
            f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
            for section, keys in ini.items()
        )
        self.ini_path.write_text(text)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2f"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "lavinmq",
            "-D",
            str(self.data_dir),
            "-p",
            "0",
            "--http-port",
            "-1",
        ]
        if self.ini_path.exists():
            cmd += ["-c", str(self.ini_path)]
        return cmd + self.args

    def spawn(self) -> subprocess.Popen[str]:
        """Start the process without waiting for it to listen."""
        self._log = open(self.log_path, "a")
        self.stdout_lines = []
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._log, text=True, env=env
        )
        return self.proc

    def start(self, timeout: float = 15.0) -> BrokerProcess:
        """Start and wait until the AMQP listener is up."""
        proc = self.spawn()
        found = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.stdout_lines.append(line)
                m = _URL.search(line)
                if m:
                    self.port = int(m.group(2))
                    found.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.02):
            if proc.poll() is not None or time.monotonic() > deadline:
                self._reap()
                raise RuntimeError(
                    f"broker did not start (exit {proc.returncode}):\n" + self.log_tail()
                )
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self._reap()

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait: returns the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._reap()

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def _reap(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self._reader is not None:
                self._reader.join(5)  # it ends at EOF, when the process is gone
                self._reader = None
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def close(self) -> None:
        """Test teardown: make sure no process is left behind."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        self._reap()


def wait_until(predicate: object, timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate()`` every 20 ms until truthy, else fail."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.02)
