"""Keep images, fonts or media from loading, inside the browser itself.

Design note: Playwright's ``route()`` would stop every request of the page in
the driver and ask Python what to do with it, a round trip per request that
costs more than the image it saves. Instead each user's page gets a DevTools
session of its own, and the browser is handed URL patterns
(``Network.setBlockedURLs``) that it checks itself: a matching request fails
at once and never reaches the network; Playwright gives its failure as the
browser's reason, ``inspector`` (blocked by DevTools).
The patterns go by file extension, since a URL is all the browser has to
match before the request is sent; a picture served from a URL without one of
these extensions still loads. The session has its network domain enabled, as
the browser applies a session's patterns only then, so its network events
also cross to Python, where nothing listens to them.

Blocking changes what the page does (no image decode, no layout from image
sizes, fallback fonts) and so is off unless asked for, by ``--block-resources``
or a user class's ``block_resources``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["BLOCKABLE", "BLOCKED_FAILURE", "blocked_url_patterns", "parse_blocked"]

BLOCKABLE: dict[str, tuple[str, ...]] = {
    "image": ("png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp"),
    "font": ("woff", "woff2", "ttf", "otf", "eot"),
    "media": ("mp4", "webm", "ogg", "ogv", "mp3", "wav", "m4a", "aac", "flac", "mov"),
}
"""The resource types that can be blocked, with the extensions that name them."""

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
            f"block resources: cannot block {', '.join(map(repr, unknown))}; "
            f"use a comma-separated list of {', '.join(BLOCKABLE)}, or 'none'"
        )
    return frozenset(types)


def blocked_url_patterns(types: Iterable[str]) -> list[str]:
    """Return the browser's URL patterns for *types*, with and without a query."""
    patterns = []
    for kind in sorted(types):
        for extension in BLOCKABLE[kind]:
            patterns += [f"*.{extension}", f"*.{extension}?*"]
    return patterns


async def block_in_browser(context: Any, page: Any, patterns: list[str]) -> None:
    """Have the browser refuse *page*'s requests to URLs matching *patterns*."""
    session = await context.new_cdp_session(page)
    await session.send("Network.enable")
    await session.send("Network.setBlockedURLs", {"urls": patterns})
