"""Durability helper shared by the files that are replaced by rename."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(path: Path | str) -> None:
    """Fsync a directory so that entries created or renamed in it are durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
