"""The generated spec.py and constants.py match what the generator writes today."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lavinmq.amqp.errors import SyntaxError_
from lavinmq.amqp.spec import METHODS

from .helpers import ROOT, SPEC_JSON

GENERATOR = "tools/gen_amqp_spec.py"


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, GENERATOR, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_checked_in_files_are_up_to_date() -> None:
    result = run_generator("--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_check_reports_a_stale_file_without_writing(tmp_path: Path) -> None:
    spec = json.loads(SPEC_JSON.read_text())
    spec["classes"][0]["methods"][0]["arguments"][0]["default-value"] = 1
    changed = tmp_path / "spec.json"
    changed.write_text(json.dumps(spec))
    before = (ROOT / "lavinmq" / "amqp" / "spec.py").read_text()
    result = run_generator("--check", str(changed))
    assert result.returncode == 1
    assert "spec.py is out of date" in result.stdout
    assert "constants.py" not in result.stdout
    assert (ROOT / "lavinmq" / "amqp" / "spec.py").read_text() == before


def test_bits_are_packed_eight_to_an_octet() -> None:
    """No 0-9-1 method has more than 5 bits in a row; the generator must still not overflow."""
    import importlib.util

    loader = importlib.util.spec_from_file_location("gen_amqp_spec", ROOT / GENERATOR)
    assert loader is not None and loader.loader is not None
    gen = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(gen)
    args = [(f"b{i}", "bit") for i in range(10)] + [("n", "short"), ("c", "bit")]
    groups = gen.group_args(args)
    assert [(tag, len(items)) for tag, items in groups] == [
        ("bits", 8),
        ("bits", 2),
        ("fixed", 1),
        ("bits", 1),
    ]


def test_every_method_refuses_bytes_after_its_arguments() -> None:
    """RabbitMQ closes the connection on such a frame; a lenient decoder would let a
    client's framing bug (or a smuggled field) pass silently."""
    for cls in METHODS.values():
        args = cls().encode()[4:]
        assert cls.decode(memoryview(args), 0) == cls()
        with pytest.raises(SyntaxError_, match=f"1 bytes after the arguments of {cls.NAME}"):
            cls.decode(memoryview(args + b"x"), 0)
