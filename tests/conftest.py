"""Fixtures: the demo server, Locust environments, and leak checks."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import gevent
import pytest
from locust.env import Environment
from locust.event import Events

import locust_browser
from locust_browser import BrowserUser, demo

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    request_type: str
    name: str
    response_time: float
    exception: BaseException | None
    response_length: int = 0


@dataclass
class Rows:
    """Every row a test's users reported, in order."""

    rows: list[Row] = field(default_factory=list)

    def record(self, **kwargs: Any) -> None:
        self.rows.append(
            Row(
                kwargs["request_type"],
                kwargs["name"],
                kwargs["response_time"],
                kwargs["exception"],
                kwargs["response_length"],
            )
        )

    def named(self, name: str) -> list[Row]:
        return [row for row in self.rows if row.name == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 20.0) -> list[Row]:
        """Wait until *count* rows named *name* are in; return them."""
        wait_until(lambda: len(self.named(name)) >= count, timeout, f"{count} {name}")
        return self.named(name)

    def failures(self) -> list[Row]:
        return [row for row in self.rows if row.exception is not None]


@pytest.fixture(scope="session")
def demo_server() -> Iterator[demo.DemoProcess]:
    with demo.start() as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def close_browser_at_end() -> Iterator[None]:
    yield
    locust_browser.shutdown()
    assert child_processes() == [], "the browser or driver outlived shutdown()"


@pytest.fixture
def rows() -> Rows:
    return Rows()


@pytest.fixture
def environment(demo_server: demo.DemoProcess, rows: Rows) -> Iterator[Environment]:
    """A Locust environment aimed at the demo server, its rows recorded."""
    events = Events()
    events.request.add_listener(rows.record)
    env = Environment(events=events, host=demo_server.url, catch_exceptions=True)
    yield env
    stats = locust_browser.browser_statistics()
    assert (stats.contexts, stats.pages) == (0, 0), f"leftovers: {stats}"


@contextmanager
def session_of(user: BrowserUser) -> Iterator[BrowserUser]:
    """Give *user* its context and page, as its greenlet would, then close them.

    For tests that drive a page by hand from their own greenlet. Afterwards
    the page's handler must hold no waiter.
    """
    user._open_session()
    handler = user.response_handler
    try:
        yield user
    finally:
        user._close_session()
    assert handler.statistics().active == 0


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve *handler* on a free loopback port in a thread; yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def wait_until(condition: Any, timeout: float = 20.0, message: str = "") -> None:
    """Yield to the hub until *condition()* is true, or fail at the deadline."""
    with gevent.Timeout(timeout, AssertionError(f"timed out waiting: {message}")):
        while not condition():
            gevent.sleep(0.01)


def child_processes() -> list[int]:
    """Return the ids of live processes whose parent is this process."""
    mine = str(os.getpid())
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == mine and fields[0] != "Z":
            children.append(int(entry.name))
    # The demo server is ours, on purpose, for the whole session.
    return [pid for pid in children if pid not in demo_processes()]


def demo_processes() -> set[int]:
    """Return the ids of every demo server process on the machine."""
    return {
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and b"locust_browser.demo" in _cmdline(entry)
    }


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def free_port() -> int:
    """Return a loopback port that nothing listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
