"""One click, one awaited JSON response, no think time: locust-browser's side.

Run by ``benchmarks/throughput.py`` against the demo server's ``/lab`` page;
each iteration is one WAIT row named ``click``.
"""

from __future__ import annotations

from locust import constant, task

from locust_browser import BrowserUser


class Clicker(BrowserUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.page.goto("/lab")

    @task
    def click(self) -> None:
        with self.page.expect_response("**/api/items*", name="click"):
            self.page.click("#fetch")
