"""The per-page registry of greenlets waiting for responses.

Design note: Playwright's own waits add a listener per call and remove it after;
under hundreds of users that is a listener list rebuilt on every wait. Here a
page has one permanent ``response`` listener, :meth:`ResponseEventHandler.dispatch`,
and one dict of waiters. A waiter holds a matcher compiled once at registration,
optional method and status filters, a gevent result slot and its stats name.

Dispatch runs on the event loop's greenlet. It walks a snapshot of the
registry, collects the waiters that match, then settles them; it never blocks
and never yields to the hub, so registration from user greenlets cannot
interleave with it. A waiter's first outcome wins: matched, timed out, cancelled
or rejected; settling a settled waiter does nothing. Whatever the outcome, the
waiter leaves the registry in the ``finally`` of :meth:`ResponseEventHandler.wait`.
"""

from __future__ import annotations

import gevent  # isort: skip

import functools
import logging
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gevent.event import AsyncResult

from locust_browser._matcher import url_matcher

__all__ = [
    "HandlerStatistics",
    "ResponseEventHandler",
    "Waiter",
    "WaitCancelled",
    "WaitRejected",
    "WaitTimedOut",
    "check_timeout",
]

logger = logging.getLogger(__name__)

# Users register the same few patterns over and over; resolving a glob against
# the base URL costs tens of microseconds, a cache hit well under one.
_url_matcher = functools.lru_cache(maxsize=1024)(url_matcher)

URLOrPredicate = str | re.Pattern[str] | Callable[[Any], bool]

MATCHED = "matched"
TIMED_OUT = "timed out"
CANCELLED = "cancelled"
REJECTED = "rejected"


class WaitTimedOut(Exception):
    """No matching response arrived before the waiter's deadline."""


class WaitRejected(Exception):
    """The page went away (closed, crashed, browser disconnected) mid-wait."""


class WaitCancelled(Exception):
    """The waiter was discarded before it settled."""


@dataclass(frozen=True)
class HandlerStatistics:
    """Counts of a handler's waiters by outcome, and how many are active."""

    registered: int
    matched: int
    timed_out: int
    cancelled: int
    rejected: int
    active: int


class Waiter:
    """One registered wait: a compiled matcher, filters and a result slot."""

    __slots__ = (
        "id",
        "description",
        "name",
        "timeout_ms",
        "registered_at",
        "settled_at",
        "outcome",
        "_matches_url",
        "_predicate",
        "_method",
        "_status",
        "_result",
    )

    def __init__(
        self,
        waiter_id: int,
        url_or_predicate: URLOrPredicate,
        *,
        base_url: str | None,
        name: str | None,
        method: str | None,
        status: int | Collection[int] | None,
        timeout_ms: float,
    ) -> None:
        self._matches_url: Callable[[str], bool] | None = None
        self._predicate: Callable[[Any], bool] | None = None
        if isinstance(url_or_predicate, str | re.Pattern):
            self._matches_url = _url_matcher(url_or_predicate, base_url=base_url)
        elif callable(url_or_predicate):
            self._predicate = url_or_predicate
        else:
            url_matcher(url_or_predicate)  # raises the TypeError that names it
        self._method = _check_method(method)
        self._status = _check_status(status)

        self.id = waiter_id
        self.description = describe(url_or_predicate)
        self.name = name if name is not None else self.description
        self.timeout_ms = timeout_ms
        self.registered_at = time.perf_counter()
        self.settled_at = self.registered_at
        self.outcome: str | None = None
        self._result: AsyncResult = AsyncResult()

    def matches(self, response: Any, wrap: Callable[[Any], Any]) -> bool:
        """Whether *response* satisfies this waiter's matcher and filters."""
        if self._method is not None and response.request.method != self._method:
            return False
        if self._status is not None and response.status not in self._status:
            return False
        if self._matches_url is not None:
            return self._matches_url(response.url)
        assert self._predicate is not None
        return bool(self._predicate(wrap(response)))

    def settle(self, outcome: str, value: Any) -> bool:
        """Record the first outcome and wake the waiting greenlet.

        Returns:
            True when this call settled the waiter, False when it already was.
        """
        if self.outcome is not None:
            return False
        self.outcome = outcome
        self.settled_at = time.perf_counter()
        if isinstance(value, BaseException):
            self._result.set_exception(value)
        else:
            self._result.set(value)
        return True


