"""Web vitals of page views, as VITAL rows and per-page CLS, in a real browser."""

from __future__ import annotations

import logging
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from locust.env import Environment
from locust.event import Events
from playwright.async_api import Error as PlaywrightError

import locust_browser
from locust_browser._bridge import get_bridge
from locust_browser._facade import PageProxy, Runtime
from locust_browser._grouping import URLGrouper
from locust_browser._user import _provider
from locust_browser._vitals import (
    CLSSummary,
    PageVitals,
    VitalsReporter,
    _log_cls_table,
    cls_by_page,
    flush_vitals,
    format_cls_table,
    install_vitals,
    reset_cls,
)
from locust_browser._waits import WaitReporter

from .conftest import Rows, serving

IMAGE_DELAY = 0.5
"""Seconds the site waits before it sends the product page's image."""

PRODUCT = b"""<!doctype html>
<html><head><title>product</title></head><body>
<p>A product worth a look.</p>
<img src="/image.png" width="600" height="400" alt="">
<p><button id="busy">Busy</button></p>
<script>
  window.seen = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.element && entry.element.tagName === "IMG") {
        window.seen.imageLcp = entry.startTime;
      }
    }
  }).observe({ type: "largest-contentful-paint", buffered: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration >= 150) window.seen.slowInteraction = entry.duration;
    }
  }).observe({ type: "event", durationThreshold: 40, buffered: true });
  document.getElementById("busy").addEventListener("click", () => {
    const end = performance.now() + 200;
    while (performance.now() < end) {}
  });
</script>
</body></html>
"""

SHIFTING = b"""<!doctype html>
<html><head><title>shifting</title></head><body>
<div style="height: 300px">The content a late banner pushes down.</div>
<script>
  new PerformanceObserver(() => {
    window.shifted = true;
  }).observe({ type: "layout-shift", buffered: true });
  addEventListener("load", () => setTimeout(() => {
    const banner = document.createElement("div");
    banner.style.height = "300px";
    banner.textContent = "A banner, late.";
    document.body.prepend(banner);
  }, 50));
</script>
</body></html>
"""

PAINTED = "() => performance.getEntriesByType('paint').length > 0"
"""A page function that is true once the page has painted."""

STILL = b"""<!doctype html>
<html><head><title>still</title></head><body>
<div style="height: 300px">Content that stays where it is.</div>
</body></html>
"""


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x30\x60\x90" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


IMAGE = _png(600, 400)


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server protocol)
        path = self.path.partition("?")[0]
        if path == "/image.png":
            time.sleep(IMAGE_DELAY)
            self._send(IMAGE, "image/png")
        elif path.startswith("/products/"):
            self._send(PRODUCT, "text/html")
        elif path == "/shifting":
            self._send(SHIFTING, "text/html")
        elif path == "/still":
            self._send(STILL, "text/html")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Serve the pages above on 127.0.0.1; yield the base URL."""
    with serving(_Site) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_cls() -> Iterator[None]:
    """Start and end each test with no CLS recorded."""
    reset_cls()
    yield
    reset_cls()


@pytest.fixture
def environment(site: str, rows: Rows) -> Iterator[Environment]:
    """A Locust environment aimed at the test's site, its rows recorded."""
    events = Events()
    events.request.add_listener(rows.record)
    yield Environment(events=events, host=site)
    stats = locust_browser.browser_statistics()
    assert (stats.contexts, stats.pages) == (0, 0), f"leftovers: {stats}"


@contextmanager
def vitals_page(environment: Environment) -> Iterator[Any]:
    """Open a context with vitals and its page, as the provider will; close it."""
    bridge = get_bridge()
    request_event = environment.events.request
    base_url = environment.host
    assert base_url is not None
    reporter = VitalsReporter(request_event, URLGrouper(base_url=base_url))
    context, page = bridge.run(_open(reporter, base_url), cancel_on_exit=False)
    try:
        yield PageProxy(page, Runtime(bridge, WaitReporter(request_event)))
    finally:
        bridge.run(_close(context, page), cancel_on_exit=False)


async def _open(reporter: VitalsReporter, base_url: str) -> tuple[Any, Any]:
    browser = await _provider.browser()
    context = await browser.new_context(base_url=base_url)
    try:
        await install_vitals(context, reporter.report)
        page = await context.new_page()
    except BaseException:
        await context.close()
        raise
    return context, page


async def _close(context: Any, page: Any) -> None:
    await flush_vitals(page)
    await context.close()


def flush(page: Any) -> None:
    """End the page's view now, as closing a session will."""
    get_bridge().run(flush_vitals(page._impl))


@pytest.mark.browser
def test_slow_image_is_the_lcp_row_after_ttfb_and_fcp(
    environment: Environment, rows: Rows
) -> None:
    with vitals_page(environment) as page:
        page.goto("/products/42")
        page.wait_for_function("() => window.seen.imageLcp !== undefined")
        image_lcp = page.evaluate("() => window.seen.imageLcp")
        # Leaving the page ends its view, and hands its values over.
        page.goto("/still")

        [lcp] = rows.wait_for("LCP /products/{id}")
        [fcp] = rows.named("FCP /products/{id}")
        [ttfb] = rows.named("TTFB /products/{id}")

    assert IMAGE_DELAY * 1000 <= lcp.response_time <= 5_000
    assert lcp.response_time == pytest.approx(image_lcp, abs=1)
    assert 0 < ttfb.response_time <= fcp.response_time <= lcp.response_time
    assert fcp.response_time < IMAGE_DELAY * 1000
    assert rows.named("INP /products/{id}") == []
    assert {row.request_type for row in rows.rows} == {"VITAL"}
    assert rows.failures() == []


