"""``_cread.BytesReadTarget``: large reads go straight into the bytes the codec gets."""

from __future__ import annotations

import os
import sys

import pytest

cread = pytest.importorskip("lavinmq.server._cread")


def _read_into(target: object, data: bytes) -> int:
    """Write ``data`` into the target the way a socket read does; the buffer is released."""
    with memoryview(target) as buf:  # type: ignore[arg-type]
        assert not buf.readonly
        buf[: len(data)] = data
    return len(data)


def test_a_large_read_is_handed_over_and_the_next_read_gets_a_fresh_buffer() -> None:
    target = cread.BytesReadTarget(1024)
    first = target.take(_read_into(target, b"a" * 700))
    second = target.take(_read_into(target, b"b" * 900))
    assert (first, second) == (b"a" * 700, b"b" * 900)
    assert type(first) is bytes and len(first) == 700 and first.endswith(b"a")
    assert sys.getrefcount(first) == 2  # only ours: handed over, not shared
    assert hash(first) == hash(b"a" * 700)


def test_a_small_read_is_copied_and_the_buffer_kept() -> None:
    target = cread.BytesReadTarget(1024)
    small = target.take(_read_into(target, b"s" * 10))
    large = target.take(_read_into(target, b"L" * 600))
    assert (small, large) == (b"s" * 10, b"L" * 600)


def test_taken_while_still_exported_as_uvloop_does() -> None:
    # uvloop releases the buffer after buffer_updated returns, i.e. after take.
    target = cread.BytesReadTarget(64)
    view = memoryview(target)
    view[:40] = b"x" * 40
    taken = target.take(40)
    view.release()
    target.take(_read_into(target, b"y" * 64))
    assert taken == b"x" * 40


def test_a_real_socket_read_fills_it() -> None:
    target = cread.BytesReadTarget(1 << 20)
    r, w = os.pipe()
    try:
        os.write(w, b"xyz" * 1000)
        n = os.readv(r, [target])
    finally:
        os.close(r)
        os.close(w)
    assert target.take(n) == b"xyz" * 1000


def test_take_without_a_read_is_refused() -> None:
    target = cread.BytesReadTarget(64)
    target.take(_read_into(target, b"z" * 64))
    with pytest.raises(ValueError):
        target.take(1)


@pytest.mark.parametrize("n", [-1, 65])
def test_take_refuses_sizes_the_buffer_cannot_hold(n: int) -> None:
    target = cread.BytesReadTarget(64)
    _read_into(target, b"x")
    with pytest.raises(ValueError):
        target.take(n)


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        cread.BytesReadTarget(0)


def test_take_of_nothing_is_empty() -> None:
    target = cread.BytesReadTarget(64)
    _read_into(target, b"")
    assert target.take(0) == b""
