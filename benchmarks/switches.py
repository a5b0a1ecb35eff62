"""Memory of the browser with each set of Chromium switches, small pages open.

Usage::

    python benchmarks/switches.py [--pages 20] [SWITCHES ...]

Each SWITCHES argument is one set, its switches separated by spaces (quote
it); with none, a built-in list of candidates is measured. For each set, it
launches the browser locust-browser resolves with those switches, opens
``--pages`` contexts with one small page each, and prints the summed PSS of
the driver and every browser process, with the set's ratio to no switches.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._procs import descendants, pss_kib  # noqa: E402
from locust_browser import resolve_browser  # noqa: E402

CANDIDATES = (
    "",
    "--in-process-gpu",
    "--js-flags=--max-semi-space-size=1",
    "--js-flags=--lite-mode",
    "--disable-gpu --disable-software-rasterizer",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("switches", nargs="*", help="sets of switches to measure")
    args = parser.parse_args()

    sets = ["", *args.switches] if args.switches else list(CANDIDATES)
    executable = resolve_browser().executable
    baseline = None
    print(f"{'PSS MiB':>8} {'ratio':>6}  switches ({args.pages} pages)")
    for switches in sets:
        kib = asyncio.run(measure(executable, shlex.split(switches), args.pages))
        baseline = baseline or kib
        print(f"{kib / 1024:>8.1f} {kib / baseline:>6.3f}  {switches or '(none)'}")
    return 0


async def measure(executable: str, switches: list[str], pages: int) -> int:
    """Return the tree's PSS in KiB with *pages* small pages open."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=switches
        )
        for number in range(pages):
            context = await browser.new_context()
            page = await context.new_page()
            await page.set_content(f"<h1>Page {number}</h1><p>Some text.</p>")
        total = sum(pss_kib(pid) for pid in descendants(os.getpid()))
        await browser.close()
    return total


if __name__ == "__main__":
    sys.exit(main())