@pytest.mark.browser
def test_slow_click_is_an_inp_row_when_the_user_moves_on(
    environment: Environment, rows: Rows
) -> None:
    with vitals_page(environment) as page:
        page.goto("/products/7")
        page.click("#busy")
        page.wait_for_function("() => window.seen.slowInteraction !== undefined")
        page.goto("/still")

        [inp] = rows.wait_for("INP /products/{id}")

    assert 150 <= inp.response_time < 2_000
    assert inp.exception is None
    assert rows.named("INP /still") == []


@pytest.mark.browser
def test_slow_click_right_before_the_page_closes_still_counts(
    environment: Environment, rows: Rows
) -> None:
    with vitals_page(environment) as page:
        page.goto("/products/8")
        # No wait: the click's paint may not be presented when the view ends.
        page.click("#busy")

    [inp] = rows.named("INP /products/{id}")
    assert 150 <= inp.response_time < 2_000


@pytest.mark.browser
def test_page_view_is_one_set_of_rows_after_flush_and_navigation(
    environment: Environment, rows: Rows
) -> None:
    with vitals_page(environment) as page:
        page.goto("/still")
        page.wait_for_function(PAINTED)
        flush(page)
        # The flush reported the page view before it returned.
        assert len(rows.named("FCP /still")) == 1
        flush(page)
        # Leaving fires beforeunload and pagehide: both find it delivered.
        page.goto("/products/3")
        page.wait_for_function(PAINTED)

    # Closing flushed the product page, after anything the navigation sent.
    assert len(rows.named("FCP /products/{id}")) == 1
    assert [row.name for row in rows.rows if row.name.endswith("/still")] == [
        "TTFB /still",
        "FCP /still",
        "LCP /still",
    ]
    flush(page)
    assert len(rows.rows) == 6


@pytest.mark.browser
def test_shifting_page_has_cls_and_still_page_has_none(
    environment: Environment, rows: Rows
) -> None:
    with vitals_page(environment) as page:
        page.goto("/shifting")
        page.wait_for_function("() => window.shifted === true")
        page.goto("/still")
        page.wait_for_function(PAINTED)
        page.goto("/shifting")
        page.wait_for_function("() => window.shifted === true")

    pages = cls_by_page()
    assert pages["/still"] == CLSSummary(page_views=1, mean=0.0, worst=0.0)
    assert pages["/shifting"].page_views == 2
    assert 0.1 <= pages["/shifting"].mean <= pages["/shifting"].worst <= 1
    assert not any(row.name.startswith("CLS") for row in rows.rows)


@pytest.mark.browser
def test_malformed_payload_from_the_page_is_no_row(
    environment: Environment, rows: Rows
) -> None:
    with vitals_page(environment) as page:
        page.goto("/still")
        page.evaluate("() => window.__locustBrowserVitals({ url: 42, started: -1 })")
        page.evaluate("() => window.__locustBrowserVitals('not a page view')")

    # The genuine page view, flushed at close, comes after the forged ones.
    assert rows.named("TTFB /still") != []
    assert {row.name.split()[1] for row in rows.rows} == {"/still"}


@pytest.mark.browser
def test_vitals_twice_in_one_context_are_refused(environment: Environment) -> None:
    reporter = VitalsReporter(environment.events.request)
    with vitals_page(environment) as page:
        context = page._impl.context

        with pytest.raises(PlaywrightError, match="already registered"):
            get_bridge().run(install_vitals(context, reporter.report))


def test_reporter_names_rows_by_grouped_path_and_keeps_cls_per_page(
    rows: Rows,
) -> None:
    events = Events()
    events.request.add_listener(rows.record)
    reporter = VitalsReporter(events.request, URLGrouper(base_url="http://shop"))

    for cls in (0.25, 0.05):
        reporter.report(
            PageVitals(
                url="http://shop/orders/1234/items?page=2#top",
                started_at=1_700_000_000.0,
                ttfb_ms=12.0,
                fcp_ms=40.0,
                lcp_ms=None,
                inp_ms=None,
                cls=cls,
            )
        )

    assert [row.name for row in rows.rows[:2]] == [
        "TTFB /orders/{id}/items",
        "FCP /orders/{id}/items",
    ]
    assert len(rows.rows) == 4
    summary = cls_by_page()["/orders/{id}/items"]
    assert (summary.page_views, summary.worst) == (2, 0.25)
    assert summary.mean == pytest.approx(0.15)


def test_cls_table_is_logged_when_locust_quits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reporter = VitalsReporter(Events().request)
    reporter.report(PageVitals("http://x/a/1", 0.0, 1.0, 2.0, None, None, 0.125))
    caplog.set_level(logging.INFO, logger="locust_browser._vitals")

    _log_cls_table(environment=Environment(events=Events()))

    [record] = caplog.records
    assert record.getMessage().splitlines()[1:] == [
        "Page       Views     Mean    Worst",
        "/a/{id}        1    0.125    0.125",
    ]
    assert format_cls_table({}) == "Page    Views     Mean    Worst"
