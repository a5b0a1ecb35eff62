"""Tests for ``--threshold``: parsing, checking, the option's sources, the exit code.

The end-to-end tests run the real ``locust`` command against a small HTTP
server started here, with a plain Locust user that reports its own WAIT rows,
so they test the option's plumbing without a browser.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from locust.argument_parser import get_parser
from locust.stats import RequestStats

from locust_browser._thresholds import (
    ENV_THRESHOLD,
    EXIT_CODE,
    STATISTICS,
    Threshold,
    ThresholdError,
    check_thresholds,
    format_report,
    parse_threshold,
    parse_thresholds,
)

from .conftest import ROOT, free_port, serving

LOCUST = str(Path(sys.executable).with_name("locust"))
LOCUSTFILE = ROOT / "tests" / "locustfiles" / "thresholds.py"
CHECKOUT_TIMES_MS = range(100, 300, 10)

# --- parsing ---------------------------------------------------------------


@pytest.mark.parametrize("stat", list(STATISTICS))
def test_each_statistic_parses(stat: str) -> None:
    threshold = parse_threshold(f"{stat}(WAIT checkout) < 0.5")

    assert threshold == Threshold(stat, "WAIT", "checkout", "<", 0.5)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_each_operator_parses(op: str) -> None:
    threshold = parse_threshold(f"p95(WAIT checkout) {op} 800")

    assert (threshold.operator, threshold.limit) == (op, 800.0)


@pytest.mark.parametrize(
    "text",
    [
        "p95(WAIT checkout)<800",
        "  p95 ( WAIT checkout )  <  800  ",
        "p95(WAIT   checkout) < 8e2",
        "p95(\tWAIT checkout)\t<\t800.0",
    ],
)
def test_spaces_around_the_parts_are_optional(text: str) -> None:
    assert parse_threshold(text) == Threshold("p95", "WAIT", "checkout", "<", 800)


@pytest.mark.parametrize(
    ("text", "method", "name"),
    [
        ("max(WAIT add to cart) >= 10", "WAIT", "add to cart"),
        ("max(WAIT add to cart (guest)) >= 10", "WAIT", "add to cart (guest)"),
        ("avg(GET /api/products) < 10", "GET", "/api/products"),
        ("avg(GET /search?q=(a)) > 10", "GET", "/search?q=(a)"),
        ("avg(STEP pay (3-D Secure)) <= 10", "STEP", "pay (3-D Secure)"),
    ],
)
def test_row_is_a_type_and_a_name_that_may_hold_spaces_and_parentheses(
    text: str, method: str, name: str
) -> None:
    threshold = parse_threshold(text)

    assert (threshold.method, threshold.name) == (method, name)
    assert threshold.row == f"{method} {name}"


def test_star_names_the_aggregate_row() -> None:
    threshold = parse_threshold("fail_ratio(*) < 0.01")

    assert threshold.is_aggregate
    assert (threshold.method, threshold.name, threshold.row) == (None, None, "*")


def test_a_threshold_prints_as_its_normalized_expression() -> None:
    assert str(parse_threshold(" p95( WAIT checkout )<800.0")) == (
        "p95(WAIT checkout) < 800"
    )
    assert str(parse_threshold("fail_ratio(*)<=1e-2")) == "fail_ratio(*) <= 0.01"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
        ("p96(WAIT checkout) < 800", "unknown statistic 'p96'; expected one of avg"),
        ("P95(WAIT checkout) < 800", "unknown statistic 'P95'"),
        ("(WAIT checkout) < 800", "missing STAT before '('"),
        ("p95 WAIT checkout < 800", "missing '(' before the row"),
        ("p95(WAIT checkout < 800", "missing ')' after the row"),
        ("p95(WAIT checkout) 800", "missing operator after the row"),
        ("p95(WAIT checkout) == 800", "unknown operator '=='"),
        ("p95(WAIT checkout) => 800", "unknown operator '=>'"),
        ("p95(WAIT checkout) != 800", "unknown operator '!='"),
        ("p95(WAIT checkout) <", "missing VALUE after '<'"),
        ("p95(WAIT checkout) < fast", "'fast' is not a number"),
        ("p95(WAIT checkout) < 800ms", "'800ms' is not a number (times are plain"),
        ("p95(WAIT checkout) < 800)", "'800)' is not a number"),
        ("p95(WAIT checkout) < nan", "'nan' is not a finite number"),
        ("p95(WAIT checkout) < -1", "'-1' is negative"),
        ("fail_ratio(*) < 5", "fail_ratio is a ratio from 0 to 1, not 5"),
        ("p95() < 800", "the row is empty"),
        ("p95(checkout) < 800", "row 'checkout' needs a type and a name"),
    ],
)
def test_malformed_expression_is_an_error_naming_it_and_the_problem(
    text: str, problem: str
) -> None:
    with pytest.raises(ThresholdError) as caught:
        parse_threshold(text)

    assert caught.value.expression == text
    assert caught.value.problem.startswith(problem)
    assert str(caught.value).startswith(f"Invalid threshold {text!r}: {problem}")
    assert "The form is STAT(ROW) OP VALUE, e.g. 'p95(WAIT checkout) < 800'" in str(
        caught.value
    )


def test_a_malformed_expression_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown statistic"):
        parse_threshold("median(*) < 5")


def test_semicolons_separate_expressions_in_one_value() -> None:
    thresholds = parse_thresholds(
        ["p95(WAIT checkout) < 800; fail_ratio(*) < 0.01;", "rps(*) > 1"]
    )

    assert [str(threshold) for threshold in thresholds] == [
        "p95(WAIT checkout) < 800",
        "fail_ratio(*) < 0.01",
        "rps(*) > 1",
    ]


@pytest.mark.parametrize("values", [None, "", [], [""], [" ; "]])
def test_no_value_or_blank_values_set_no_thresholds(
    values: str | list[str] | None,
) -> None:
    assert parse_thresholds(values) == []


def test_one_malformed_expression_among_several_is_an_error_naming_it() -> None:
    with pytest.raises(ThresholdError, match=r"'p95\(\*\) <> 1'"):
        parse_thresholds("avg(*) < 1; p95(*) <> 1")


# --- checking against Locust's statistics -----------------------------------


@pytest.fixture
def stats() -> RequestStats:
    """Rows of known values: 20 checkouts of 100 to 290 ms, 1 in 4 GETs failed."""
    stats = RequestStats()
    for response_time in CHECKOUT_TIMES_MS:
        stats.log_request("WAIT", "checkout", response_time, 0)
    for index in range(4):
        stats.log_request("GET", "/api/products", 20, 512)
        if index == 0:
            stats.log_error("GET", "/api/products", "HTTP 500")
    return stats


@pytest.mark.parametrize("row", ["WAIT checkout", "GET /api/products", "*"])
@pytest.mark.parametrize("stat", list(STATISTICS))
def test_measured_value_is_the_stats_entrys_own(
    stats: RequestStats, stat: str, row: str
) -> None:
    if row == "*":
        entry = stats.total
    else:
        method, name = row.split(" ", 1)
        entry = stats.entries[(name, method)]
    expected = {
        "avg": entry.avg_response_time,
        "min": entry.min_response_time,
        "max": entry.max_response_time,
        "p50": entry.get_response_time_percentile(0.5),
        "p90": entry.get_response_time_percentile(0.9),
        "p95": entry.get_response_time_percentile(0.95),
        "p99": entry.get_response_time_percentile(0.99),
        "fail_ratio": entry.fail_ratio,
        "rps": entry.total_rps,
    }[stat]

    assert parse_threshold(f"{stat}({row}) < 1").measure(stats) == expected


def test_known_rows_measure_what_was_logged(stats: RequestStats) -> None:
    def measure(text: str) -> float | None:
        return parse_threshold(f"{text} < 1").measure(stats)

    assert measure("avg(WAIT checkout)") == 195
    assert measure("min(WAIT checkout)") == 100
    assert measure("max(WAIT checkout)") == 290
    assert measure("p50(WAIT checkout)") == 200
    assert measure("p95(WAIT checkout)") == 290
    assert measure("fail_ratio(GET /api/products)") == 0.25
    assert measure("fail_ratio(*)") == 1 / 24
    assert measure("max(*)") == 290


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("p95(WAIT checkout) < 800", True),
        ("p95(WAIT checkout) < 290", False),
        ("p95(WAIT checkout) <= 290", True),
        ("avg(WAIT checkout) > 195", False),
        ("avg(WAIT checkout) >= 195", True),
        ("fail_ratio(GET /api/products) > 0.2", True),
        ("fail_ratio(*) < 0.01", False),
        ("rps(*) > 0", True),
    ],
)
def test_threshold_passes_only_when_the_comparison_holds(
    stats: RequestStats, text: str, passed: bool
) -> None:
    result = parse_threshold(text).check(stats)

    assert result.passed is passed
    assert result.measured is not None
    assert result.problem == ""


def test_a_row_that_never_appeared_fails_and_lists_the_rows_that_did(
    stats: RequestStats,
) -> None:
    result = parse_threshold("p95(WAIT pay) < 800").check(stats)

    assert not result.passed
    assert result.measured is None
    assert result.problem == (
        "row never appeared; rows: GET /api/products, WAIT checkout"
    )
    assert ("pay", "WAIT") not in stats.entries


def test_a_name_logged_under_another_type_never_appeared(
    stats: RequestStats,
) -> None:
    result = parse_threshold("p95(GET checkout) < 800").check(stats)

    assert not result.passed
    assert result.problem.startswith("row never appeared")


def test_the_aggregate_of_a_run_without_requests_fails() -> None:
    result = parse_threshold("fail_ratio(*) < 0.01").check(RequestStats())

    assert not result.passed
    assert result.problem == "no requests were recorded"


def test_report_shows_every_threshold_with_its_value_and_verdict(
    stats: RequestStats,
) -> None:
    thresholds = parse_thresholds(
        "p95(WAIT checkout) < 800; avg(WAIT checkout) < 100; "
        "fail_ratio(*) < 0.01; rps(GET /api/products) > 0; max(WAIT pay) < 5"
    )
    rps = stats.entries[("/api/products", "GET")].total_rps

    report = format_report(check_thresholds(thresholds, stats))

    assert report.splitlines() == [
        "Thresholds: 3 of 5 failed",
        "Result  Threshold                   Measured",
        "------  --------------------------  --------",
        "pass    p95(WAIT checkout) < 800    290 ms",
        "FAIL    avg(WAIT checkout) < 100    195.0 ms",
        "FAIL    fail_ratio(*) < 0.01        0.04167",
        f"pass    rps(GET /api/products) > 0  {rps:.2f} req/s",
        "FAIL    max(WAIT pay) < 5           row never appeared; rows: "
        "GET /api/products, WAIT checkout",
    ]


def test_report_of_passing_thresholds_says_all_passed(stats: RequestStats) -> None:
    results = check_thresholds([parse_threshold("p99(*) < 800")], stats)

    assert format_report(results).splitlines()[0] == "Thresholds: all 1 passed"


# --- the option's sources: command line, environment, config file ----------


def configured(
    tmp_path: Path,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    config: str | None = None,
) -> list[str]:
    """Parse the options as locust does; return the thresholds they give."""
    args = list(args or [])
    if config is not None:
        path = tmp_path / "locust.conf"
        path.write_text(config)
        args += ["--config", str(path)]
    options = get_parser(default_config_files=[]).parse_args(args, env_vars=env or {})
    return [str(threshold) for threshold in parse_thresholds(options.threshold)]


def test_option_repeats_on_the_command_line(tmp_path: Path) -> None:
    args = ["--threshold", "p95(WAIT checkout) < 800", "--threshold=rps(*) > 1"]

    assert configured(tmp_path, args) == ["p95(WAIT checkout) < 800", "rps(*) > 1"]


def test_env_var_separates_expressions_with_semicolons(tmp_path: Path) -> None:
    env = {ENV_THRESHOLD: "p95(WAIT checkout) < 800; rps(*) > 1"}

    assert configured(tmp_path, env=env) == ["p95(WAIT checkout) < 800", "rps(*) > 1"]


def test_env_var_takes_a_json_list(tmp_path: Path) -> None:
    env = {ENV_THRESHOLD: '["p95(WAIT checkout) < 800", "rps(*) > 1"]'}

    assert configured(tmp_path, env=env) == ["p95(WAIT checkout) < 800", "rps(*) > 1"]


def test_empty_env_var_sets_no_thresholds(tmp_path: Path) -> None:
    assert configured(tmp_path, env={ENV_THRESHOLD: ""}) == []


def test_config_file_separates_expressions_with_semicolons(tmp_path: Path) -> None:
    config = "threshold = p95(WAIT checkout) < 800; rps(*) > 1\n"

    assert configured(tmp_path, config=config) == [
        "p95(WAIT checkout) < 800",
        "rps(*) > 1",
    ]


@pytest.mark.parametrize(
    "config",
    [
        'threshold = ["p95(WAIT checkout) < 800", "rps(*) > 1"]\n',
        "threshold = [p95(WAIT checkout) < 800, rps(*) > 1]\n",
    ],
)
def test_config_file_takes_a_list(tmp_path: Path, config: str) -> None:
    assert configured(tmp_path, config=config) == [
        "p95(WAIT checkout) < 800",
        "rps(*) > 1",
    ]


def test_pyproject_toml_takes_an_array(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.locust]\nthreshold = ["p95(WAIT checkout) < 800", "rps(*) > 1"]\n'
    )

    thresholds = configured(tmp_path, ["--config", str(path)])

    assert thresholds == ["p95(WAIT checkout) < 800", "rps(*) > 1"]


def test_in_locust_conf_a_space_before_a_semicolon_starts_a_comment(
    tmp_path: Path,
) -> None:
    config = "threshold = p95(WAIT checkout) < 800 ; rps(*) > 1\n"

    assert configured(tmp_path, config=config) == ["p95(WAIT checkout) < 800"]


def test_in_locust_conf_a_repeated_key_keeps_only_its_last_line(
    tmp_path: Path,
) -> None:
    config = "threshold = p95(WAIT checkout) < 800\nthreshold = rps(*) > 1\n"

    assert configured(tmp_path, config=config) == ["rps(*) > 1"]


def test_command_line_replaces_env_var_which_replaces_config_file(
    tmp_path: Path,
) -> None:
    config = "threshold = max(*) < 3\n"
    env = {ENV_THRESHOLD: "max(*) < 2"}
    args = ["--threshold", "max(*) < 1"]

    assert configured(tmp_path, args, env, config) == ["max(*) < 1"]
    assert configured(tmp_path, env=env, config=config) == ["max(*) < 2"]


# --- the real locust command line --------------------------------------------


class _Products(BaseHTTPRequestHandler):
    requests = 0

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        type(self).requests += 1
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def products_url() -> Iterator[str]:
    """Serve ``GET /api/products`` on a free loopback port, for the module."""
    with serving(_Products) as url:
        yield url


def run_locust(
    tmp_path: Path,
    host: str,
    *args: str,
    env: dict[str, str] | None = None,
    headless: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run locust for 3 s with one user; only ``env`` adds to the environment."""
    command = [LOCUST, "-f", str(LOCUSTFILE), "-u", "1", "-r", "1", "-t", "3s"]
    command += ["-H", host, "--loglevel", "INFO", *args]
    if headless:
        command.append("--headless")
    clean = {key: value for key, value in os.environ.items() if "LOCUST" not in key}
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean | (env or {}),
    )


