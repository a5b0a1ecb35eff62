"""BrowserUser and its waits, in a real headless browser against the demo server."""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import gevent
import gevent.pool
import pytest
from locust import constant, task
from locust.env import Environment

import locust_browser
from locust_browser import BrowserUser, ResponseTimeoutError, WaitRejectedError

from .conftest import Rows, child_processes, session_of, wait_until

pytestmark = pytest.mark.browser


class Visitor(BrowserUser):
    """A user the tests drive by hand, from the test's own greenlet."""

    wait_time = constant(0)


@pytest.fixture
def user(environment: Environment) -> Iterator[Visitor]:
    with session_of(Visitor(environment)) as visitor:
        visitor.page.goto("/lab")
        yield visitor


def test_response_faster_than_the_wait_call_is_still_caught(
    user: Visitor, rows: Rows
) -> None:
    with user.page.expect_response("**/api/fast", name="fast") as info:
        # The response is back, and dispatched, before the block exits.
        user.page.evaluate("fetch('/api/fast').then((r) => r.text())")

    assert info.value.status == 200
    assert info.value.json() == {"ok": True}
    [row] = rows.wait_for("fast")
    assert (row.request_type, row.exception) == ("WAIT", None)
    assert 0 <= row.response_time < 5_000


def test_wait_row_is_timed_by_the_browser_not_the_generator(
    user: Visitor, rows: Rows
) -> None:
    with user.page.expect_response("**/api/slow*", name="slow"):
        user.page.evaluate("fetch('/api/slow?ms=300').then((r) => r.text())")
        # The generator stalls (the hub runs nothing) while the response is
        # in flight: 800 ms pass before dispatch, the browser saw 300.
        time.sleep(0.5)

    [row] = rows.wait_for("slow")
    assert 300 <= row.response_time < 500


