"""The real ``locust`` command line, headless, against the demo server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from locust_browser.demo import DemoProcess

from .conftest import ROOT, demo_processes

pytestmark = pytest.mark.e2e

LOCUST = str(Path(sys.executable).with_name("locust"))


def run_locust(
    locustfile: Path, tmp_path: Path, *args: str, timeout: float = 180
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """Run locust headless; return the process and its --json-file rows."""
    report = tmp_path / "stats.json"
    command = [
        LOCUST,
        "-f",
        str(locustfile),
        "--headless",
        "--json-file",
        str(report.with_suffix("")),
        "--loglevel",
        "INFO",
        *args,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=tmp_path
    )
    rows = json.loads(report.read_text()) if report.exists() else []
    return done, rows


def row(rows: list[dict[str, Any]], method: str, name: str) -> dict[str, Any]:
    [found] = [r for r in rows if r["method"] == method and r["name"] == name]
    return found


def test_quickstart_runs_headless_with_wait_rows_and_no_leftovers(
    demo_server: DemoProcess, tmp_path: Path
) -> None:
    done, rows = run_locust(
        ROOT / "locustfiles" / "quickstart.py",
        tmp_path,
        *("-u", "10", "-r", "10", "-t", "12s", "-H", demo_server.url),
    )

    assert done.returncode == 0, done.stderr[-3000:]
    waits = [
        row(rows, "WAIT", name) for name in ("product list", "next page", "search")
    ]
    assert all(wait["num_requests"] >= 10 for wait in waits)
    assert all(wait["num_failures"] == 0 for wait in waits)
    assert "Traceback" not in done.stderr
    assert "0 waiters, 0 contexts and 0 pages left open" in done.stderr


def test_without_host_the_demo_is_started_and_stopped(tmp_path: Path) -> None:
    before = demo_processes()

    done, rows = run_locust(
        ROOT / "locustfiles" / "quickstart.py",
        tmp_path,
        *("-u", "2", "-r", "2", "-t", "6s"),
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert row(rows, "WAIT", "product list")["num_requests"] > 0
    assert "No host given: the demo application serves http://127.0.0.1:" in done.stderr
    assert demo_processes() == before


def test_deliberate_failures_are_one_row_each_without_tracebacks(
    demo_server: DemoProcess, tmp_path: Path
) -> None:
    done, rows = run_locust(
        ROOT / "tests" / "locustfiles" / "deliberate_failures.py",
        tmp_path,
        *("-u", "4", "-r", "4", "-t", "6s", "-H", demo_server.url),
    )

    assert done.returncode == 1, done.stderr[-3000:]
    never, broken = row(rows, "WAIT", "never"), row(rows, "WAIT", "broken")
    assert never["num_requests"] > 0
    assert never["num_failures"] == never["num_requests"]
    assert broken["num_failures"] == broken["num_requests"] > 0
    assert "unreachable" not in done.stderr
    assert "Traceback" not in done.stderr
    assert "0 waiters, 0 contexts and 0 pages left open" in done.stderr


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--browser-executable", "no-such-chromium", "no-such-chromium"),
        ("--block-resources", "image,scripts", "'scripts'"),
    ],
)
def test_bad_option_is_an_error_before_any_load(
    demo_server: DemoProcess, tmp_path: Path, option: str, value: str, named: str
) -> None:
    done, rows = run_locust(
        ROOT / "locustfiles" / "quickstart.py",
        tmp_path,
        *("-u", "1", "-t", "30s", "-H", demo_server.url),
        *(option, value),
        timeout=60,
    )

    assert done.returncode == 1
    assert named in done.stderr
    assert option in done.stderr
    assert rows == []
    assert "Traceback" not in done.stderr


def test_processes_launch_one_browser_per_worker_and_none_in_the_master(
    demo_server: DemoProcess, tmp_path: Path
) -> None:
    done, rows = run_locust(
        ROOT / "locustfiles" / "quickstart.py",
        tmp_path,
        *("--processes", "2", "-u", "4", "-r", "4", "-t", "8s"),
        *("-H", demo_server.url),
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert row(rows, "WAIT", "product list")["num_failures"] == 0
    assert row(rows, "WAIT", "product list")["num_requests"] >= 4
    assert done.stderr.count("Launched chromium") == 2
    assert done.stderr.count("0 waiters, 0 contexts and 0 pages left open") == 2


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("browse", ["log in", "product list", "next page", "search"]),
        (
            "buy",
            ["log in", "product list", "add to cart", "view cart", "check out"]
            + ["order confirmed"],
        ),
    ],
)
def test_shop_journey_reports_every_named_wait(
    demo_server: DemoProcess, tmp_path: Path, tags: str, expected: list[str]
) -> None:
    done, rows = run_locust(
        ROOT / "locustfiles" / "shop.py",
        tmp_path,
        *("-u", "3", "-r", "3", "-t", "15s", "-H", demo_server.url, "--tags", tags),
    )

    assert done.returncode == 0, done.stderr[-3000:]
    waits = {r["name"]: r for r in rows if r["method"] == "WAIT"}
    assert sorted(waits) == sorted(expected)
    assert all(waits[name]["num_failures"] == 0 for name in expected)
    network = [r["name"] for r in rows if r["method"] in ("GET", "POST")]
    assert "/api/products" in network
    assert not [name for name in network if re.search(r"\d", name)]
    vitals = {r["name"].split(" ", 1)[0] for r in rows if r["method"] == "VITAL"}
    assert {"TTFB", "FCP", "LCP"} <= vitals
    assert "Load generator" in done.stderr
    if tags == "buy":
        assert row(rows, "STEP", "purchase")["num_failures"] == 0


def test_hybrid_runs_two_browsers_beside_http_users(
    demo_server: DemoProcess, tmp_path: Path
) -> None:
    done, rows = run_locust(
        ROOT / "locustfiles" / "hybrid.py",
        tmp_path,
        *("-u", "10", "-r", "10", "-t", "10s", "-H", demo_server.url),
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert row(rows, "WAIT", "product list")["num_requests"] > 0
    assert row(rows, "GET", "/api/products?page=[n]")["num_requests"] > 0
    assert all(r["num_failures"] == 0 for r in rows)
    assert '"BrowserShopper": 2' in done.stderr
