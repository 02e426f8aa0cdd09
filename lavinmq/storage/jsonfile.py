"""JSON files written atomically: users, vhosts, policies and other low-turnover state.

JSON keeps these files easy for an operator to read and edit while the broker is down.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TypeVar

import orjson

from lavinmq.storage.fsync import fsync_directory

T = TypeVar("T")


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON so that ``path`` holds either the old or new content.

    The JSON goes to a temporary file in the same directory, which is fsynced and renamed
    over ``path``; then the directory is fsynced so that the rename is durable.

    Raises:
        TypeError: ``data`` is not serializable (orjson.JSONEncodeError).
        OSError: writing failed; ``path`` is unchanged.
    """
    payload = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_directory(path.parent)


def read_json(path: Path, default: T) -> object | T:
    """Read a JSON file.

    Args:
        path: the file.
        default: returned when the file does not exist.

    Returns:
        The decoded JSON, or ``default``.

    Raises:
        ValueError: the file is not valid JSON; the message names the file.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return default
    try:
        value: object = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    return value
