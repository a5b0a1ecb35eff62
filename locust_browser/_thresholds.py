"""Pass/fail thresholds on a run's statistics, for CI: ``--threshold EXPR``.

Design note: an expression reads ``STAT(ROW) OP VALUE``, for example
``p95(WAIT checkout) < 800`` or ``fail_ratio(*) < 0.01``. ROW is a row's type
and name as Locust shows them, or ``*`` for Locust's aggregate row. The parser
is a pure function, so a malformed expression is a :class:`ThresholdError`
that names the expression and the problem, and tests need no Locust run.

The option is a Locust option, so it also comes from the environment
(``LOCUST_THRESHOLD``), from ``locust.conf`` or ``pyproject.toml``, and from
the web UI's start form. Every value may hold several expressions separated
by ``;``, the one form that every source keeps as one string. The command line
may also repeat the option; an environment variable or a config file may also
give a list, ``["p95(WAIT checkout) < 800", "fail_ratio(*) < 0.01"]``.
Sources do not merge: the command line replaces the environment, which
replaces the config file. In ``locust.conf``, a ``;`` or ``#`` after a space
starts a comment, and a repeated key keeps only its last line.

Module import registers three listeners on Locust's global events: the
option; a check at ``init`` on the master or local runner, which exits with
status 1 before any load when an expression is malformed; and the verdict at
``quitting``. ``quitting`` is the last event before Locust computes its exit
code from ``environment.process_exit_code``, and it fires in reverse order of
registration: this listener, registered when the locustfile imports the
package, runs after the master's own, which collects the workers' final
reports. Numbers come from Locust's own stats entries, so they match its
report; percentiles are the entry's, as in Locust's percentile table.
"""

from __future__ import annotations

import locust  # isort: skip

import logging
import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import ge, gt, le, lt
from typing import TYPE_CHECKING, Any

from locust.runners import WorkerRunner

if TYPE_CHECKING:
    from locust.env import Environment
    from locust.stats import RequestStats, StatsEntry

__all__ = [
    "ENV_THRESHOLD",
    "EXIT_CODE",
    "STATISTICS",
    "Threshold",
    "ThresholdError",
    "ThresholdResult",
    "check_thresholds",
    "format_report",
    "parse_threshold",
    "parse_thresholds",
]

logger = logging.getLogger(__name__)

ENV_THRESHOLD = "LOCUST_THRESHOLD"
"""Environment variable that sets ``--threshold``."""

EXIT_CODE = 3
"""Process exit status of a run that breached a threshold."""

SEPARATOR = ";"
"""Separates several expressions in one option value."""

AGGREGATE = "*"
"""The ROW that names Locust's aggregate row."""

FORM = (
    "The form is STAT(ROW) OP VALUE, e.g. 'p95(WAIT checkout) < 800' or "
    "'fail_ratio(*) < 0.01': STAT is one of {stats}; ROW is a row's type and "
    "name, or * for the aggregate; OP is one of <, <=, >, >=; VALUE is a number "
    "(milliseconds for times, a ratio from 0 to 1 for fail_ratio, requests per "
    "second for rps)."
)

_TIME_STATISTICS = ("avg", "min", "max", "p50", "p90", "p95", "p99")


def _percentile(fraction: float) -> Callable[[StatsEntry], float]:
    def measure(entry: StatsEntry) -> float:
        return float(entry.get_response_time_percentile(fraction))

    return measure


STATISTICS: dict[str, Callable[[StatsEntry], float]] = {
    "avg": lambda entry: float(entry.avg_response_time),
    "min": lambda entry: float(entry.min_response_time or 0),
    "max": lambda entry: float(entry.max_response_time),
    "p50": _percentile(0.50),
    "p90": _percentile(0.90),
    "p95": _percentile(0.95),
    "p99": _percentile(0.99),
    "fail_ratio": lambda entry: float(entry.fail_ratio),
    "rps": lambda entry: float(entry.total_rps),
}
"""Each STAT, and how it is read from a Locust stats entry."""

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
}

