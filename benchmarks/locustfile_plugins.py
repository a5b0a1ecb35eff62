"""The same click as ``locustfile_click.py``, on locust-plugins' PlaywrightUser.

Run by ``benchmarks/throughput.py`` when ``locust_plugins`` imports. Written
the way that library's examples are: each task gets a fresh context and page
from its ``pw`` decorator, goes to ``/lab``, and times the click with its
``event`` context manager, which reports one row named ``click``.

The library launches ``chromium.launch(channel="chromium")``, which needs
Playwright's own download of Chromium. To compare like with like, the launch
is redirected to the executable in ``LOCUST_BROWSER_EXECUTABLE`` (which
``throughput.py`` sets to the one locust-browser resolves), with the library's
own flags kept. locust-browser is not imported, so that none of its listeners
run here.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from locust import constant, task
from locust_plugins.users.playwright import PlaywrightUser, event, pw
from playwright.async_api import BrowserType, Page

EXECUTABLE = os.environ["LOCUST_BROWSER_EXECUTABLE"]


def _launch_resolved(
    launch: Callable[..., Awaitable[Any]],
) -> Callable[..., Awaitable[Any]]:
    async def launch_resolved(self: BrowserType, **options: Any) -> Any:
        options.pop("channel", None)
        return await launch(self, executable_path=EXECUTABLE, **options)

    return launch_resolved


BrowserType.launch = _launch_resolved(BrowserType.launch)  # type: ignore[method-assign]


class Clicker(PlaywrightUser):
    wait_time = constant(0)
    log_tasks = False

    @task
    @pw
    async def click(self, page: Page) -> None:
        await page.goto("/lab")
        async with event(self, "click"):
            async with page.expect_response("**/api/items*"):
                await page.click("#fetch")
