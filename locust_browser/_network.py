"""Turn a page's network traffic into rows, timed as the browser timed it.

Design note: every request of the chosen resource types (by default the
page's documents and its XHR and fetch calls, the traffic a server's capacity
is about) becomes one row: typed by its method, named by its grouped URL,
timed by the browser's resource timing from request start to last byte, and
failed when its status is 400 or more or the request failed outright
(``net::ERR_...``, the reason in the error). Listeners run on the loop's
greenlet and only read what the events carry, so a row costs no round trip.

The last byte is known when the request finishes. A response whose body the
page never reads does not finish; it ends as failed when the page navigates
away (``net::ERR_ABORTED``) or is still pending when the page closes. Such a
response was answered all the same, so its row is timed to the first byte and
judged by its status, as a WAIT row is. A request the page itself aborted
before any answer (a navigation cancelling a fetch in flight) is no row: the
server was not asked to fail, and the row would count the user's haste. Nor
is a request the browser refused because ``--block-resources`` said so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

from locust_browser._blocking import BLOCKED_FAILURE
from locust_browser._facade import listen
from locust_browser._grouping import URLGrouper
from locust_browser._rows import fire_row

__all__ = [
    "DEFAULT_RESOURCE_TYPES",
    "RESOURCE_TYPES",
    "NetworkRows",
    "RequestFailed",
    "parse_resource_types",
]

RESOURCE_TYPES = frozenset(
    {
        "document",
        "stylesheet",
        "image",
        "media",
        "font",
        "script",
        "texttrack",
        "xhr",
        "fetch",
        "eventsource",
        "websocket",
        "manifest",
        "other",
    }
)
"""The resource types Playwright's ``request.resource_type`` reports."""

DEFAULT_RESOURCE_TYPES = frozenset({"document", "xhr", "fetch"})

_ABORTED = "net::ERR_ABORTED"
# Failures that are the page's or the test's own doing, not the server's.
_NO_ROW = frozenset({_ABORTED, BLOCKED_FAILURE})


class RequestFailed(Exception):
    """The error of a network row: a status of 400 or more, or a failure."""


def parse_resource_types(value: str | Iterable[str] | None) -> frozenset[str]:
    """Return the resource types a ``--network-rows`` value names.

    Args:
        value: Comma-separated types, an iterable of them, ``"none"`` or an
            empty value for no rows, ``"all"`` for every type; None for the
            default (document, xhr, fetch).

    Raises:
        ValueError: A name that is not a resource type; the message lists
            the valid ones.
    """
    if value is None:
        return DEFAULT_RESOURCE_TYPES
    names = value.split(",") if isinstance(value, str) else list(value)
    types = {name.strip().lower() for name in names if name.strip()}
    if types <= {"none"}:
        return frozenset()
    if types == {"all"}:
        return RESOURCE_TYPES
    unknown = sorted(types - RESOURCE_TYPES)
    if unknown:
        raise ValueError(
            f"network rows: unknown resource type {', '.join(map(repr, unknown))}; "
            f"use a comma-separated list of {', '.join(sorted(RESOURCE_TYPES))}, "
            f"or 'all', or 'none'"
        )
    return frozenset(types)


class NetworkRows:
    """Report the rows of one page's requests.

    Args:
        types: The resource types that become rows.
        grouper: Names the rows.
        fire: Locust's ``events.request.fire``.
    """

    def __init__(
        self,
        types: Collection[str],
        grouper: URLGrouper,
        fire: Callable[..., None],
    ) -> None:
        self._types = frozenset(types)
        self._grouper = grouper
        self._fire = fire
        # Responses whose request has not finished yet, by request.
        self._answered: dict[Any, Any] = {}

    def attach(self, page: Any) -> None:
        """Listen to *page*'s network events; call it before the page loads."""
        if not self._types:
            return
        listen(page, "response", self._on_response)
        listen(page, "requestfinished", self._on_finished)
        listen(page, "requestfailed", self._on_failed)
        listen(page, "close", self._on_close)

    def _on_response(self, response: Any) -> None:
        request = response.request
        if request.resource_type in self._types:
            self._answered[request] = response

    def _on_finished(self, request: Any) -> None:
        response = self._answered.pop(request, None)
        if response is not None:
            self._report(request, response, "responseEnd")

    def _on_failed(self, request: Any) -> None:
        response = self._answered.pop(request, None)
        if response is not None:
            if request.failure == _ABORTED:
                self._report(request, response, "responseStart")
            else:
                self._report_failure(request)
        elif request.resource_type in self._types and request.failure not in _NO_ROW:
            self._report_failure(request)

    def _on_close(self, _page: Any) -> None:
        answered, self._answered = self._answered, {}
        for request, response in answered.items():
            self._report(request, response, "responseStart")

    def _report(self, request: Any, response: Any, mark: str) -> None:
        timing = request.timing
        elapsed_ms = float(timing.get(mark, -1))
        if elapsed_ms < 0:
            elapsed_ms = max(0.0, float(timing.get("responseStart", 0)))
        status = response.status
        fire_row(
            self._fire,
            request.method,
            self._grouper.name(request.url),
            elapsed_ms,
            response_length=_content_length(response),
            exception=(
                RequestFailed(f"HTTP {status} {response.status_text}".rstrip())
                if status >= 400
                else None
            ),
            start_time=timing.get("startTime", time.time() * 1000) / 1000,
            url=request.url,
        )

    def _report_failure(self, request: Any) -> None:
        started_ms = request.timing.get("startTime", 0)
        elapsed_ms = max(0.0, time.time() * 1000 - started_ms) if started_ms else 0.0
        fire_row(
            self._fire,
            request.method,
            self._grouper.name(request.url),
            elapsed_ms,
            exception=RequestFailed(request.failure or "the request failed"),
            start_time=started_ms / 1000 if started_ms else None,
            url=request.url,
        )


def _content_length(response: Any) -> int:
    try:
        return int(response.headers.get("content-length", 0))
    except ValueError:
        return 0