# The ')' that closes ROW is the last one followed by an operator character.
_ROW_END = re.compile(r"\)\s*(?=[<>=!])")
_OPERATOR = re.compile(r"\s*(?P<operator>[<>=!]*)\s*(?P<value>.*)", re.DOTALL)
_MAX_ROWS_LISTED = 20


class ThresholdError(ValueError):
    """A threshold expression that cannot be parsed.

    Attributes:
        expression: The expression as given.
        problem: What is wrong with it, in a few words.
    """

    def __init__(self, expression: str, problem: str) -> None:
        self.expression = expression
        self.problem = problem
        form = FORM.format(stats=", ".join(STATISTICS))
        super().__init__(f"Invalid threshold {expression!r}: {problem}. {form}")


@dataclass(frozen=True)
class Threshold:
    """One parsed ``STAT(ROW) OP VALUE`` expression.

    Attributes:
        stat: One of :data:`STATISTICS`.
        method: The row's type (``WAIT``, ``GET``), or None for the aggregate.
        name: The row's name, or None for the aggregate.
        operator: One of ``<``, ``<=``, ``>``, ``>=``.
        limit: Milliseconds for times, a ratio for ``fail_ratio``, requests
            per second for ``rps``.
    """

    stat: str
    method: str | None
    name: str | None
    operator: str
    limit: float

    @property
    def is_aggregate(self) -> bool:
        """Whether the threshold is on Locust's aggregate row."""
        return self.method is None

    @property
    def row(self) -> str:
        """The row as written in the expression: ``WAIT checkout`` or ``*``."""
        return AGGREGATE if self.method is None else f"{self.method} {self.name}"

    def __str__(self) -> str:
        return f"{self.stat}({self.row}) {self.operator} {self.limit:.15g}"

    def measure(self, stats: RequestStats) -> float | None:
        """Read the statistic from *stats*.

        Args:
            stats: The run's statistics, e.g. ``environment.stats``.

        Returns:
            The value, or None when the row has no requests: it never
            appeared, or, for the aggregate, nothing was recorded at all.
        """
        entry = self._entry(stats)
        return None if entry is None else STATISTICS[self.stat](entry)

    def check(self, stats: RequestStats) -> ThresholdResult:
        """Measure the statistic in *stats* and compare it with the limit.

        A row without requests fails the threshold: a CI gate on a row the
        run never produced is a broken test, not a pass.

        Args:
            stats: The run's statistics, e.g. ``environment.stats``.

        Returns:
            The verdict, with the measured value or what was missing.
        """
        measured = self.measure(stats)
        if measured is not None:
            passed = _OPERATORS[self.operator](measured, self.limit)
            return ThresholdResult(self, measured, passed)
        if self.is_aggregate:
            return ThresholdResult(self, None, False, "no requests were recorded")
        return ThresholdResult(
            self, None, False, f"row never appeared; rows: {_row_list(stats)}"
        )

    def _entry(self, stats: RequestStats) -> StatsEntry | None:
        entry: StatsEntry | None = stats.total
        if self.method is not None and self.name is not None:
            # Not stats.get(): it would create the missing row.
            entry = stats.entries.get((self.name, self.method))
        return entry if entry is not None and _has_requests(entry) else None


@dataclass(frozen=True)
class ThresholdResult:
    """The verdict on one threshold at the end of a run.

    Attributes:
        threshold: The threshold checked.
        measured: The statistic's value, or None when the row had no requests.
        passed: Whether the statistic met the threshold.
        problem: Why nothing could be measured, or an empty string.
    """

    threshold: Threshold
    measured: float | None
    passed: bool
    problem: str = ""

    def describe_measured(self) -> str:
        """Format the measured value with its unit, or say what was missing."""
        if self.measured is None:
            return self.problem
        stat = self.threshold.stat
        if stat == "fail_ratio":
            return f"{self.measured:.4g}"
        if stat == "rps":
            return f"{self.measured:.2f} req/s"
        if stat == "avg":
            return f"{self.measured:.1f} ms"
        return f"{self.measured:.0f} ms"


