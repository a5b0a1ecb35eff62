"""Click and await a JSON response in N pages of one browser, with no Locust.

Usage::

    python benchmarks/plain_playwright.py --url http://127.0.0.1:PORT
        [--users 10] [--seconds 30] [--json-file result.json]

The baseline for ``benchmarks/throughput.py``: plain asyncio Playwright, one
browser (the executable locust-browser resolves), one context and page per
user, each page looping a click on ``/lab``'s ``#fetch`` inside
``expect_response`` until the time is up. It writes the iterations done and
the response times the browser timed for ``/api/items`` (request start to
last byte, as locust-browser's WAIT rows), in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from playwright.async_api import Browser, Request, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from locust_browser import resolve_browser  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--json-file", default="")
    args = parser.parse_args()

    iterations, times = asyncio.run(run(args.url, args.users, args.seconds))
    result = {"iterations": iterations, "response_times_ms": times}
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(result))
    print(f"{iterations} iterations, {iterations / args.seconds:.1f}/s")
    return 0


async def run(url: str, users: int, seconds: float) -> tuple[int, list[float]]:
    """Run *users* pages for *seconds*; return iterations and response times."""
    # The clock starts before the driver and the browser do, as Locust's -t
    # does for locust-browser, which starts both when its first user starts.
    deadline = time.monotonic() + seconds
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=resolve_browser().executable
        )
        times: list[float] = []
        counts = await asyncio.gather(
            *(loop_clicks(browser, url, deadline, times) for _ in range(users))
        )
        await browser.close()
    return sum(counts), times


async def loop_clicks(
    browser: Browser, url: str, deadline: float, times: list[float]
) -> int:
    """Click until *deadline* in a page of its own; return the clicks done."""
    context = await browser.new_context(base_url=url)
    page = await context.new_page()
    page.on("requestfinished", lambda request: record(request, deadline, times))
    await page.goto("/lab")

    count = 0
    while time.monotonic() < deadline:
        async with page.expect_response("**/api/items*"):
            await page.click("#fetch")
        count += 1

    await context.close()
    return count


def record(request: Request, deadline: float, times: list[float]) -> None:
    """Keep the browser's time for an ``/api/items`` request within the run."""
    if "/api/items" not in request.url or time.monotonic() >= deadline:
        return
    timing = request.timing
    for mark in ("responseEnd", "responseStart"):
        if timing[mark] >= 0:  # type: ignore[literal-required]
            times.append(float(timing[mark]))  # type: ignore[literal-required]
            return


if __name__ == "__main__":
    sys.exit(main())
