"""Web vitals of every page view: VITAL rows, and layout shift per page.

Design note: a small collector script, added to each user's context as an init
script, runs in every top-level document before the page's own scripts. It
watches the browser's performance entries (paints, largest contentful paints,
layout shifts, slow interactions) and keeps the values in the page; nothing
crosses to Python while the page view lasts. When the view ends, the script
finalises the values and hands them over in one call of an exposed binding.

Which event ends a view matters. Chromium does not pass on to Playwright what
a document sends while it unloads: a binding called from ``pagehide`` during
a navigation never arrives (nor does a raw CDP binding, nor a console message).
So a navigation ends the view at ``beforeunload``, the last moment the old
document can still speak; ``pagehide`` and the document turning hidden end it
too, where they can. Closing a page or its context fires none of these, so
:func:`flush_vitals` asks the page to hand its values over, through the same
binding, before the context closes. The script marks itself delivered: the
first of these wins, and a page view is reported once. The cost: a navigation
that is cancelled after its ``beforeunload`` (a 204 response, a download)
leaves the rest of that page view unreported.

The binding callback runs on the event loop's greenlet: it only checks the
payload and fires Locust's ``request`` event, which never blocks. TTFB, FCP,
LCP and INP become VITAL rows named by metric and grouped path. CLS is not a
time, so it is kept per grouped page in this process and logged as a table
when Locust quits.

INP is approximated. The browser reports interactions of 40 ms or more
(``durationThreshold``), and the first input whatever its length. An
interaction's latency is the longest duration among its entries; INP is the
longest latency after one of the longest is set aside per 50 interactions,
as a 98th percentile would. An input whose next paint has not been presented
when the view ends has no entry yet: it counts as one more interaction, with
the time it has lasted so far (up to the next frame, if one came). That
estimate is a lower bound: it stops where the next frame starts, a little
before the frame is presented.
"""

from __future__ import annotations

import locust  # isort: skip

import asyncio
import functools
import json
import logging
import math
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from locust.runners import MasterRunner
from playwright.async_api import Error as PlaywrightError

from locust_browser._grouping import URLGrouper
from locust_browser._rows import fire_row

if TYPE_CHECKING:
    from locust.env import Environment
    from locust.event import EventHook
    from playwright.async_api import BrowserContext, Page

__all__ = [
    "CLSSummary",
    "PageVitals",
    "VitalsReporter",
    "cls_by_page",
    "flush_vitals",
    "format_cls_table",
    "install_vitals",
    "reset_cls",
]

logger = logging.getLogger(__name__)

BINDING = "__locustBrowserVitals"
"""The exposed binding through which a page hands over its page view."""

FLUSH = "__locustBrowserVitalsFlush"
"""The page's function that ends its page view and hands it over at once."""

FLUSH_TIMEOUT = 2.0
"""Seconds a page gets to hand over its values before its context closes."""

INP_THRESHOLD_MS = 40
"""The shortest interaction, in ms, that the browser reports for INP."""

METRICS = ("TTFB", "FCP", "LCP", "INP")
"""The timings that become VITAL rows, in the order they are reported."""

