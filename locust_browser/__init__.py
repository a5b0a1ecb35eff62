"""Browser-level load testing for Locust.

Each Locust user drives a real browser page through Playwright's sync API, and
waits on the responses its actions trigger; every wait is a row in Locust's
statistics::

    from locust import task
    from locust_browser import BrowserUser

    class Shopper(BrowserUser):
        @task
        def browse(self):
            self.page.goto("/")
            with self.page.expect_response("**/api/items*", name="items"):
                self.page.click("#load")
"""

from __future__ import annotations

import locust  # noqa: F401  (gevent patches first)  # isort: skip

from locust_browser import _saturation as _saturation  # registers the monitor
from locust_browser import _thresholds as _thresholds  # registers --threshold
from locust_browser._browser import BrowserStatistics as BrowserStatistics
from locust_browser._executable import BrowserChoice as BrowserChoice
from locust_browser._executable import BrowserNotFoundError as BrowserNotFoundError
from locust_browser._executable import resolve_browser as resolve_browser
from locust_browser._handler import HandlerStatistics as HandlerStatistics
from locust_browser._handler import ResponseEventHandler as ResponseEventHandler
from locust_browser._matcher import url_matcher as url_matcher
from locust_browser._user import BrowserUser as BrowserUser
from locust_browser._user import browser_statistics as browser_statistics
from locust_browser._user import shutdown as shutdown
from locust_browser._waits import ResponseStatusError as ResponseStatusError
from locust_browser._waits import ResponseTimeoutError as ResponseTimeoutError
from locust_browser._waits import WaitRejectedError as WaitRejectedError

__all__ = [
    "BrowserChoice",
    "BrowserNotFoundError",
    "BrowserStatistics",
    "BrowserUser",
    "HandlerStatistics",
    "ResponseEventHandler",
    "ResponseStatusError",
    "ResponseTimeoutError",
    "WaitRejectedError",
    "browser_statistics",
    "resolve_browser",
    "shutdown",
    "url_matcher",
]

__version__ = "0.1.0"