def test_body_the_page_never_reads_is_timed_to_its_first_byte(
    user: Visitor, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("locust_browser._waits.FINISH_GRACE", 0.5)

    with user.page.expect_response("**/api/slow*", name="unread") as info:
        user.page.evaluate("fetch('/api/slow?ms=300')")

    assert info.value.status == 200
    [row] = rows.wait_for("unread")
    assert 300 <= row.response_time < 500


def test_timed_out_wait_is_one_failed_row(user: Visitor, rows: Rows) -> None:
    with pytest.raises(ResponseTimeoutError, match=r"Timeout 200ms .*\*\*/never"):
        user.page.wait_for_response("**/never", name="never", timeout=200)

    [row] = rows.named("never")
    assert isinstance(row.exception, Exception)
    assert 200 <= row.response_time < 2_000
    assert user.response_handler.statistics().timed_out == 1


def test_error_status_is_a_failed_row_but_the_response_is_returned(
    user: Visitor, rows: Rows
) -> None:
    with user.page.expect_response(re.compile(r"/api/status/\d+"), name="boom") as info:
        user.page.click("#error")

    assert info.value.status == 500
    [row] = rows.wait_for("boom")
    assert "HTTP 500" in str(row.exception)
    assert "GET /api/status/500" in str(row.exception)


def test_method_and_status_filters_pick_the_right_response(
    user: Visitor, rows: Rows
) -> None:
    script = "fetch('/api/fast'); fetch('/api/fast', {method: 'POST', body: 'x'})"
    with user.page.expect_response("**/api/fast", method="POST", status=201) as info:
        user.page.evaluate(script)

    assert info.value.request.method == "POST"
    assert info.value.status == 201


def test_callable_predicate_receives_a_sync_response(user: Visitor) -> None:
    seen: list[str] = []

    def is_items(response: object) -> bool:
        seen.append(type(response).__name__)
        return "/api/items" in response.url  # type: ignore[attr-defined]

    with user.page.expect_response(is_items, name="items") as info:
        user.page.click("#load")

    assert info.value.url.endswith("/api/items?page=1")
    assert set(seen) == {"SyncProxy"}


def test_bad_pattern_is_refused_before_anything_is_registered(user: Visitor) -> None:
    handler = user.response_handler
    before = handler.statistics().registered

    with pytest.raises(ValueError, match=r"\*\*/\{a,\{b\}\}"):
        user.page.expect_response("**/{a,{b}}")
    with pytest.raises(TypeError, match="url_or_predicate"):
        user.page.wait_for_response(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout.*-5"):
        user.page.wait_for_response("**", timeout=-5)

    assert handler.statistics().registered == before


def test_closing_the_page_rejects_its_waiters(user: Visitor, rows: Rows) -> None:
    handler = user.response_handler
    waiting = gevent.spawn(
        user.page.wait_for_response, "**/never", name="orphan", timeout=0
    )
    wait_until(lambda: handler.statistics().active == 1, message="waiter registered")

    user.page.close()

    with pytest.raises(WaitRejectedError, match="page was closed"):
        waiting.get(timeout=10)
    [row] = rows.named("orphan")
    assert "page was closed" in str(row.exception)
    assert handler.statistics().rejected == 1


def test_sync_facade_reaches_locators_lists_and_blocking_handlers(
    user: Visitor,
) -> None:
    bodies: list[object] = []
    user.page.on("response", lambda response: bodies.append(response.json()))

    with user.page.expect_response("**/api/items*"):
        user.page.get_by_role("button", name="Load items").click()
    user.page.locator("#items li").first.wait_for()

    items = user.page.locator("#items li").all()
    assert [item.inner_text() for item in items][:2] == ["item 1-0", "item 1-1"]
    assert user.context.pages == [user.page]
    wait_until(lambda: bodies, message="the response handler ran")
    assert isinstance(bodies[0], list)


class NeverServed(BrowserUser):
    """A user whose only task waits for a response that never comes."""

    wait_time = constant(0)
    timeout_ms = 0

    @task
    def wait_for_nothing(self) -> None:
        self.page.wait_for_response("**/never", name="never", timeout=self.timeout_ms)


def test_user_stopped_mid_wait_leaves_nothing_behind(
    environment: Environment, rows: Rows
) -> None:
    environment.user_classes = [NeverServed]
    runner = environment.create_local_runner()
    runner.start(1, spawn_rate=1)
    wait_until(lambda: runner.user_greenlets, message="user spawned")
    [greenlet] = runner.user_greenlets
    user: NeverServed = greenlet.args[0]
    wait_until(
        lambda: user._page is not None and len(user.response_handler) == 1,
        message="the user is waiting",
    )
    handler = user.response_handler

    runner.quit()

    stats = handler.statistics()
    assert (stats.active, stats.cancelled, stats.timed_out) == (0, 1, 0)
    assert rows.named("never") == []


class TimesOut(NeverServed):
    timeout_ms = 50


def test_timeout_ends_the_task_without_traceback_or_second_report(
    environment: Environment, rows: Rows, caplog: pytest.LogCaptureFixture
) -> None:
    environment.user_classes = [TimesOut]
    runner = environment.create_local_runner()
    caplog.set_level(logging.INFO)

    runner.start(1, spawn_rate=1)
    wait_until(lambda: len(rows.named("never")) >= 3, message="three timeouts")
    runner.quit()

    timeouts = rows.named("never")
    assert all(row.exception is not None for row in timeouts)
    assert len(rows.rows) == len(timeouts)
    assert runner.exceptions == {}
    assert "Traceback" not in caplog.text


class Clicker(BrowserUser):
    """The issue's example journey, for many users at once."""

    wait_time = constant(0)
    handlers: list[locust_browser.ResponseEventHandler] = []

    def on_start(self) -> None:
        Clicker.handlers.append(self.response_handler)
        self.page.goto("/lab")

    @task
    def load(self) -> None:
        with self.page.expect_response("**/api/items*", name="items") as info:
            self.page.click("#load")
        assert info.value.status == 200


def test_hundred_users_leave_no_waiters_contexts_or_pages(
    environment: Environment, rows: Rows
) -> None:
    environment.user_classes = [Clicker]
    runner = environment.create_local_runner()

    runner.start(100, spawn_rate=50)
    wait_until(
        lambda: len(rows.named("items")) >= 200 and runner.user_count == 100,
        timeout=240,
        message="200 waits by 100 users",
    )
    runner.quit()

    assert len(Clicker.handlers) == 100
    assert rows.failures() == []
    assert sum(h.statistics().matched for h in Clicker.handlers) >= 200
    assert all(h.statistics().active == 0 for h in Clicker.handlers)
    stats = locust_browser.browser_statistics()
    assert (stats.contexts, stats.pages, stats.browsers) == (0, 0, 1)


class BrokenStart(BrowserUser):
    """A user whose on_start fails after it has used its page."""

    wait_time = constant(0)
    context_options = {"user_agent": "locust-browser-test", "locale": "fr-FR"}
    seen: list[str] = []

    def on_start(self) -> None:
        self.page.goto("/lab")
        BrokenStart.seen.append(self.page.evaluate("navigator.userAgent"))
        raise RuntimeError("on_start failed on purpose")

    @task
    def never(self) -> None:
        raise AssertionError("unreachable: on_start failed")


def test_user_whose_on_start_fails_still_closes_its_context(
    environment: Environment,
) -> None:
    user = BrokenStart(environment)
    group = gevent.pool.Group()

    greenlet = user.start(group)
    greenlet.join(timeout=30)

    assert isinstance(greenlet.exception, RuntimeError)
    assert BrokenStart.seen == ["locust-browser-test"]
    assert locust_browser.browser_statistics().contexts == 0


def test_page_default_timeout_is_the_default_wait_timeout(
    user: Visitor, rows: Rows
) -> None:
    user.page.set_default_timeout(150)

    with pytest.raises(ResponseTimeoutError, match="Timeout 150ms"):
        user.page.wait_for_response("**/never", name="default")

    user.context.set_default_timeout(100)
    with pytest.raises(ResponseTimeoutError, match="Timeout 150ms"):
        user.page.wait_for_response("**/never", name="default")
    assert len(rows.named("default")) == 2


def test_crashed_page_rejects_its_waiters(user: Visitor, rows: Rows) -> None:
    handler = user.response_handler
    waiting = gevent.spawn(
        user.page.wait_for_response, "**/never", name="crashed", timeout=0
    )
    wait_until(lambda: len(handler) == 1, message="waiter registered")

    navigation = gevent.spawn(user.page.goto, "chrome://crash")

    with pytest.raises(locust_browser.WaitRejectedError, match="crash"):
        waiting.get(timeout=20)
    navigation.join(timeout=20)
    [row] = rows.named("crashed")
    assert "page crashed" in str(row.exception)


def browser_process() -> int:
    """Return the id of the browser's main process, a child of the driver."""
    for driver in child_processes():
        for entry in Path(f"/proc/{driver}/task").iterdir():
            for child in (entry / "children").read_text().split():
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                if b"chrom" in cmdline and b"--type=" not in cmdline:
                    return int(child)
    raise AssertionError("no browser process found")


def test_lost_browser_rejects_waiters_and_is_relaunched(
    user: Visitor, environment: Environment, rows: Rows
) -> None:
    handler = user.response_handler
    launches = locust_browser.browser_statistics().launches
    waiting = gevent.spawn(
        user.page.wait_for_response, "**/never", name="lost", timeout=0
    )
    wait_until(lambda: len(handler) == 1, message="waiter registered")

    os.kill(browser_process(), signal.SIGKILL)

    with pytest.raises(locust_browser.WaitRejectedError, match="browser|closed"):
        waiting.get(timeout=20)
    assert rows.named("lost")[0].exception is not None
    with session_of(Visitor(environment)) as other:
        other.page.goto("/lab")
        assert other.page.title() == "locust-browser demo"
    assert locust_browser.browser_statistics().launches == launches + 1
