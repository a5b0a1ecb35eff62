"""The process's one Playwright driver and browser, and users' sessions in it.

Design note: every user of a worker process shares one browser, launched by
the first user that needs a page, and gets a browser context and page of its
own. The launch happens on the loop under a lock, so a hundred users starting
at once launch one browser. A browser that disconnects is forgotten, the
waiters of its pages are rejected, and the next user to open a session
launches a new one. Nothing here blocks a greenlet: these are coroutines, run
through the bridge.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright._impl._errors import TargetClosedError
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from locust_browser._artifacts import start_tracing
from locust_browser._blocking import (
    block_in_browser,
    blocking_launch_args,
    media_url_patterns,
)
from locust_browser._executable import LAUNCH_ARGS, resolve_browser
from locust_browser._handler import ResponseEventHandler, WaitRejected
from locust_browser._vitals import PageVitals, flush_vitals, install_vitals

__all__ = ["BrowserProvider", "BrowserStatistics"]

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 10.0
"""Seconds a context or browser gets to close before it is left behind."""


@dataclass(frozen=True)
class BrowserStatistics:
    """What a provider holds open right now, and how often it launched."""

    browsers: int
    contexts: int
    pages: int
    launches: int


class BrowserProvider:
    """Launch the browser on first use and open and close users' sessions."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock: asyncio.Lock | None = None
        self._pages: set[Page] = set()
        self._launches = 0
        self._closing = False

    async def browser(
        self, executable: str | None = None, args: list[str] | None = None
    ) -> Browser:
        """Return the connected browser, launching it if there is none.

        Args:
            executable: The ``--browser-executable`` option, if given.
            args: Switches for the launch, besides ``LAUNCH_ARGS``.
        """
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                self._browser = await self._launch(executable, args or [])
        return self._browser

    async def open_session(
        self,
        *,
        executable: str | None,
        options: dict[str, Any],
        attach: Any,
        vitals: Callable[[PageVitals], None] | None = None,
        blocked: frozenset[str] = frozenset(),
    ) -> tuple[BrowserContext, Page]:
        """Open a context and its page; *attach* gets the page before it loads.

        Args:
            executable: The ``--browser-executable`` option, if given.
            options: Keyword arguments for ``new_context``.
            attach: Called with the new page, to add listeners before any
                response can arrive.
            vitals: Gets each page view's web vitals, if given.
            blocked: The resource types the browser does not load; the
                browser's launch takes the first session's.
        """
        context = await self._new_context(
            executable, options, blocking_launch_args(blocked)
        )
        base_url = options.get("base_url")
        context._locust_browser_base_url = base_url  # type: ignore[attr-defined]
        try:
            await start_tracing(context)
            if vitals is not None:
                await install_vitals(context, vitals)
            page = await context.new_page()
            attach(page)
            patterns = media_url_patterns(blocked)
            if patterns:
                await block_in_browser(context, page, patterns)
        except BaseException:
            await _quietly(context.close())
            raise
        self._pages.add(page)
        return context, page

    async def _new_context(
        self, executable: str | None, options: dict[str, Any], args: list[str]
    ) -> BrowserContext:
        browser = await self.browser(executable, args)
        try:
            return await browser.new_context(**options)
        except TargetClosedError:
            pass
        # The browser died and its disconnect is not in yet: once more, anew.
        self._forget(browser)
        browser = await self.browser(executable, args)
        return await browser.new_context(**options)

    async def close_session(self, context: BrowserContext, page: Page) -> None:
        """Close a user's context, and with it its pages."""
        self._pages.discard(page)
        # Closing fires nothing a page can report from: hand the last views over.
        await asyncio.gather(*(flush_vitals(open_page) for open_page in context.pages))
        await _quietly(context.close())

    def statistics(self) -> BrowserStatistics:
        """Count the browsers, contexts and pages open now."""
        browser = self._browser
        connected = browser is not None and browser.is_connected()
        contexts = browser.contexts if browser is not None and connected else []
        return BrowserStatistics(
            browsers=int(connected),
            contexts=len(contexts),
            pages=sum(len(context.pages) for context in contexts),
            launches=self._launches,
        )

    async def close(self) -> None:
        """Close the browser and stop the Playwright driver."""
        self._closing = True
        browser, self._browser = self._browser, None
        if browser is not None:
            await _quietly(browser.close())
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            await _quietly(playwright.stop())
        self._closing = False

    async def _launch(self, executable: str | None, args: list[str]) -> Browser:
        choice = resolve_browser(executable)
        started = time.perf_counter()
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        browser = await self._playwright.chromium.launch(
            executable_path=choice.executable,
            args=[*LAUNCH_ARGS, *args],
            headless=True,
        )
        browser.on("disconnected", self._on_disconnected)
        self._launches += 1
        logger.info(
            "Launched %s, version %s, in %.2fs",
            choice.describe(),
            browser.version,
            time.perf_counter() - started,
        )
        return browser

    def _on_disconnected(self, browser: Browser) -> None:
        self._forget(browser)

    def _forget(self, browser: Browser) -> None:
        if self._browser is not browser:
            return
        self._browser = None
        if self._closing:
            return
        logger.warning("The browser disconnected; the next user relaunches it")
        error = WaitRejected("the browser disconnected while waiting for a response")
        for page in list(self._pages):
            handler: ResponseEventHandler | None = getattr(
                page, "_locust_browser_handler", None
            )
            if handler is not None:
                handler.reject_all(error)
        self._pages.clear()


async def _quietly(closing: Any) -> None:
    # Closing what the browser already lost is not an error worth a row.
    try:
        await asyncio.wait_for(closing, CLOSE_TIMEOUT)
    except (PlaywrightError, TimeoutError) as error:
        logger.debug("Closing failed: %s", error)