def table_line(verdict: str, expression: str, measured: str) -> re.Pattern[str]:
    """Match one line of the thresholds table, whatever the column width."""
    parts = (re.escape(verdict), re.escape(expression), re.escape(measured))
    return re.compile(r"^{} +{} +{}$".format(*parts), re.MULTILINE)


@pytest.mark.e2e
def test_passing_thresholds_exit_0_and_print_the_table(
    tmp_path: Path, products_url: str
) -> None:
    done = run_locust(
        tmp_path,
        products_url,
        *("--threshold", "p95(WAIT checkout) < 800"),
        *("--threshold", "fail_ratio(*) < 0.01; rps(GET /api/products) > 1"),
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "INFO/locust_browser._thresholds: Thresholds: all 3 passed" in done.stderr
    assert table_line("pass", "p95(WAIT checkout) < 800", "250 ms").search(done.stderr)
    assert table_line("pass", "fail_ratio(*) < 0.01", "0").search(done.stderr)
    assert "Traceback" not in done.stderr


@pytest.mark.e2e
def test_breached_threshold_exits_3_with_fail_in_the_table(
    tmp_path: Path, products_url: str
) -> None:
    done = run_locust(
        tmp_path,
        products_url,
        *("--threshold", "p95(WAIT checkout) < 800"),
        *("--threshold", "max(WAIT add to cart (guest)) < 1000"),
    )

    assert done.returncode == EXIT_CODE, done.stderr[-3000:]
    assert "ERROR/locust_browser._thresholds: Thresholds: 1 of 2 failed" in (
        done.stderr
    )
    assert table_line("pass", "p95(WAIT checkout) < 800", "250 ms").search(done.stderr)
    assert table_line("FAIL", "max(WAIT add to cart (guest)) < 1000", "1200 ms").search(
        done.stderr
    )
    assert "Shutting down (exit code 3)" in done.stderr


@pytest.mark.e2e
def test_malformed_threshold_exits_1_before_any_load(
    tmp_path: Path, products_url: str
) -> None:
    before = _Products.requests

    done = run_locust(tmp_path, products_url, "--threshold", "p95(WAIT checkout)<")

    assert done.returncode == 1
    assert "Invalid threshold 'p95(WAIT checkout)<': missing VALUE after '<'" in (
        done.stderr
    )
    assert "The form is STAT(ROW) OP VALUE" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Aggregated" not in done.stdout
    assert _Products.requests == before


@pytest.mark.e2e
def test_row_that_never_appeared_exits_3_and_lists_the_rows(
    tmp_path: Path, products_url: str
) -> None:
    done = run_locust(tmp_path, products_url, "--threshold", "p95(WAIT pay) < 800")

    assert done.returncode == EXIT_CODE, done.stderr[-3000:]
    rows = "GET /api/products, WAIT add to cart (guest), WAIT checkout"
    assert table_line(
        "FAIL", "p95(WAIT pay) < 800", f"row never appeared; rows: {rows}"
    ).search(done.stderr)


@pytest.mark.e2e
def test_thresholds_come_from_the_environment(
    tmp_path: Path, products_url: str
) -> None:
    env = {ENV_THRESHOLD: "p95(WAIT checkout) < 800;p95(WAIT checkout) > 900"}

    done = run_locust(tmp_path, products_url, env=env)

    assert done.returncode == EXIT_CODE, done.stderr[-3000:]
    assert table_line("pass", "p95(WAIT checkout) < 800", "250 ms").search(done.stderr)
    assert table_line("FAIL", "p95(WAIT checkout) > 900", "250 ms").search(done.stderr)


@pytest.mark.e2e
def test_thresholds_come_from_a_config_file(tmp_path: Path, products_url: str) -> None:
    config = tmp_path / "ci.conf"
    config.write_text(
        'threshold = ["min(WAIT checkout) >= 250", "fail_ratio(*) <= 0.5"]\n'
    )

    done = run_locust(tmp_path, products_url, "--config", str(config))

    assert done.returncode == 0, done.stderr[-3000:]
    assert "Thresholds: all 2 passed" in done.stderr
    assert table_line("pass", "min(WAIT checkout) >= 250", "250 ms").search(done.stderr)


@pytest.mark.e2e
def test_web_ui_run_is_checked_when_locust_quits(
    tmp_path: Path, products_url: str
) -> None:
    port = free_port()

    done = run_locust(
        tmp_path,
        products_url,
        *("--autostart", "--autoquit", "0"),
        *("--web-host", "127.0.0.1", "--web-port", str(port)),
        *("--threshold", "avg(WAIT checkout) < 100"),
        headless=False,
    )

    assert done.returncode == EXIT_CODE, done.stderr[-3000:]
    assert "Starting web interface" in done.stderr
    assert table_line("FAIL", "avg(WAIT checkout) < 100", "250.0 ms").search(
        done.stderr
    )