class ResponseEventHandler:
    """Registers, dispatches and discards the response waiters of one page.

    .. important:: Use it only from greenlets of the thread that runs the
       event loop; :meth:`dispatch` must run on the loop's greenlet.

    Args:
        base_url: Resolves relative glob patterns, as the browser context's
            ``base_url`` does in Playwright.
        wrap_response: Turns the raw response into what a callable predicate
            receives (the sync facade's response).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        wrap_response: Callable[[Any], Any] = lambda response: response,
    ) -> None:
        self.base_url = base_url
        self.default_timeout_ms: float | None = None
        self._wrap = wrap_response
        self._waiters: dict[int, Waiter] = {}
        self._registered = 0
        self._rejection: BaseException | None = None
        self._counts = dict.fromkeys((MATCHED, TIMED_OUT, CANCELLED, REJECTED), 0)

    def __len__(self) -> int:
        return len(self._waiters)

    def register(
        self,
        url_or_predicate: URLOrPredicate,
        *,
        name: str | None = None,
        method: str | None = None,
        status: int | Collection[int] | None = None,
        timeout_ms: float = 30_000,
    ) -> Waiter:
        """Compile a matcher and add a waiter for the next matching response.

        Args:
            url_or_predicate: A glob, a compiled regex (searched), or a
                callable that takes the response and returns a bool.
            name: The stats name; by default the pattern.
            method: Only responses to requests of this HTTP method.
            status: Only responses with this status, or one of these.
            timeout_ms: Milliseconds until :meth:`wait` gives up; 0 for never.

        Raises:
            ValueError: An invalid glob, method, status or timeout.
            TypeError: A pattern that is not a string, regex or callable.
        """
        waiter = Waiter(
            self._registered + 1,
            url_or_predicate,
            base_url=self.base_url,
            name=name,
            method=method,
            status=status,
            timeout_ms=check_timeout(timeout_ms),
        )
        if self._rejection is not None:
            waiter.settle(REJECTED, self._rejection)
            self._counts[REJECTED] += 1
        self._waiters[waiter.id] = waiter
        self._registered += 1
        logger.debug("Registered waiter %d for %s", waiter.id, waiter.description)
        return waiter

    def discard(self, waiter: Waiter) -> None:
        """Remove *waiter*; an unsettled one counts as cancelled."""
        # Most waiters are settled by now: build no error for them.
        if waiter.outcome is None:
            waiter.settle(CANCELLED, WaitCancelled(waiter.description))
            self._counts[CANCELLED] += 1
        self._waiters.pop(waiter.id, None)

    def dispatch(self, response: Any) -> int:
        """Settle every waiter that *response* matches; return how many.

        Runs on the loop's greenlet for each response of the page. A predicate
        that raises fails only its own waiter, never the dispatch.
        """
        if not self._waiters:
            return 0
        matched: list[Waiter] = []
        failed: list[tuple[Waiter, BaseException]] = []
        for waiter in list(self._waiters.values()):
            if waiter.outcome is not None:
                continue
            try:
                if waiter.matches(response, self._wrap):
                    matched.append(waiter)
            except Exception as error:
                failed.append((waiter, error))

        for waiter in matched:
            if waiter.settle(MATCHED, response):
                self._counts[MATCHED] += 1
        for waiter, raised in failed:
            if waiter.settle(REJECTED, raised):
                self._counts[REJECTED] += 1
        return len(matched)

    def reject_all(self, error: BaseException) -> int:
        """Reject every active waiter, and every later one, with *error*.

        Args:
            error: What the waiting greenlets raise; its message says why.

        Returns:
            How many active waiters it rejected.
        """
        if self._rejection is None:
            self._rejection = error
        rejected = 0
        for waiter in list(self._waiters.values()):
            if waiter.settle(REJECTED, error):
                rejected += 1
        self._counts[REJECTED] += rejected
        return rejected

    def wait(self, waiter: Waiter) -> Any:
        """Block the calling greenlet until *waiter* settles; return the response.

        The waiter leaves the registry on every path.

        Raises:
            WaitTimedOut: The deadline passed first.
            WaitRejected: Or the error given to :meth:`reject_all`.
            BaseException: Whatever killed the calling greenlet; the waiter
                then counts as cancelled.
        """
        timeout = None
        if waiter.timeout_ms:
            elapsed = time.perf_counter() - waiter.registered_at
            timeout = max(0.0, waiter.timeout_ms / 1000 - elapsed)
        try:
            return waiter._result.get(timeout=timeout)
        except gevent.Timeout:
            error = WaitTimedOut(
                f"Timeout {waiter.timeout_ms:g}ms exceeded while waiting for a "
                f"response matching {waiter.description}"
            )
            if waiter.settle(TIMED_OUT, error):
                self._counts[TIMED_OUT] += 1
                raise error from None
            # A dispatch settled it in the same turn of the hub: it wins.
            return waiter._result.get(block=False)
        finally:
            self.discard(waiter)

    def statistics(self) -> HandlerStatistics:
        """Return the counts of waiters by outcome and the active count."""
        counts = self._counts
        return HandlerStatistics(
            registered=self._registered,
            matched=counts[MATCHED],
            timed_out=counts[TIMED_OUT],
            cancelled=counts[CANCELLED],
            rejected=counts[REJECTED],
            active=len(self._waiters),
        )


def describe(url_or_predicate: object) -> str:
    """Return how a pattern appears in row names and messages."""
    if isinstance(url_or_predicate, str):
        return url_or_predicate
    if isinstance(url_or_predicate, re.Pattern):
        return f"/{url_or_predicate.pattern}/"
    return getattr(url_or_predicate, "__name__", type(url_or_predicate).__name__)


def check_timeout(timeout: object, argument: str = "timeout") -> float:
    """Return *timeout* in milliseconds, refusing what is not one."""
    if isinstance(timeout, timedelta):
        timeout = timeout.total_seconds() * 1000
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(
            f"{argument} must be a number of milliseconds, "
            f"not {type(timeout).__name__}: {timeout!r}"
        )
    if not timeout >= 0:
        raise ValueError(
            f"{argument} must be 0 (no timeout) or a positive number of "
            f"milliseconds, not {timeout!r}"
        )
    return float(timeout)


def _check_method(method: object) -> str | None:
    if method is None:
        return None
    if not isinstance(method, str) or not method.isalpha():
        raise ValueError(
            f"method must be an HTTP method such as 'POST', not {method!r}"
        )
    return method.upper()


def _check_status(status: object) -> Collection[int] | None:
    if status is None:
        return None
    statuses = (status,) if isinstance(status, int) else status
    if not isinstance(statuses, Collection) or not all(
        isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599
        for code in statuses
    ):
        raise ValueError(
            f"status must be an HTTP status from 100 to 599, or a collection of "
            f"them such as range(200, 300), not {status!r}"
        )
    return frozenset(statuses) if not isinstance(statuses, range) else statuses
