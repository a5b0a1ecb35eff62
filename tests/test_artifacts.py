"""Screenshots and traces of failed WAIT and STEP rows, capped per run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from locust import constant
from locust.env import Environment

from locust_browser import BrowserUser, ResponseTimeoutError, _artifacts

from .conftest import Rows, session_of

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n"


class Failing(BrowserUser):
    wait_time = constant(0)


@pytest.fixture
def artifacts(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "artifacts"
    _artifacts.configure(str(directory), 2, trace=False)
    yield directory
    _artifacts.configure(None, 0, trace=False)


@pytest.fixture
def failing(environment: Environment, artifacts: Path) -> Iterator[Failing]:
    with session_of(Failing(environment)) as user:
        user.page.goto("/lab")
        yield user


def test_timed_out_wait_row_names_its_screenshot(
    failing: Failing, artifacts: Path, rows: Rows
) -> None:
    with pytest.raises(ResponseTimeoutError, match=r"screenshot: .*WAIT-never"):
        failing.page.wait_for_response("**/never", name="never", timeout=100)

    [row] = rows.named("never")
    [screenshot] = artifacts.glob("WAIT-never-*.png")
    assert str(screenshot) in str(row.exception)
    assert screenshot.read_bytes().startswith(PNG)


def test_failed_step_row_names_its_screenshot_and_the_error_goes_on(
    failing: Failing, artifacts: Path, rows: Rows
) -> None:
    with pytest.raises(KeyError), failing.step("pay now"):
        raise KeyError("no card")

    [row] = rows.named("pay now")
    [screenshot] = artifacts.glob("STEP-pay_now-*.png")
    assert "no card" in str(row.exception)
    assert str(screenshot) in str(row.exception)


def test_failure_storm_is_capped_with_one_warning(
    failing: Failing, artifacts: Path, rows: Rows, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    for _ in range(4):
        with pytest.raises(ResponseTimeoutError):
            failing.page.wait_for_response("**/never", name="storm", timeout=50)

    assert len(list(artifacts.glob("*.png"))) == 2
    captured = ["screenshot" in str(row.exception) for row in rows.named("storm")]
    assert captured == [True, True, False, False]
    assert caplog.text.count("later failures are reported without") == 1


def test_trace_of_recent_actions_is_saved_beside_the_screenshot(
    environment: Environment, tmp_path: Path, rows: Rows
) -> None:
    _artifacts.configure(str(tmp_path), 5, trace=True)
    try:
        with session_of(Failing(environment)) as user:
            user.page.goto("/lab")
            with pytest.raises(ResponseTimeoutError):
                user.page.wait_for_response("**/never", name="traced", timeout=50)
    finally:
        _artifacts.configure(None, 0, trace=False)

    [trace] = tmp_path.glob("WAIT-traced-*.zip")
    assert trace.stat().st_size > 0
    assert trace.with_suffix(".png").exists()
