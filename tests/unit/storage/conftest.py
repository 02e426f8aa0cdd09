"""Storage unit tests observe files right after the store acts on them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lavinmq.storage import segment


@pytest.fixture(autouse=True)
def synchronous_removal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Unlink segments on the spot: a broker started earlier in the same worker process
    (integration tests) turns on background removal for the whole process."""
    segment.drain_removals()
    monkeypatch.setattr(segment, "background_removal", False)
    yield
