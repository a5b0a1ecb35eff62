"""Locust's web UI, started as a user would, and driven in a real browser."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from locust.env import Environment
from locust.event import Events

from locust_browser import BrowserUser
from locust_browser.demo import DemoProcess

from .conftest import ROOT, free_port, session_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LOCUST = str(Path(sys.executable).with_name("locust"))


class Operator(BrowserUser):
    """The person at the web UI, driven from the test's own greenlet."""


def accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def web_ui(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Start ``locust -f locustfiles/quickstart.py`` with no other options
    than the web UI's address, as a user would."""
    port, log = free_port(), tmp_path / "locust.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [LOCUST, "-f", str(ROOT / "locustfiles" / "quickstart.py")]
            + ["--web-host", "127.0.0.1", "--web-port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        wait_until(lambda: accepts_connections(port), 60, "the web UI listening")
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    assert "0 waiters, 0 contexts and 0 pages left open" in log.read_text()


def test_run_started_from_the_web_ui_shows_wait_rows_live(
    web_ui: tuple[str, Path], demo_server: DemoProcess, tmp_path: Path
) -> None:
    url, log = web_ui
    environment = Environment(events=Events(), host=url)
    with session_of(Operator(environment)) as operator:
        page = operator.page
        page.goto("/")
        page.fill("input[name=userCount]", "2")
        page.fill("input[name=spawnRate]", "2")
        page.fill("input[name=host]", demo_server.url)
        with page.expect_response("**/swarm", method="POST", name="start") as swarm:
            page.get_by_role("button", name="Start").click()
        assert swarm.value.json()["success"] is True

        # Rows appear while the run goes on, typed WAIT and named as in the file.
        row = page.get_by_role("row").filter(has_text="product list")
        row.wait_for(timeout=60_000)
        cells = row.get_by_role("cell")
        # Type, Name, # Requests, # Fails: a clean run has no failures.
        assert [cells.nth(i).inner_text() for i in (0, 1, 3)] == [
            "WAIT",
            "product list",
            "0",
        ]
        page.screenshot(path=str(tmp_path / "running.png"))

        with page.expect_response("**/stop", name="stop"):
            page.get_by_role("button", name="Stop").click()
        page.get_by_text("STOPPED").first.wait_for(timeout=30_000)
    assert "Launched chromium" in log.read_text()
