"""The shop's static files: page, script, style sheet, pictures and font.

Design note: the HTML, JavaScript and CSS ship as files under ``static/``;
the product pictures (PNG) and the font (TrueType) are made by code when the
server starts, so the package carries no binary files and no third party's
work. Each picture has a soft gradient, a shape and a grain of deterministic
noise, which keeps it a few kilobytes, as a small product photo would be.
Everything is read or made once and kept in memory, with its content type and
cache policy.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from locust_browser.demo._font import font
from locust_browser.demo._shop import IMAGES

__all__ = ["Asset", "load_assets", "picture", "png"]

STATIC = Path(__file__).with_name("static")
"""Where the shop's page, script and style sheet live."""

CACHED = "public, max-age=3600"
"""The cache policy of scripts, styles, pictures and the font."""

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".ttf": "font/ttf",
}

# Background top, background bottom and shape colour of each picture; every
# channel stays at most 240 so that the noise added to it cannot carry over.
_PALETTES = [
    ((236, 224, 200), (200, 180, 150), (200, 80, 40)),
    ((214, 230, 236), (160, 190, 210), (40, 90, 160)),
    ((226, 236, 214), (180, 200, 160), (60, 130, 60)),
    ((238, 220, 226), (210, 170, 185), (150, 40, 90)),
    ((230, 230, 230), (185, 185, 190), (60, 60, 70)),
    ((240, 232, 200), (215, 195, 140), (190, 140, 20)),
]


@dataclass(frozen=True)
class Asset:
    """A static response: its body, content type and cache policy."""

    body: bytes
    content_type: str
    cache_control: str


def load_assets() -> dict[str, Asset]:
    """Read the static files and make the pictures and font, by URL path."""
    assets = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in _TYPES and path.name != "shop.html":
            assets[f"/static/{path.name}"] = Asset(
                path.read_bytes(), _TYPES[path.suffix], CACHED
            )
    for number in range(1, IMAGES + 1):
        assets[f"/static/products/{number}.png"] = Asset(
            picture(number), _TYPES[".png"], CACHED
        )
    assets["/static/glyphs.ttf"] = Asset(font(), _TYPES[".ttf"], CACHED)
    return assets


def shop_page() -> Asset:
    """Return the shop's single page; browsers revalidate it on every load."""
    body = (STATIC / "shop.html").read_bytes()
    return Asset(body, _TYPES[".html"], "no-cache")


def picture(number: int, width: int = 240, height: int = 180) -> bytes:
    """Draw product picture *number* (1 to :data:`IMAGES`) as a PNG."""
    top, bottom, ink = _PALETTES[(number - 1) % len(_PALETTES)]
    rng = random.Random(number)
    # Rows of noise, 0 to 7 in each byte, drawn from a small pool.
    grain = [
        int.from_bytes(bytes(rng.randrange(8) for _ in range(width * 3)), "big")
        for _ in range(24)
    ]
    radius, middle = height * 0.32, (width / 2, height * 0.46)

    rows = []
    for y in range(height):
        shade = y / (height - 1)
        colour = bytes(
            round(a + (b - a) * shade) for a, b in zip(top, bottom, strict=True)
        )
        row = bytearray(colour * width)
        left, right = _span(number, y, middle, radius)
        if left < right:
            row[left * 3 : right * 3] = bytes(ink) * (right - left)
        noisy = int.from_bytes(row, "big") + rng.choice(grain)
        rows.append(noisy.to_bytes(width * 3, "big"))
    return png(width, height, rows)


def _span(
    number: int, y: int, middle: tuple[float, float], radius: float
) -> tuple[int, int]:
    """Return the columns a picture's shape covers on row *y*: a disc, a
    square or a triangle, by picture number."""
    dy = abs(y - middle[1])
    if dy > radius:
        return 0, 0
    kind = number % 3
    if kind == 0:
        half = (radius * radius - dy * dy) ** 0.5
    elif kind == 1:
        half = radius * 0.9
    else:
        half = (y - (middle[1] - radius)) / 2 * 1.1
    return round(middle[0] - half), round(middle[0] + half)


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    """Encode 8-bit RGB *rows* as a PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # Filter type 1 (each byte minus its left neighbour's) suits gradients.
    raw = b"".join(b"\x01" + _sub_filter(row) for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _sub_filter(row: bytes) -> bytes:
    shifted = b"\0\0\0" + row[:-3]
    return bytes((a - b) & 0xFF for a, b in zip(row, shifted, strict=True))
