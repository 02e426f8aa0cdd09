"""The .deb and the .rpm, built from this checkout (slow: 40-60 s on 2 cores).

The .deb is installed on this machine with dpkg (CI runs as root on a throwaway machine),
the installed /usr/bin/lavinmq is started as the lavinmq user with the installed
/etc/lavinmq/lavinmq.ini, pika publishes and consumes through it and the installed
lavinmqctl reports its status. Then the package is reinstalled over a changed
configuration (an upgrade: config and data kept), removed (config and data kept) and
purged (both gone). The .rpm is built from the same staged tree and inspected with
rpm -qlp / rpm -qp --scripts.

Both tests skip when not root or when dpkg-deb is missing. Under xdist the staged tree is
built once and shared by the workers (a file lock in the session's shared temp dir), and
dpkg/apt calls are serialized the same way.
"""

from __future__ import annotations

import fcntl
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pika
import pytest

ROOT = Path(__file__).resolve().parents[2]
with (ROOT / "pyproject.toml").open("rb") as _fh:
    VERSION: str = tomllib.load(_fh)["project"]["version"]

PREFIX = Path("/usr/lib/lavinmq")
CONFIG = Path("/etc/lavinmq/lavinmq.ini")
DATA_DIR = Path("/var/lib/lavinmq")
ENABLED_LINK = Path("/etc/systemd/system/multi-user.target.wants/lavinmq.service")
SCRIPTS = ("lavinmq", "lavinmqctl", "lavinmqperf", "lavinmq-tui")
# What installed programs get: nothing from this test's virtualenv.
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def require_root_and_dpkg() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the .deb is installed on this machine")
    if shutil.which("dpkg-deb") is None:
        pytest.skip("needs dpkg-deb")