_COLLECTOR = string.Template("""
(() => {
  const binding = $binding;
  const flush = $flush;
  const threshold = $threshold;
  const protocol = location.protocol;
  if (window.top !== window || !["http:", "https:"].includes(protocol)) return;
  if (Object.prototype.hasOwnProperty.call(window, flush)) return;

  const url = location.href;
  const view = { fcp: null, lcp: null };
  const shifts = { worst: 0, sum: 0, first: -1, last: -1 };
  const slow = { count: 0, highest: 0, latency: new Map() };
  const inFlight = new Map();
  let delivered = false;

  // A session window of shifts closes after a 1 s gap or at 5 s long.
  const onShift = (entry) => {
    if (entry.hadRecentInput) return;
    const at = entry.startTime;
    if (shifts.first < 0 || at - shifts.last > 1000 || at - shifts.first > 5000) {
      shifts.first = at;
      shifts.sum = 0;
    }
    shifts.sum += entry.value;
    shifts.last = at;
    shifts.worst = Math.max(shifts.worst, shifts.sum);
  };

  const addLatency = (id, latency) => {
    slow.latency.set(id, Math.max(slow.latency.get(id) || 0, latency));
    if (slow.latency.size > 100) {
      const kept = [...slow.latency].sort((a, b) => b[1] - a[1]).slice(0, 10);
      slow.latency = new Map(kept);
    }
  };

  // The entries of one interaction share its id; ids only grow.
  const onInteraction = (entry) => {
    inFlight.delete(entry.startTime);
    const id = entry.interactionId;
    if (!id) return;
    if (id > slow.highest) {
      slow.highest = id;
      slow.count += 1;
    }
    addLatency(id, entry.duration);
  };

  // An input has its entry only once the paint after it is presented. Until
  // then it is in flight: at the next frame, an input faster than the
  // threshold is dropped, a slower one keeps the time it took to get there.
  const onInput = (event) => {
    const started = event.timeStamp;
    if (inFlight.has(started)) return;
    inFlight.set(started, 0);
    if (inFlight.size > 20) inFlight.delete(inFlight.keys().next().value);
    requestAnimationFrame(() => {
      const lasted = performance.now() - started;
      if (lasted < threshold) inFlight.delete(started);
      else if (inFlight.has(started)) inFlight.set(started, lasted);
    });
  };
  for (const type of ["pointerdown", "pointerup", "click", "keydown", "keyup"]) {
    addEventListener(type, onInput, { capture: true, passive: true });
  }

  // An input still in flight when the view ends counts as one interaction,
  // with the time it has lasted so far.
  const countInFlight = () => {
    let lasted = 0;
    for (const [started, frame] of inFlight) {
      lasted = Math.max(lasted, frame || performance.now() - started);
    }
    if (lasted < threshold) return;
    slow.count += 1;
    addLatency(-1, lasted);
  };

  const inp = () => {
    if (slow.latency.size === 0) return null;
    const longest = [...slow.latency.values()].sort((a, b) => b - a);
    return longest[Math.min(Math.floor(slow.count / 50), longest.length - 1)];
  };

  const observers = [];
  const watch = (options, handle) => {
    try {
      const observer = new PerformanceObserver((list) => {
        list.getEntries().forEach(handle);
      });
      observer.observe({ ...options, buffered: true });
      observers.push([observer, handle]);
    } catch (error) {
      // This browser does not report that entry type.
    }
  };
  watch({ type: "paint" }, (entry) => {
    if (entry.name === "first-contentful-paint") view.fcp = entry.startTime;
  });
  watch({ type: "largest-contentful-paint" }, (entry) => {
    view.lcp = entry.startTime;
  });
  watch({ type: "layout-shift" }, onShift);
  watch({ type: "event", durationThreshold: threshold }, onInteraction);
  watch({ type: "first-input" }, onInteraction);

  const take = () => {
    if (delivered) return null;
    delivered = true;
    for (const [observer, handle] of observers) {
      observer.takeRecords().forEach(handle);
      observer.disconnect();
    }
    countInFlight();
    const navigation = performance.getEntriesByType("navigation")[0];
    const firstByte = navigation ? navigation.responseStart : 0;
    return {
      url,
      started: performance.timeOrigin,
      ttfb: firstByte > 0 ? firstByte : null,
      fcp: view.fcp,
      lcp: view.lcp,
      inp: inp(),
      cls: view.fcp === null ? null : shifts.worst,
    };
  };

  const handOver = () => {
    const values = take();
    if (values === null || typeof window[binding] !== "function") return;
    Promise.resolve(window[binding](values)).catch(() => {});
  };
  // Chromium drops what an unloading document sends to Playwright, so for a
  // navigation, beforeunload is the last moment a hand-over arrives.
  addEventListener("beforeunload", handOver, true);
  addEventListener("pagehide", handOver, true);
  addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") handOver();
  }, true);
  Object.defineProperty(window, flush, {
    value: () => {
      const values = take();
      return values === null ? null : window[binding](values);
    },
  });
})();
""").substitute(
    binding=json.dumps(BINDING), flush=json.dumps(FLUSH), threshold=INP_THRESHOLD_MS
)

_FLUSH_CALL = "(name) => (typeof window[name] === 'function' ? window[name]() : null)"


@dataclass(frozen=True)
class PageVitals:
    """The web vitals of one finished page view.

    Times are milliseconds from the start of the page view's navigation; a
    metric the page view did not produce (no paint, no interaction) is None.
    """

    url: str
    """The document's URL when the page view started."""

    started_at: float
    """When the page view's navigation started, in seconds since the epoch."""

    ttfb_ms: float | None
    fcp_ms: float | None
    lcp_ms: float | None
    inp_ms: float | None

    cls: float | None
    """The largest session window of unexpected layout shifts; None when the
    page never painted."""

    def timings(self) -> dict[str, float]:
        """Return the timings the page view produced, by metric, in ms."""
        values = (self.ttfb_ms, self.fcp_ms, self.lcp_ms, self.inp_ms)
        return {
            metric: value
            for metric, value in zip(METRICS, values, strict=True)
            if value is not None
        }


@dataclass(frozen=True)
class CLSSummary:
    """The cumulative layout shift of the page views of one grouped page."""

    page_views: int
    mean: float
    worst: float


