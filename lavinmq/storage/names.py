"""Directory names for vhosts and queues, as LavinMQ makes them."""

from __future__ import annotations

import hashlib


def dir_name(name: str) -> str:
    """Return the hex SHA-1 of the UTF-8 ``name``: safe as a file name whatever ``name`` is.

    Example:
        >>> dir_name("/")
        '42099b4af021e53fd8fd4e056c2568d7c2e3ffa8'
    """
    return hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
