"""Name rows by grouped URL, so a journey over thousands of ids makes few rows.

Design note: Locust keeps one row per (type, name), so naming a row by its raw
URL would make a row per product, per order and per query string, and the
report unreadable. A :class:`URLGrouper` names a URL by, in order: the first
of the user class's own rules that matches it (a Playwright glob or a regex,
to a name); else its path with the query string dropped and each segment that
looks like an id (a number, a UUID, a long hex string) replaced by ``{id}``.
URLs on another host than the target keep their host in front of the path,
so third-party calls stay apart from the system under test.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from locust_browser._matcher import url_matcher

__all__ = ["ID", "URLGrouper", "group_path"]

ID = "{id}"

_ID_SEGMENT = re.compile(
    r"\d+"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}"
)

GroupingRules = Iterable[tuple[str | re.Pattern[str], str]]
"""A user class's rules: (a glob or regex over the whole URL, a row name)."""


class URLGrouper:
    """Name URLs for rows, by the user's rules first, then by grouped path.

    Args:
        base_url: The target; URLs on its host are named by path alone.
        rules: Pairs of a pattern (glob, resolved against *base_url*, or
            regex) and the name for the URLs it matches, tried in order.

    Raises:
        ValueError: A rule's glob is invalid.
        TypeError: A rule's pattern is not a glob or a regex.
    """

    def __init__(self, *, base_url: str | None = None, rules: GroupingRules = ()):
        self._rules: list[tuple[Callable[[str], bool], str]] = [
            (url_matcher(pattern, base_url=base_url, argument="rule"), name)
            for pattern, name in rules
        ]
        self._target = urlsplit(base_url).netloc if base_url else None

    def name(self, url: str) -> str:
        """Return the row name for *url*."""
        for matches, name in self._rules:
            if matches(url):
                return name
        parts = urlsplit(url)
        path = group_path(parts.path)
        if self._target is None or parts.netloc == self._target or not parts.netloc:
            return path
        return f"{parts.netloc}{path}"


@functools.lru_cache(maxsize=4096)
def group_path(path: str) -> str:
    """Return *path* with its id-like segments replaced by ``{id}``."""
    segments = [
        ID if _ID_SEGMENT.fullmatch(segment) else segment for segment in path.split("/")
    ]
    return "/".join(segments) or "/"
