"""``python -m benchmarks.run``: run the registered benchmarks and print Markdown.

A benchmark is a ``Benchmark(name, add_arguments, run)``: ``add_arguments`` adds its
options to the shared parser, ``run(args, log)`` does the work (printing progress with
``log``) and returns a Markdown section. To add one, append it to ``BENCHMARKS``.

With ``--write BENCHMARKS.md`` each section replaces the text between
``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->`` in that file (other
sections, written by hand or by other benchmarks, are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import churn, memory, roundtrip, throughput


@dataclass(frozen=True)
class Benchmark:
    name: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Callable[[str], None]], str]


BENCHMARKS: list[Benchmark] = [
    Benchmark("memory", memory.add_arguments, memory.run),
    Benchmark("throughput", throughput.add_arguments, throughput.run),
    Benchmark("roundtrip", roundtrip.add_arguments, roundtrip.run),
    Benchmark("churn", churn.add_arguments, churn.run),
]


def machine() -> str:
    """nproc, RAM and CPU model, from /proc."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as fh:
            ram_kb = int(fh.readline().split()[1])
    except OSError:
        ram_kb = 0
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {ram_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def write_section(path: Path, name: str, text: str) -> None:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    doc = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: block, doc)
    else:
        doc = doc.rstrip() + f"\n\n## {name.title()}\n\n{block}\n"
    path.write_text(doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "parts",
        nargs="*",
        choices=[[], *(b.name for b in BENCHMARKS)],
        metavar="PART",
        help=f"benchmarks to run (default: all): {', '.join(b.name for b in BENCHMARKS)}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="short runs, for smoke-testing the benchmarks"
    )
    parser.add_argument(
        "--rabbitmq",
        choices=("auto", "yes", "no"),
        default="auto",
        help="measure Debian's rabbitmq-server too (default: when installed; the throughput "
        "and roundtrip parts install it when missing)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[b.name for b in BENCHMARKS],
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="update this Markdown file's sections (e.g. BENCHMARKS.md)",
    )
    for bench in BENCHMARKS:
        bench.add_arguments(parser)
    args = parser.parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C: the brokers a benchmark started
    # are stopped by its finally blocks instead of being left running.
    signal.signal(signal.SIGTERM, _terminate)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)  # noqa: T201

    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    for bench in BENCHMARKS:
        selected = (args.only or []) + args.parts
        if selected and bench.name not in selected:
            continue
        log(f"{bench.name}:")
        started = time.monotonic()
        body = bench.run(args, log)
        section = (
            f"Command: `{command.strip()}` ({time.monotonic() - started:.0f} s, "
            f"{time.strftime('%Y-%m-%d')})\n\nMachine: {machine()}\n\n{body}"
        )
        print(f"## {bench.name.title()}\n\n{section}")  # noqa: T201
        if args.write:
            write_section(args.write, bench.name, section)
    return 0


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