def parse_threshold(text: str) -> Threshold:
    """Parse one ``STAT(ROW) OP VALUE`` expression.

    Args:
        text: The expression, e.g. ``p95(WAIT checkout) < 800``. Spaces around
            each part are optional; names may contain spaces and parentheses.

    Returns:
        The threshold.

    Raises:
        ThresholdError: The expression is malformed; the message names it,
            says what is wrong and shows the form.
    """
    expression = text.strip()
    if not expression:
        raise ThresholdError(text, "the expression is empty")

    stat, rest = _split_stat(expression)
    row, rest = _split_row(expression, rest)
    op, limit = _split_comparison(expression, stat, rest)
    method, name = _split_row_name(expression, row)
    return Threshold(stat, method, name, op, limit)


def parse_thresholds(values: str | Iterable[str] | None) -> list[Threshold]:
    """Parse the values of ``--threshold``; each may hold several expressions.

    Args:
        values: One value or several (the option is repeatable); expressions
            in one value are separated by ``;``. Blank expressions are skipped,
            so an empty ``LOCUST_THRESHOLD`` sets none.

    Returns:
        The thresholds, in the order given.

    Raises:
        ThresholdError: An expression is malformed.
    """
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    expressions = (part for value in values for part in value.split(SEPARATOR))
    return [parse_threshold(text) for text in expressions if text.strip()]


def check_thresholds(
    thresholds: Iterable[Threshold], stats: RequestStats
) -> list[ThresholdResult]:
    """Check every threshold against *stats*.

    Args:
        thresholds: The thresholds, e.g. from :func:`parse_thresholds`.
        stats: The run's statistics, e.g. ``environment.stats``.

    Returns:
        One verdict per threshold, in the same order.
    """
    return [threshold.check(stats) for threshold in thresholds]


def format_report(results: Iterable[ThresholdResult]) -> str:
    """Format the verdicts as a headline and a table, one line per threshold.

    Args:
        results: The verdicts, e.g. from :func:`check_thresholds`.

    Returns:
        Lines without a trailing newline: the headline, the column titles, a
        rule, then ``pass`` or ``FAIL``, the threshold and the measured value.
    """
    results = list(results)
    failed = sum(not result.passed for result in results)
    if failed:
        headline = f"Thresholds: {failed} of {len(results)} failed"
    else:
        headline = f"Thresholds: all {len(results)} passed"

    cells = [
        ("pass" if result.passed else "FAIL", str(result.threshold))
        for result in results
    ]
    width = max([len("Threshold")] + [len(expression) for _, expression in cells])
    lines = [headline, f"{'Result':<6}  {'Threshold':<{width}}  Measured"]
    lines.append(f"{'-' * 6}  {'-' * width}  {'-' * 8}")
    for (verdict, expression), result in zip(cells, results, strict=True):
        measured = result.describe_measured()
        lines.append(f"{verdict:<6}  {expression:<{width}}  {measured}")
    return "\n".join(lines)


def _split_stat(expression: str) -> tuple[str, str]:
    opening = expression.find("(")
    if opening < 0:
        raise ThresholdError(expression, "missing '(' before the row")
    stat = expression[:opening].strip()
    if not stat:
        raise ThresholdError(expression, "missing STAT before '('")
    if stat not in STATISTICS:
        raise ThresholdError(
            expression,
            f"unknown statistic {stat!r}; expected one of {', '.join(STATISTICS)}",
        )
    return stat, expression[opening + 1 :]


def _split_row(expression: str, rest: str) -> tuple[str, str]:
    ends = list(_ROW_END.finditer(rest))
    if ends:
        return rest[: ends[-1].start()], rest[ends[-1].end() :]
    if ")" not in rest:
        raise ThresholdError(expression, "missing ')' after the row")
    raise ThresholdError(
        expression, "missing operator after the row; expected one of <, <=, >, >="
    )


def _split_comparison(expression: str, stat: str, rest: str) -> tuple[str, float]:
    match = _OPERATOR.fullmatch(rest)
    assert match is not None  # Every string matches: both groups may be empty.
    op, value = match["operator"], match["value"].strip()
    if op not in _OPERATORS:
        raise ThresholdError(
            expression, f"unknown operator {op!r}; expected one of <, <=, >, >="
        )
    if not value:
        raise ThresholdError(expression, f"missing VALUE after {op!r}")
    return op, _parse_limit(expression, stat, value)