def run(
    cmd: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    cwd: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def run_installed(
    cmd: Sequence[str | Path], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run an installed program away from this checkout (python -c puts the cwd on sys.path)."""
    return run(cmd, env=CLEAN_ENV, cwd="/", check=check)


def build_env(**extra: str | Path) -> dict[str, str]:
    """The environment for packaging/*.sh: ours, minus the dev venv's settings."""
    # LAVINMQ_NO_EXTENSIONS (the pure-Python test pass) must not reach the wheel build:
    # packages always carry the compiled fast paths.
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "LAVINMQ_NO_EXTENSIONS"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PATH"] = ":".join(
        p for p in env.get("PATH", "").split(":") if not p.startswith(str(ROOT / ".venv"))
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory all xdist workers of this session share (the session's own without xdist)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    path = base / "lavinmq-packaging"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def stage_dir(shared_dir: Path) -> Path:
    """packaging/stage.sh run once: wheels built, environment staged, shared by deb and rpm."""
    require_root_and_dpkg()
    stage = shared_dir / "stage"
    done = shared_dir / "stage.done"
    with locked(shared_dir / "stage.lock"):
        if not done.exists():
            run(
                [ROOT / "packaging/stage.sh"],
                env=build_env(
                    BUILD_DIR=shared_dir / "build",
                    STAGE_DIR=stage,
                    WHEELHOUSE=shared_dir / "wheels",
                ),
            )
            done.touch()
    return stage


def dpkg(
    shared_dir: Path, *args: str | Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    with locked(shared_dir / "dpkg.lock"):
        return run(["dpkg", *args], env=build_env(DEBIAN_FRONTEND="noninteractive"), check=check)


def dpkg_status() -> str:
    proc = run(["dpkg-query", "-W", "-f", "${db:Status-Status}", "lavinmq"], check=False)
    return proc.stdout.strip() if proc.returncode == 0 else "not-installed"


def user_exists(name: str) -> bool:
    return run(["getent", "passwd", name], check=False).returncode == 0


@pytest.fixture
def clean_machine(shared_dir: Path) -> Iterator[None]:
    """Refuse to touch an existing installation; purge ours and drop the user afterwards."""
    leftovers = [str(p) for p in (CONFIG.parent, DATA_DIR, PREFIX) if p.exists()]
    if dpkg_status() != "not-installed" or leftovers:
        pytest.fail(
            f"lavinmq is already on this machine (dpkg: {dpkg_status()}, {leftovers}); "
            "refusing to replace it: `dpkg --purge lavinmq` first"
        )
    had_user = user_exists("lavinmq")
    try:
        yield
    finally:
        if dpkg_status() != "not-installed":
            dpkg(shared_dir, "--purge", "lavinmq", check=False)
        if not had_user and user_exists("lavinmq"):
            run(["userdel", "lavinmq"], check=False)
            run(["groupdel", "lavinmq"], check=False)


@dataclass
class InstalledBroker:
    """/usr/bin/lavinmq run as the lavinmq user, on free ports, its output collected."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    amqp_url: str = ""
    http_url: str = ""

    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def installed_broker(timeout: float = 60) -> Iterator[InstalledBroker]:
    proc = subprocess.Popen(
        ["/usr/bin/lavinmq", "-c", str(CONFIG), "--amqp-port", "0", "--http-port", "0"],
        user="lavinmq",
        group="lavinmq",
        extra_groups=[],
        env=CLEAN_ENV,
        cwd="/",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    broker = InstalledBroker(proc)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            broker.lines.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        while not broker.http_url:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"lavinmq did not announce its URLs in {timeout} s:\n{broker.output()}")
            if line is None:
                pytest.fail(f"lavinmq exited with {proc.wait()}:\n{broker.output()}")
            if match := re.search(r"AMQP URL: (amqp://\S+)", line):
                broker.amqp_url = match[1]
            if match := re.search(r"HTTP API: (http://\S+)", line):
                broker.http_url = match[1]
        yield broker
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, f"lavinmq did not stop cleanly:\n{broker.output()}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def publish(amqp_url: str, queue_name: str, body: bytes) -> None:
    with closing(pika.BlockingConnection(pika.URLParameters(amqp_url))) as conn:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue_name, durable=True)
        channel.basic_publish(
            "", queue_name, body, pika.BasicProperties(delivery_mode=2), mandatory=True
        )


def consume_one(amqp_url: str, queue_name: str) -> bytes:
    with closing(pika.BlockingConnection(pika.URLParameters(amqp_url))) as conn:
        channel = conn.channel()
        channel.queue_declare(queue_name, durable=True)
        for method, _props, body in channel.consume(queue_name, inactivity_timeout=10):
            assert method is not None, f"no message arrived on {queue_name}"
            channel.basic_ack(method.delivery_tag)
            channel.cancel()
            return bytes(body)
    raise AssertionError("unreachable")


def stray_files() -> set[str]:
    """Files under /usr/lib/lavinmq that the package does not own (e.g. run-time bytecode)."""
    owned = set(run(["dpkg-query", "-L", "lavinmq"]).stdout.split())
    present = {str(p) for p in PREFIX.rglob("*")}
    return present - owned


@pytest.fixture(scope="session")
def deb(stage_dir: Path, shared_dir: Path) -> Path:
    # zstd instead of the release default xz: 9 s instead of 50 s for the same contents.
    proc = run(
        [ROOT / "packaging/deb/build.sh"],
        env=build_env(
            STAGE_DIR=stage_dir,
            BUILD_DIR=shared_dir / "build-deb",
            OUT_DIR=shared_dir / "dist",
            DEB_COMPRESS="zstd",
        ),
    )
    return Path(proc.stdout.strip().splitlines()[-1])


def check_fresh_install() -> None:
    assert dpkg_status() == "installed"
    for script in SCRIPTS:
        link = Path("/usr/bin") / script
        assert link.is_symlink() and link.resolve() == PREFIX / "bin" / script, script
        assert os.access(link, os.X_OK), script
    assert (PREFIX / "bin/python3.11").resolve() == Path("/usr/bin/python3.11").resolve()
    assert "/usr/lib/lavinmq" in (PREFIX / "pyvenv.cfg").read_text()
    assert not (PREFIX / "lib/python3.11/site-packages/pip").exists(), "pip must not ship"
    assert user_exists("lavinmq")
    stat = DATA_DIR.stat()
    assert (stat.st_uid, stat.st_mode & 0o777) == (int(run(["id", "-u", "lavinmq"]).stdout), 0o750)
    assert CONFIG.read_text() == (ROOT / "extras/config.ini").read_text()
    conffiles = run(["dpkg-query", "-W", "-f", "${Conffiles}", "lavinmq"]).stdout
    assert str(CONFIG) in conffiles
    assert ENABLED_LINK.is_symlink(), "postinst should enable lavinmq.service"
    assert (
        Path("/lib/systemd/system/lavinmq.service").read_text()
        == (ROOT / "extras/lavinmq.service").read_text()
    )
    if shutil.which("systemd-analyze"):
        run(["systemd-analyze", "verify", "/lib/systemd/system/lavinmq.service"])
    # The interpreter runs our code from /usr/lib/lavinmq, compiled extensions included.
    probe = run_installed(
        [
            PREFIX / "bin/python",
            "-c",
            "import lavinmq, lavinmq.amqp._cparse as p, lavinmq.broker._cmessage as m,"
            " lavinmq.server._cread as r;"
            "print(lavinmq.__file__, p.__file__, m.__file__, r.__file__)",
        ]
    ).stdout
    assert all(path.startswith(str(PREFIX)) for path in probe.split()), probe
    assert run_installed(["/usr/bin/lavinmq", "--version"]).stdout.strip() == f"lavinmq {VERSION}"


def test_deb_install_run_upgrade_remove_purge(
    deb: Path, shared_dir: Path, clean_machine: None
) -> None:
    fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"]).stdout
    assert f"Version: {VERSION}-1" in fields
    assert "python3.11" in fields and "adduser" in fields

    dpkg(shared_dir, "-i", deb)
    check_fresh_install()

    with installed_broker() as broker:
        publish(broker.amqp_url, "packaging-test", b"hello from the .deb")
        assert consume_one(broker.amqp_url, "packaging-test") == b"hello from the .deb"
        publish(broker.amqp_url, "kept-over-upgrade", b"still here")
        status = run_installed(
            ["/usr/bin/lavinmqctl", "--uri", broker.http_url, "status"], check=False
        )
        assert status.returncode == 0, f"lavinmqctl status failed:\n{status.stdout}{status.stderr}"
        assert VERSION in status.stdout, status.stdout
    assert "AMQP URL" in broker.output()
    assert not stray_files(), "running wrote files into /usr/lib/lavinmq"
    assert run(["dpkg", "--verify", "lavinmq"]).stdout == "", "installed files changed"
    assert (DATA_DIR / "users.json").stat().st_uid == DATA_DIR.stat().st_uid

    # Upgrade (reinstall over the installed version): a changed config and the data stay.
    changed = CONFIG.read_text() + "\n; changed by the administrator\n"
    CONFIG.write_text(changed)
    dpkg(shared_dir, "-i", deb)
    assert CONFIG.read_text() == changed
    assert not list(CONFIG.parent.glob("*.dpkg-*")), list(CONFIG.parent.iterdir())
    with installed_broker() as broker:
        assert consume_one(broker.amqp_url, "kept-over-upgrade") == b"still here"

    # Remove: programs gone, configuration and data kept.
    dpkg(shared_dir, "--remove", "lavinmq")
    assert dpkg_status() == "config-files"
    assert not Path("/usr/bin/lavinmq").exists() and not PREFIX.exists()
    assert CONFIG.read_text() == changed
    assert any(DATA_DIR.iterdir())

    # Purge: configuration, data and the unit's enablement gone too.
    dpkg(shared_dir, "--purge", "lavinmq")
    assert dpkg_status() == "not-installed"
    for path in (CONFIG.parent, DATA_DIR, Path("/etc/logrotate.d/lavinmq"), ENABLED_LINK):
        assert not os.path.lexists(path), f"{path} survived the purge"


@pytest.fixture(scope="session")
def rpm(stage_dir: Path, shared_dir: Path) -> Path:
    env = build_env(
        STAGE_DIR=stage_dir,
        BUILD_DIR=shared_dir / "build-rpm",
        OUT_DIR=shared_dir / "dist",
        RPM_PAYLOAD="w3.zstdio",
    )
    if shutil.which("rpmbuild") is None:  # build.sh apt-get installs it: keep dpkg to one user
        with locked(shared_dir / "dpkg.lock"):
            proc = run([ROOT / "packaging/rpm/build.sh"], env=env)
    else:
        proc = run([ROOT / "packaging/rpm/build.sh"], env=env)
    return Path(proc.stdout.strip().splitlines()[-1])


def rpm_query(package: Path, *args: str) -> str:
    return run(["rpm", "-qp", *args, package]).stdout


def test_rpm_contents_and_scripts(rpm: Path) -> None:
    assert rpm_query(rpm, "--qf", "%{NAME} %{VERSION}-%{RELEASE}") == f"lavinmq {VERSION}-1"

    files = set(run(["rpm", "-qlp", rpm]).stdout.split())
    expected = {
        *(f"/usr/bin/{script}" for script in SCRIPTS),
        *(f"/usr/lib/lavinmq/bin/{script}" for script in SCRIPTS),
        "/usr/lib/lavinmq/bin/python3.11",
        "/usr/lib/lavinmq/pyvenv.cfg",
        "/usr/lib/systemd/system/lavinmq.service",
        "/usr/lib/sysusers.d/lavinmq.conf",
        "/etc/lavinmq/lavinmq.ini",
        "/etc/logrotate.d/lavinmq",
        "/var/lib/lavinmq",
        "/usr/share/doc/lavinmq/CHANGELOG.md",
    }
    assert expected <= files, sorted(expected - files)
    site = "/usr/lib/lavinmq/lib/python3.11/site-packages/"
    for ext in ("lavinmq/amqp/_cparse.", "lavinmq/broker/_cmessage.", "lavinmq/server/_cread."):
        assert any(f.startswith(site + ext) and f.endswith(".so") for f in files), ext
    assert any(f.startswith(site + "lavinmq/__pycache__/") for f in files), "no bytecode"
    assert not any(f.startswith(site + "pip/") for f in files), "pip must not ship"
    assert all(f.startswith(("/usr/", "/etc/", "/var/lib/lavinmq")) for f in files)

    assert set(run(["rpm", "-qcp", rpm]).stdout.split()) == {
        "/etc/lavinmq/lavinmq.ini",
        "/etc/logrotate.d/lavinmq",
    }
    attrs = rpm_query(
        rpm,
        "--qf",
        "[%{FILEFLAGS:fflags} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEMODES:perms} %{FILENAMES}\n]",
    ).splitlines()
    assert "cn root:root -rw-r--r-- /etc/lavinmq/lavinmq.ini" in attrs  # %config(noreplace)
    assert " lavinmq:lavinmq drwxr-x--- /var/lib/lavinmq" in attrs

    requires = rpm_query(rpm, "--requires").split()
    assert "python3.11" in requires
    assert not [r for r in requires if ".so" in r], "AutoReqProv leaked the bundled libraries"

    scripts = rpm_query(rpm, "--scripts")
    sections = dict(
        re.findall(
            r"^(\w+) scriptlet \(using /bin/sh\):\n(.*?)(?=^\w+ scriptlet|\Z)", scripts, re.S | re.M
        )
    )
    assert set(sections) == {"preinstall", "postinstall", "preuninstall", "postuninstall"}
    assert "groupadd -r lavinmq" in sections["preinstall"]
    assert "useradd -r -g lavinmq -d /var/lib/lavinmq" in sections["preinstall"]
    assert "preset lavinmq.service" in sections["postinstall"]
    assert "disable --now lavinmq.service" in sections["preuninstall"]
    assert "try-restart lavinmq.service" in sections["postuninstall"]
