"""Keep images, fonts or media from loading, inside the browser itself.

Design note: Playwright's ``route()`` would stop every request of the page in
the driver and ask Python what to do with it, a round trip per request that
costs more than the picture it saves. The browser is told instead, and does
the refusing itself:

- images: the Blink setting ``imagesEnabled=false``, passed at launch. Blink
  then asks for no image at all (``<img>``, CSS backgrounds, icons) and
  draws none. The switch replaces the one Playwright passes for headless
  pages, so Playwright's settings are repeated in it, or hover and pointer
  media queries would change.
- fonts: the switch ``--disable-remote-fonts``. Web fonts are not fetched;
  text is drawn in the fallback font.
- media: no switch keeps audio and video from loading, so each page gets a
  DevTools session whose URL patterns (``Network.setBlockedURLs``, by file
  extension) the browser checks itself; a matching request fails at once,
  with the browser's reason ``inspector``. The browser applies a session's
  patterns only while its network domain is enabled, so every network event
  of the page also crosses that session to Python, where nothing listens.
  Measured on images, that cost more than it saved; for media, which is
  large and rare, it is worth it.

The launch switches hold for the whole browser, which every user of a
process shares, so blocking is an option of the run (``--block-resources``),
not of a user class. It changes what the page does (image sizes no longer
shape the layout, text falls back to another font, LCP may be text rather
than a picture), and so is off unless asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "BLOCKABLE",
    "BLOCKED_FAILURE",
    "MEDIA_EXTENSIONS",
    "PLAYWRIGHT_BLINK_SETTINGS",
    "block_in_browser",
    "blocking_launch_args",
    "media_url_patterns",
    "parse_blocked",
]

BLOCKABLE = ("image", "font", "media")
"""The resource types that can be blocked."""

MEDIA_EXTENSIONS = (
    *("mp4", "webm", "ogg", "ogv", "mp3", "wav", "m4a", "aac", "flac", "mov"),
    *("m3u8", "mpd", "ts", "m4s"),
)
"""The file extensions of the media requests the browser refuses."""

PLAYWRIGHT_BLINK_SETTINGS = (
    "primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,"
    "availablePointerTypes=4"
)
"""What Playwright passes as ``--blink-settings`` for headless pages."""

BLOCKED_FAILURE = "inspector"
"""Playwright's ``request.failure`` for a request refused on a pattern."""


def parse_blocked(value: str | Iterable[str] | None) -> frozenset[str]:
    """Return the resource types a ``--block-resources`` value names.

    Args:
        value: Comma-separated types (``image``, ``font``, ``media``) or an
            iterable of them; None, empty or ``"none"`` for none.

    Raises:
        ValueError: A name that cannot be blocked; the message lists those
            that can.
    """
    if value is None:
        return frozenset()
    names = value.split(",") if isinstance(value, str) else list(value)
    types = {name.strip().lower() for name in names if name.strip()}
    if types <= {"none"}:
        return frozenset()
    unknown = sorted(types - set(BLOCKABLE))
    if unknown:
        raise ValueError(
            f"--block-resources: cannot block {', '.join(map(repr, unknown))}; "
            f"use a comma-separated list of {', '.join(BLOCKABLE)}, or 'none'"
        )
    return frozenset(types)


def blocking_launch_args(types: Iterable[str]) -> list[str]:
    """Return the browser switches that block *types* at launch."""
    chosen = set(types)
    args = []
    if "image" in chosen:
        args.append(f"--blink-settings={PLAYWRIGHT_BLINK_SETTINGS},imagesEnabled=false")
    if "font" in chosen:
        args.append("--disable-remote-fonts")
    return args


def media_url_patterns(types: Iterable[str]) -> list[str]:
    """Return the URL patterns that block media, with and without a query."""
    if "media" not in set(types):
        return []
    return [
        pattern
        for extension in MEDIA_EXTENSIONS
        for pattern in (f"*.{extension}", f"*.{extension}?*")
    ]


async def block_in_browser(context: Any, page: Any, patterns: list[str]) -> None:
    """Have the browser refuse *page*'s requests to URLs matching *patterns*."""
    session = await context.new_cdp_session(page)
    await session.send("Network.enable")
    await session.send("Network.setBlockedURLs", {"urls": patterns})