def _parse_limit(expression: str, stat: str, value: str) -> float:
    try:
        limit = float(value)
    except ValueError:
        unit = " (times are plain milliseconds, without a unit)"
        hint = unit if stat in _TIME_STATISTICS and value[:1].isdigit() else ""
        raise ThresholdError(expression, f"{value!r} is not a number{hint}") from None
    if not math.isfinite(limit):
        raise ThresholdError(expression, f"{value!r} is not a finite number")
    if limit < 0:
        raise ThresholdError(expression, f"{value!r} is negative")
    if stat == "fail_ratio" and limit > 1:
        raise ThresholdError(
            expression,
            f"fail_ratio is a ratio from 0 to 1, not {value} "
            "(write 0.05 for 5 percent)",
        )
    return limit


def _split_row_name(expression: str, row: str) -> tuple[str | None, str | None]:
    row = row.strip()
    if row == AGGREGATE:
        return None, None
    if not row:
        raise ThresholdError(
            expression,
            "the row is empty; give its type and name, e.g. 'WAIT checkout', "
            "or * for the aggregate",
        )
    parts = row.split(None, 1)
    if len(parts) < 2:
        raise ThresholdError(
            expression,
            f"row {row!r} needs a type and a name, e.g. 'WAIT {row}'",
        )
    return parts[0], parts[1]


def _has_requests(entry: StatsEntry) -> bool:
    return bool(entry.num_requests or entry.num_failures)


def _row_list(stats: RequestStats) -> str:
    rows = sorted(
        f"{entry.method} {entry.name}"
        for entry in stats.entries.values()
        if _has_requests(entry)
    )
    if not rows:
        return "none"
    listed = ", ".join(rows[:_MAX_ROWS_LISTED])
    more = len(rows) - _MAX_ROWS_LISTED
    return f"{listed} and {more} more" if more > 0 else listed


def _configured(environment: Environment) -> list[Threshold]:
    options = environment.parsed_options
    return parse_thresholds(getattr(options, "threshold", None) if options else None)


def _set_exit_code(environment: Environment, code: int) -> None:
    # A nonzero code set by someone else already fails the run; keep it.
    if not environment.process_exit_code:
        environment.process_exit_code = code


def _add_option(parser: Any, **_kwargs: Any) -> None:
    group = parser.add_argument_group("locust-browser thresholds")
    group.add_argument(
        "--threshold",
        action="append",
        default=None,
        metavar="EXPR",
        env_var=ENV_THRESHOLD,
        help="Fail the run with exit code 3 unless STAT(ROW) OP VALUE holds "
        "at its end, e.g. 'p95(WAIT checkout) < 800' or 'fail_ratio(*) < 0.01'. "
        "STAT: " + ", ".join(STATISTICS) + ". Repeat the option, or separate "
        "expressions with ';'",
    )


def _check_expressions(environment: Environment, **_kwargs: Any) -> None:
    # Workers neither parse nor enforce: the master has the whole picture.
    if isinstance(environment.runner, WorkerRunner):
        return
    try:
        thresholds = _configured(environment)
    except ThresholdError as error:
        logger.error("%s", error)
        sys.exit(1)
    if thresholds:
        logger.info(
            "Thresholds checked at the end: %s", "; ".join(map(str, thresholds))
        )


def _enforce(environment: Environment, **_kwargs: Any) -> None:
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner):
        return
    try:
        thresholds = _configured(environment)
    except ThresholdError as error:
        # Only the web UI's start form can bring an expression after init.
        logger.error("%s", error)
        _set_exit_code(environment, 1)
        return
    if not thresholds:
        return

    results = check_thresholds(thresholds, environment.stats)
    if all(result.passed for result in results):
        logger.info("%s", format_report(results))
        return
    logger.error("%s", format_report(results))
    _set_exit_code(environment, EXIT_CODE)


locust.events.init_command_line_parser.add_listener(_add_option)
locust.events.init.add_listener(_check_expressions)
locust.events.quitting.add_listener(_enforce)
