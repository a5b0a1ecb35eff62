"""Finish a response wait: block, time it as the browser did, report its row.

Design note: the handler knows nothing of Locust or of timing; this module
turns a settled waiter into exactly one WAIT row. A match is timed by the
browser's own resource timing of the matched request, request start to last
byte, so the generator's own scheduling delays do not count as server latency.
The last byte is known only once the page reads the body, which may be after
the task has moved on, or never (a fetch whose body nobody reads). So the task
gets its response at once, and the row is reported from the loop when the body
is in, or after a grace period with the first byte's time instead.

A timeout, a closed or crashed page and a predicate that raised are failed
rows, reported before the error reaches the task; a status of 400 or more is a
failed row whose response still goes back to the task. The errors raised to
the task after a failed row end the task quietly: Locust moves the user to its
next task without logging a traceback, and the failure is not reported twice.
"""

from __future__ import annotations

import locust  # noqa: F401  (gevent patches first)  # isort: skip

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from locust.exception import RescheduleTask
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from locust_browser._artifacts import capture
from locust_browser._handler import WaitRejected, WaitTimedOut
from locust_browser._rows import fire_row

if TYPE_CHECKING:
    from locust.event import EventHook

    from locust_browser._bridge import Bridge
    from locust_browser._handler import ResponseEventHandler, Waiter

__all__ = [
    "ResponseStatusError",
    "ResponseTimeoutError",
    "WaitRejectedError",
    "WaitReporter",
    "drain_reports",
    "finish_wait",
]

FINISH_GRACE = 10.0
"""Seconds a matched response's row waits for the body's last byte."""

MIN_FINISH_GRACE = 0.5
"""Seconds the row waits at least, even when the wait's deadline is closer."""

_pending: set[asyncio.Task[None]] = set()

E = TypeVar("E", bound=BaseException)


class ResponseTimeoutError(PlaywrightTimeoutError, RescheduleTask):
    """No matching response arrived in time; its failed WAIT row is reported.

    It is Playwright's ``TimeoutError``, so ``except TimeoutError`` around a
    wait still works; left uncaught, it ends the task without a traceback.
    """


class WaitRejectedError(PlaywrightError, RescheduleTask):
    """The page closed or crashed, or the browser went away, mid-wait.

    Its failed WAIT row is reported; left uncaught, it ends the task without a
    traceback.
    """


class ResponseStatusError(Exception):
    """The error of a WAIT row whose matched response has status 400 or more."""


class WaitReporter:
    """Report WAIT rows through Locust's ``request`` event.

    Args:
        request_event: The environment's ``events.request`` hook.
    """

    __slots__ = ("_fire",)

    def __init__(self, request_event: EventHook) -> None:
        self._fire: Callable[..., None] = request_event.fire

    def report(
        self,
        name: str,
        response_time_ms: float,
        *,
        response_length: int = 0,
        exception: BaseException | None = None,
        url: str | None = None,
    ) -> None:
        """Fire one WAIT row."""
        fire_row(
            self._fire,
            "WAIT",
            name,
            response_time_ms,
            response_length=response_length,
            exception=exception,
            url=url,
        )


def finish_wait(
    handler: ResponseEventHandler,
    waiter: Waiter,
    page: Any,
    bridge: Bridge,
    reporter: WaitReporter,
) -> Any:
    """Block until *waiter* settles, report its WAIT row, return the response.

    Raises:
        ResponseTimeoutError: No match before the deadline.
        WaitRejectedError: The page or browser went away first.
        Exception: What a callable predicate raised.
    """
    try:
        response = handler.wait(waiter)
    except WaitTimedOut as error:
        waited_ms = _waited_ms(waiter)
        failure = with_artifact(error, bridge.run(capture(page, "WAIT", waiter.name)))
        reporter.report(waiter.name, waited_ms, exception=failure)
        raise ResponseTimeoutError(str(failure)) from None
    except WaitRejected as error:
        reporter.report(waiter.name, _waited_ms(waiter), exception=error)
        raise WaitRejectedError(str(error)) from None
    except Exception as error:
        reporter.report(waiter.name, _waited_ms(waiter), exception=error)
        raise

    # The body may still be on its way, or never be read by the page: the row
    # waits for it on the loop, so the task goes on at once.
    grace = FINISH_GRACE
    if waiter.timeout_ms:
        remaining = waiter.timeout_ms / 1000 - _waited_ms(waiter) / 1000
        grace = min(grace, max(remaining, MIN_FINISH_GRACE))
    task = bridge.submit(_report_match(response, waiter, page, reporter, grace))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return response


async def drain_reports() -> None:
    """Report every match whose row still waits for its body, at once."""
    tasks = list(_pending)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)


async def _report_match(
    response: Any, waiter: Waiter, page: Any, reporter: WaitReporter, grace: float
) -> None:
    try:
        await asyncio.wait_for(response.finished(), grace)
    except (TimeoutError, PlaywrightError, asyncio.CancelledError):
        pass
    error = _status_error(response)
    if error is not None:
        error = with_artifact(error, await capture(page, "WAIT", waiter.name))
    reporter.report(
        waiter.name,
        _browser_duration_ms(response, waiter),
        response_length=_content_length(response),
        exception=error,
        url=response.url,
    )


def with_artifact(error: E, path: str | None) -> E:
    """Return *error*, or one like it whose message names the artifact."""
    if path is None:
        return error
    return type(error)(f"{error} (screenshot: {path})")


def _browser_duration_ms(response: Any, waiter: Waiter) -> float:
    # Resource timing is relative to the request's start. The last byte is
    # known only once the page has read the body; a body it never reads (an
    # unconsumed fetch) leaves the first byte as the best the browser knows.
    timing = response.request.timing
    for mark in ("responseEnd", "responseStart"):
        value = float(timing.get(mark, -1))
        if value >= 0:
            return value
    # A response without timing (served from a cache or a service worker).
    return (waiter.settled_at - waiter.registered_at) * 1000


def _waited_ms(waiter: Waiter) -> float:
    return (time.perf_counter() - waiter.registered_at) * 1000


def _content_length(response: Any) -> int:
    try:
        return int(response.headers.get("content-length", 0))
    except ValueError:
        return 0


def _status_error(response: Any) -> ResponseStatusError | None:
    status = response.status
    if status < 400:
        return None
    path = urlsplit(response.url).path or "/"
    return ResponseStatusError(
        f"HTTP {status} {response.status_text} for "
        f"{response.request.method} {path}".replace("  ", " ")
    )
