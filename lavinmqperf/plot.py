"""``--plot FILE``: a PNG of the publish (red) and consume (blue) rate per second.

No plotting library is needed: numpy draws into an RGB array and the PNG is written with
zlib. Horizontal grid lines mark each tenth of the peak rate; the peak and the duration
are stored as PNG text chunks (``Peak-Rate``, ``Seconds``) and in the file's title.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

WIDTH, HEIGHT, MARGIN = 800, 320, 20
PUBLISH = (220, 40, 40)
CONSUME = (40, 80, 220)
GRID = (225, 225, 225)
Canvas = npt.NDArray[np.uint8]


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(pixels: Canvas, text: dict[str, str]) -> bytes:
    """Encode an ``(h, w, 3)`` uint8 array as an RGB PNG with tEXt chunks."""
    height, width, _ = pixels.shape
    raw = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # filter byte 0 per row
    raw[:, 1:] = pixels.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [_chunk(b"IHDR", header)]
    chunks += [_chunk(b"tEXt", f"{k}\0{v}".encode("latin-1")) for k, v in text.items()]
    chunks.append(_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)))
    chunks.append(_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _draw_series(canvas: Canvas, values: Sequence[int], peak: int, color: tuple[int, ...]) -> None:
    if not values:
        return
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    steps = max(len(values) - 1, 1)
    xs = MARGIN + np.arange(len(values)) * plot_w / steps
    ys = HEIGHT - MARGIN - np.asarray(values, dtype=np.float64) / peak * plot_h
    for i in range(len(values) - 1):
        n = int(max(abs(xs[i + 1] - xs[i]), abs(ys[i + 1] - ys[i]))) + 1
        px = np.linspace(xs[i], xs[i + 1], n).round().astype(int)
        py = np.linspace(ys[i], ys[i + 1], n).round().astype(int)
        for dy in (-1, 0, 1):  # 3 px thick
            canvas[np.clip(py + dy, 0, HEIGHT - 1), np.clip(px, 0, WIDTH - 1)] = color
    if len(values) == 1:
        canvas[int(ys[0]) - 1 : int(ys[0]) + 2, MARGIN : WIDTH - MARGIN] = color


def render(pub_rates: Sequence[int], consume_rates: Sequence[int]) -> Canvas:
    """Draw the two rate series (msgs/s per second) on a white canvas."""
    canvas = np.full((HEIGHT, WIDTH, 3), 255, dtype=np.uint8)
    peak = max(max(pub_rates, default=0), max(consume_rates, default=0), 1)
    for tenth in range(11):
        y = HEIGHT - MARGIN - round(tenth * (HEIGHT - 2 * MARGIN) / 10)
        canvas[y, MARGIN : WIDTH - MARGIN] = GRID
    canvas[MARGIN : HEIGHT - MARGIN + 1, MARGIN] = 0
    canvas[HEIGHT - MARGIN, MARGIN : WIDTH - MARGIN] = 0
    _draw_series(canvas, consume_rates, peak, CONSUME)
    _draw_series(canvas, pub_rates, peak, PUBLISH)
    return canvas


def write_rate_plot(path: str, pub_rates: Sequence[int], consume_rates: Sequence[int]) -> None:
    """Write the PNG plot of a run's per-second rates to ``path``."""
    peak = max(max(pub_rates, default=0), max(consume_rates, default=0))
    seconds = max(len(pub_rates), len(consume_rates))
    text = {
        "Title": f"lavinmqperf: publish (red) / consume (blue), peak {peak} msgs/s, {seconds} s",
        "Peak-Rate": str(peak),
        "Seconds": str(seconds),
    }
    with open(path, "wb") as f:
        f.write(encode_png(render(pub_rates, consume_rates), text))


__all__ = ["encode_png", "render", "write_rate_plot"]