class VitalsReporter:
    """Turn finished page views into VITAL rows and per-page CLS.

    Its :meth:`report` is the callback for :func:`install_vitals`. It runs on
    the event loop's greenlet and never blocks.

    Args:
        request_event: The environment's ``events.request`` hook.
        grouper: Names pages; by default by grouped path.
    """

    __slots__ = ("_fire", "_grouper")

    def __init__(
        self, request_event: EventHook, grouper: URLGrouper | None = None
    ) -> None:
        self._fire: Callable[..., None] = request_event.fire
        self._grouper = grouper if grouper is not None else URLGrouper()

    def report(self, vitals: PageVitals) -> None:
        """Fire one VITAL row per timing of *vitals*; record its CLS."""
        page_name = self._grouper.name(vitals.url)
        for metric, value_ms in vitals.timings().items():
            fire_row(
                self._fire,
                "VITAL",
                f"{metric} {page_name}",
                value_ms,
                start_time=vitals.started_at,
                url=vitals.url,
            )
        if vitals.cls is not None:
            _record_cls(page_name, vitals.cls)


async def install_vitals(
    context: BrowserContext, report: Callable[[PageVitals], None]
) -> None:
    """Collect the web vitals of every page view in *context*.

    Call it once per context, before its first page is created. *report* is
    called on the event loop, once per finished page view: it must not block
    and must not call the bridge.

    Args:
        context: The browser context, from Playwright's async API.
        report: Receives each finished page view.

    Raises:
        playwright.async_api.Error: Vitals were already installed in *context*.
    """
    await context.expose_binding(BINDING, functools.partial(_deliver, report))
    await context.add_init_script(script=_COLLECTOR)


async def flush_vitals(page: Page) -> None:
    """End the current page view of *page* and report it, if not reported yet.

    When this returns, the page view's report has run. A closed, crashed or
    unresponsive page is left alone: its page view is lost, not an error.

    Args:
        page: A page of a context with :func:`install_vitals`.
    """
    if page.is_closed():
        return
    try:
        await asyncio.wait_for(page.evaluate(_FLUSH_CALL, FLUSH), FLUSH_TIMEOUT)
    except (PlaywrightError, TimeoutError) as error:
        logger.debug("The vitals of %s were not flushed: %s", page.url, error)


def cls_by_page() -> dict[str, CLSSummary]:
    """Return the CLS this process recorded, by grouped page name."""
    return {
        page_name: CLSSummary(
            page_views=tally.page_views,
            mean=tally.total / tally.page_views,
            worst=tally.worst,
        )
        for page_name, tally in _cls_tallies.items()
    }


def reset_cls() -> None:
    """Forget the CLS recorded so far."""
    _cls_tallies.clear()


def format_cls_table(summaries: Mapping[str, CLSSummary]) -> str:
    """Return *summaries* as a text table, one page per line, by name."""
    width = max([len("Page"), *map(len, summaries)])
    lines = [f"{'Page':<{width}}  {'Views':>7}  {'Mean':>7}  {'Worst':>7}"]
    for page_name in sorted(summaries):
        summary = summaries[page_name]
        lines.append(
            f"{page_name:<{width}}  {summary.page_views:>7}  "
            f"{summary.mean:>7.3f}  {summary.worst:>7.3f}"
        )
    return "\n".join(lines)


@dataclass
class _CLSTally:
    page_views: int = 0
    total: float = 0.0
    worst: float = 0.0


_cls_tallies: dict[str, _CLSTally] = {}


def _record_cls(page_name: str, cls: float) -> None:
    tally = _cls_tallies.setdefault(page_name, _CLSTally())
    tally.page_views += 1
    tally.total += cls
    tally.worst = max(tally.worst, cls)


def _deliver(
    report: Callable[[PageVitals], None], _source: Mapping[str, Any], payload: object
) -> None:
    # Any script of the page can call the binding: check what it handed over.
    vitals = _parse(payload)
    if vitals is None:
        logger.debug("Ignored a malformed vitals payload: %r", payload)
        return
    try:
        report(vitals)
    except Exception:
        logger.warning("Reporting the vitals of %s failed", vitals.url, exc_info=True)


def _parse(payload: object) -> PageVitals | None:
    if not isinstance(payload, dict):
        return None
    url, started = payload.get("url"), payload.get("started")
    if not isinstance(url, str) or not _is_time(started):
        return None
    values = [payload.get(key) for key in ("ttfb", "fcp", "lcp", "inp", "cls")]
    if not all(value is None or _is_time(value) for value in values):
        return None
    ttfb, fcp, lcp, inp, cls = (
        None if value is None else float(value) for value in values
    )
    return PageVitals(
        url=url.partition("#")[0],
        started_at=float(started) / 1000,
        ttfb_ms=ttfb,
        fcp_ms=fcp,
        lcp_ms=lcp,
        inp_ms=inp,
        cls=cls,
    )


def _is_time(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _log_cls_table(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner) or not _cls_tallies:
        return
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "Cumulative layout shift per page in this process:\n%s",
            format_cls_table(cls_by_page()),
        )


# TODO: CLS stays in each process's log: Locust's HTML report has no place for
# it and a distributed run's master does not collect it, so reading it means
# reading every worker's log.
locust.events.quitting.add_listener(_log_cls_table)
