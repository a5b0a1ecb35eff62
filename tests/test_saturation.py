"""Tests for the saturation monitor: loop lag, CPU, warnings and the summary.

Monitors in this process measure its real hub, stalled on purpose with the
original, blocking ``time.sleep`` (Locust patches the module's to yield), or
read a scripted clock where exact numbers are the point. The end-to-end tests
run the real ``locust`` command with plain users that stall the hub or idle.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gevent
import locust
import pytest
from gevent.monkey import get_original
from locust.argument_parser import get_parser
from locust.env import Environment
from locust.event import Events

from locust_browser import _saturation
from locust_browser._saturation import (
    ENV_LAG_MS,
    SaturationMonitor,
    SaturationStatistics,
    current_monitor,
)

from .conftest import ROOT, free_port, wait_until

LOCUST = str(Path(sys.executable).with_name("locust"))
LOCUSTFILE = ROOT / "tests" / "locustfiles" / "saturation.py"
LOGGER = _saturation.__name__

blocking_sleep: Callable[[float], None] = get_original("time", "sleep")

PERIOD = 1 / 64
"""A scripted clock's period: a power of two, so its sums are exact."""

WINDOW = 4 * PERIOD


class ScriptedClock:
    """A wall clock for one monitor, which reads it once per wake-up.

    The first read (at ``start()``) gives 0; each later one advances one
    period plus the next scripted lag. Once the script is spent, time stands
    still, so whatever the real hub does afterwards changes nothing.
    """

    def __init__(self, lags: Iterable[float]) -> None:
        self.now = 0.0
        self._lags = list(lags)
        self._is_started = False

    def __call__(self) -> float:
        if self._is_started and self._lags:
            self.now += PERIOD + self._lags.pop(0)
        self._is_started = True
        return self.now

    @property
    def is_spent(self) -> bool:
        return not self._lags


def scripted_run(
    lags: Iterable[float],
    cpu_share: float = 0.5,
    warn_every: float = 60.0,
    cpu_at_stop: float = 0.0,
) -> SaturationMonitor:
    """Run a monitor on a scripted clock until the script is spent; stop it.

    CPU time grows at *cpu_share* of the scripted wall clock, and by
    *cpu_at_stop* seconds more once the script is spent.
    """
    clock = ScriptedClock(lags)
    monitor = SaturationMonitor(
        interval=PERIOD,
        window=WINDOW,
        warn_every=warn_every,
        clock=clock,
        cpu_clock=lambda: cpu_share * clock.now + clock.is_spent * cpu_at_stop,
    )
    monitor.start()
    try:
        wait_until(lambda: clock.is_spent, 10, "the scripted clock to be spent")
    finally:
        monitor.stop()
    return monitor


def wait_for_sample(monitor: SaturationMonitor, taken: int = 0) -> None:
    """Wait until *monitor* has taken more than *taken* samples."""
    wait_until(lambda: monitor.statistics().samples > taken, 5, "a sample")


def warnings_in(records: Iterable[logging.LogRecord]) -> list[str]:
    return [
        record.getMessage()
        for record in records
        if record.name == LOGGER and record.levelno == logging.WARNING
    ]


def live_greenlets() -> set[gevent.Greenlet]:
    return {
        obj
        for obj in gc.get_objects()
        if isinstance(obj, gevent.Greenlet) and not obj.dead
    }


# --- the real hub ----------------------------------------------------------

STALL = 0.5
STALLS = 3


@dataclass
class StalledRun:
    monitor: SaturationMonitor
    stats: SaturationStatistics
    warnings: list[str]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def stalled() -> Iterator[StalledRun]:
    """Stall this process's hub three times for 0.5 s under a real monitor."""
    handler = _Records()
    logging.getLogger(LOGGER).addHandler(handler)
    monitor = SaturationMonitor()
    try:
        monitor.start()
        for _ in range(STALLS):
            taken = monitor.statistics().samples
            blocking_sleep(STALL)
            wait_for_sample(monitor, taken)
    finally:
        monitor.stop()
        logging.getLogger(LOGGER).removeHandler(handler)
    yield StalledRun(monitor, monitor.statistics(), warnings_in(handler.records))


def test_a_stalled_hub_shows_a_lag_as_long_as_the_stall(stalled: StalledRun) -> None:
    # A stall may begin up to one period before the wake-up was due.
    least = (STALL - stalled.monitor.interval) * 1000
    assert least <= stalled.stats.worst_lag_ms < STALL * 1000 + 250


def test_saturated_time_covers_every_stall(stalled: StalledRun) -> None:
    stats = stalled.stats
    assert STALLS * STALL <= stats.saturated_seconds <= stats.monitored_seconds


def test_a_stall_is_saturation_even_when_the_cpu_is_idle(stalled: StalledRun) -> None:
    assert stalled.stats.mean_cpu_share < 0.5
    assert stalled.stats.saturated_seconds > 0


def test_several_stalls_within_a_minute_warn_once(stalled: StalledRun) -> None:
    assert len(stalled.warnings) == 1
    lag = re.search(r"the event loop woke up to (\d+) ms late", stalled.warnings[0])
    assert lag is not None
    assert int(lag[1]) >= (STALL - stalled.monitor.interval) * 1000
    assert "(limit 100 ms)" in stalled.warnings[0]
    assert "of one CPU core (limit 90%)" in stalled.warnings[0]
    assert "distrust them" in stalled.warnings[0]


def test_summary_states_the_saturated_time_and_the_worst_lag(
    stalled: StalledRun,
) -> None:
    summary = stalled.monitor.summary()
    stats = stalled.stats

    saturated = re.match(r"Load generator saturated for (\S+) s of (\S+) s", summary)
    assert saturated is not None, summary
    assert float(saturated[1]) == round(stats.saturated_seconds, 1)
    assert float(saturated[2]) == round(stats.monitored_seconds, 1)
    assert f"worst event loop lag {stats.worst_lag_ms:.0f} ms" in summary
    assert "distrust them" in summary


def test_an_idle_hub_is_not_saturated(caplog: pytest.LogCaptureFixture) -> None:
    monitor = SaturationMonitor()
    monitor.start()
    try:
        wait_until(lambda: monitor.statistics().monitored_seconds > 0, 5, "a window")
    finally:
        monitor.stop()

    stats = monitor.statistics()
    assert stats.samples >= 10
    assert stats.saturated_seconds == 0
    assert not stats.is_saturated
    assert stats.worst_lag_ms < 100
    assert monitor.summary().startswith("Load generator not saturated: ")
    assert warnings_in(caplog.records) == []


def test_a_stall_just_before_stop_still_counts() -> None:
    monitor = SaturationMonitor()
    monitor.start()
    wait_for_sample(monitor)

    blocking_sleep(0.3)
    monitor.stop()

    assert monitor.statistics().worst_lag_ms >= 200
    assert monitor.statistics().saturated_seconds > 0


def test_stop_ends_the_greenlet_and_the_sampling() -> None:
    before = live_greenlets()
    monitor = SaturationMonitor(interval=0.01, window=0.05)
    monitor.start()
    wait_for_sample(monitor, 2)

    monitor.stop()

    assert not monitor.is_running
    assert live_greenlets() <= before
    monitor.stop()  # A second stop does nothing.


def test_a_monitor_starts_only_once() -> None:
    monitor = SaturationMonitor()
    monitor.start()
    monitor.stop()
    with pytest.raises(RuntimeError, match="started before"):
        monitor.start()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("interval", 0.0),
        ("lag_threshold", -0.1),
        ("cpu_threshold", float("nan")),
        ("window", float("inf")),
        ("warn_every", -1.0),
    ],
)
def test_a_setting_out_of_range_is_an_error_naming_it(
    setting: str, value: float
) -> None:
    with pytest.raises(ValueError, match=setting):
        SaturationMonitor(**{setting: value})


def test_a_window_shorter_than_the_interval_is_an_error() -> None:
    with pytest.raises(ValueError, match="shorter than interval"):
        SaturationMonitor(interval=1.0, window=0.5)


# --- a scripted clock: exact numbers ---------------------------------------


def test_saturated_seconds_are_the_length_of_the_lagging_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Two calm windows; a third, stretched by a 250 ms lag; a calm tail.
    monitor = scripted_run([0.0] * 8 + [0.0, 0.25, 0.0, 0.0])

    stats = monitor.statistics()
    assert stats.worst_lag_ms == 250
    assert stats.monitored_seconds == 28 * PERIOD
    assert stats.saturated_seconds == 18 * PERIOD
    assert stats.mean_cpu_share == pytest.approx(0.5)
    assert not stats.is_saturated
    assert warnings_in(caplog.records) == [
        "Load generator saturated: the event loop woke up to 250 ms late "
        "(limit 100 ms) and the process used 50% of one CPU core (limit 90%) "
        "in the last 0.3 s; response times and request rates recorded while "
        "this lasts include the generator's own queueing: distrust them. "
        "Not repeated for 60 s; the end of the run says for how long"
    ]


def test_a_busy_cpu_without_lag_is_saturation() -> None:
    monitor = scripted_run([0.0] * 12, cpu_share=0.95)

    stats = monitor.statistics()
    assert stats.worst_lag_ms == 0
    assert stats.saturated_seconds == stats.monitored_seconds == 12 * PERIOD
    assert stats.mean_cpu_share == pytest.approx(0.95)
    assert stats.peak_cpu_share == pytest.approx(0.95)
    assert stats.is_saturated
    assert monitor.summary() == (
        "Load generator saturated for 0.2 s of 0.2 s (100%): worst event loop "
        "lag 0 ms (limit 100 ms), CPU 95% of one core on average and 95% at "
        "peak (limit 90%); response times and request rates recorded in those "
        "periods include the generator's own queueing: distrust them"
    )


def test_a_cpu_share_at_the_limit_is_not_saturation() -> None:
    monitor = scripted_run([0.0] * 12, cpu_share=0.875)

    assert monitor.statistics().saturated_seconds == 0
    assert monitor.summary() == (
        "Load generator not saturated: worst event loop lag 0 ms (limit 100 ms), "
        "CPU 88% of one core on average and 88% at peak (limit 90%), over 0.2 s"
    )


def test_a_short_tail_is_judged_by_lag_alone_and_left_out_of_the_cpu_figures() -> None:
    # Two windows at 10 % CPU, then a tail of one period that burns a second.
    monitor = scripted_run([0.0] * 9, cpu_share=0.1, cpu_at_stop=1.0)

    stats = monitor.statistics()
    assert stats.monitored_seconds == 9 * PERIOD
    assert stats.saturated_seconds == 0
    assert stats.mean_cpu_share == pytest.approx(0.1)
    assert stats.peak_cpu_share == pytest.approx(0.1)


def test_warnings_come_at_most_once_per_warn_every(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Five saturated windows, each about 0.31 s: warnings at 0.27, 0.89, 1.52 s.
    monitor = scripted_run([0.25, 0.0, 0.0, 0.0] * 5, warn_every=0.5)

    assert monitor.statistics().saturated_seconds == 1.515625
    assert len(warnings_in(caplog.records)) == 3


def test_a_run_too_short_for_a_sample_says_so() -> None:
    monitor = scripted_run([])

    assert monitor.statistics().samples == 0
    assert monitor.summary() == (
        "Load generator saturation not measured: no sample was taken"
    )


# --- wiring to Locust ------------------------------------------------------


@pytest.fixture
def local_environment() -> Iterator[Callable[..., Environment]]:
    """Make local runners' environments, on their own events; quit them after.

    The tests fire Locust's global events, where the module's listeners are.
    """
    environments: list[Environment] = []

    def make(*args: str) -> Environment:
        environment = Environment(events=Events())
        parser = get_parser(default_config_files=[])
        environment.parsed_options = parser.parse_args(list(args), env_vars={})
        environment.create_local_runner()
        environments.append(environment)
        return environment

    yield make
    for environment in environments:
        environment.runner.quit()


def summaries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == LOGGER and "Load generator" in record.getMessage()
    ]


def test_a_test_run_has_a_monitor_and_its_stop_logs_the_summary_once(
    caplog: pytest.LogCaptureFixture, local_environment: Callable[..., Environment]
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    environment = local_environment()
    assert current_monitor(environment) is None

    locust.events.test_start.fire(environment=environment)
    monitor = current_monitor(environment)
    assert monitor is not None and monitor.is_running

    locust.events.test_stop.fire(environment=environment)
    locust.events.quitting.fire(environment=environment)

    assert not monitor.is_running
    [record] = summaries(caplog)
    assert record.getMessage() == monitor.summary()
    assert record.levelno == logging.INFO


def test_quitting_without_a_stop_logs_the_summary(
    caplog: pytest.LogCaptureFixture, local_environment: Callable[..., Environment]
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    environment = local_environment()

    locust.events.test_start.fire(environment=environment)
    locust.events.quitting.fire(environment=environment)
    locust.events.test_stop.fire(environment=environment)

    monitor = current_monitor(environment)
    assert monitor is not None and not monitor.is_running
    assert [record.getMessage() for record in summaries(caplog)] == [monitor.summary()]


def test_a_stop_and_a_quit_at_once_log_one_summary(
    caplog: pytest.LogCaptureFixture, local_environment: Callable[..., Environment]
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    environment = local_environment()
    locust.events.test_start.fire(environment=environment)

    # The first stop yields to the hub while its greenlet dies; the second runs.
    gevent.joinall(
        [
            gevent.spawn(hook.fire, environment=environment)
            for hook in (locust.events.test_stop, locust.events.quitting)
        ],
        raise_error=True,
    )

    assert len(summaries(caplog)) == 1


def test_each_test_run_gets_its_own_monitor_and_summary(
    caplog: pytest.LogCaptureFixture, local_environment: Callable[..., Environment]
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    environment = local_environment()
    monitors = []

    for _ in range(2):
        locust.events.test_start.fire(environment=environment)
        monitors.append(current_monitor(environment))
        locust.events.test_stop.fire(environment=environment)

    assert monitors[0] is not monitors[1]
    assert len(summaries(caplog)) == 2


def test_the_lag_option_sets_the_monitors_threshold(
    local_environment: Callable[..., Environment],
) -> None:
    environment = local_environment("--saturation-lag-ms", "250")

    locust.events.test_start.fire(environment=environment)
    monitor = current_monitor(environment)
    assert monitor is not None
    wait_for_sample(monitor)
    locust.events.test_stop.fire(environment=environment)

    assert monitor.lag_threshold == 0.25
    assert "(limit 250 ms)" in monitor.summary()


def test_a_lag_limit_from_the_web_form_that_is_not_positive_falls_back_to_100_ms(
    caplog: pytest.LogCaptureFixture, local_environment: Callable[..., Environment]
) -> None:
    environment = local_environment()
    # The web UI's start form converts to the default's type, and no further.
    environment.parsed_options.saturation_lag_ms = -5.0

    locust.events.test_start.fire(environment=environment)
    monitor = current_monitor(environment)
    locust.events.test_stop.fire(environment=environment)

    assert monitor is not None and monitor.lag_threshold == 0.1
    assert warnings_in(caplog.records) == [
        "--saturation-lag-ms: '-5.0' is not a positive number; using 100 ms instead"
    ]


def test_a_master_runs_no_monitor() -> None:
    port = free_port()
    environment = Environment(events=Events())
    environment.create_master_runner("127.0.0.1", port)
    try:
        locust.events.test_start.fire(environment=environment)
        assert current_monitor(environment) is None
    finally:
        environment.runner.quit()


def test_importing_the_module_again_registers_its_listeners_once() -> None:
    importlib.import_module("locust_browser._saturation")
    importlib.import_module("locust_browser._saturation")

    for hook in (locust.events.test_start, locust.events.test_stop):
        ours = [
            handler
            for handler in hook._handlers
            if getattr(handler, "__module__", None) == LOGGER
        ]
        assert len(ours) == 1


def test_lag_option_defaults_to_100_ms_and_comes_from_the_environment() -> None:
    parser = get_parser(default_config_files=[])

    assert parser.parse_args([], env_vars={}).saturation_lag_ms == 100
    options = parser.parse_args([], env_vars={ENV_LAG_MS: "40"})
    assert options.saturation_lag_ms == 40


@pytest.mark.parametrize("value", ["0", "-5", "fast", "nan"])
def test_lag_option_rejects_what_is_not_a_positive_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        get_parser(default_config_files=[]).parse_args(["--saturation-lag-ms", value])
    assert "--saturation-lag-ms" in capsys.readouterr().err


# --- the locust command ----------------------------------------------------


def run_locust(user: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run locust headless for 3 s with one *user*; return what it printed."""
    command = [LOCUST, "-f", str(LOCUSTFILE), "--headless", "-u", "1", "-r", "1"]
    command += ["-t", "3s", "--loglevel", "INFO", *args, user]
    clean = {key: value for key, value in os.environ.items() if "LOCUST" not in key}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=clean
    )


def our_lines(output: str, level: str) -> list[str]:
    marker = f"/{level}/{LOGGER}: "
    return [line.split(marker, 1)[1] for line in output.splitlines() if marker in line]


@pytest.mark.e2e
def test_a_stalling_user_is_warned_about_and_summed_up_before_the_stats() -> None:
    done = run_locust("Staller")

    assert done.returncode == 0, done.stderr[-3000:]
    [warning, summary] = our_lines(done.stderr, "WARNING")
    assert re.match(r"Load generator saturated: the event loop woke up to", warning)
    lag = re.search(r"woke up to (\d+) ms late", warning)
    assert lag is not None and int(lag[1]) >= 200
    saturated = re.match(r"Load generator saturated for (\S+) s of (\S+) s", summary)
    assert saturated is not None, summary
    assert float(saturated[1]) >= 0.6  # At least two of the 0.3 s stalls.
    assert re.search(r"worst event loop lag (\d{3}) ms \(limit 100 ms\)", summary)

    # The summary comes as the run ends, before Locust's own end-of-run output.
    lines = done.stderr.splitlines()
    at = {
        text: next(i for i, line in enumerate(lines) if text in line)
        for text in ("--run-time limit reached", summary, "Shutting down")
    }
    assert at["--run-time limit reached"] < at[summary] < at["Shutting down"]
    assert our_lines(done.stderr, "INFO") == []


@pytest.mark.e2e
def test_an_idle_user_is_summed_up_as_not_saturated() -> None:
    done = run_locust("Idler")

    assert done.returncode == 0, done.stderr[-3000:]
    assert our_lines(done.stderr, "WARNING") == []
    [summary] = our_lines(done.stderr, "INFO")
    assert summary.startswith("Load generator not saturated: worst event loop lag ")
    assert "(limit 100 ms)" in summary


@pytest.mark.e2e
def test_with_workers_only_the_worker_monitors() -> None:
    done = run_locust("Staller", "--processes", "1")

    assert done.returncode == 0, done.stderr[-3000:]
    lines = our_lines(done.stderr, "INFO") + our_lines(done.stderr, "WARNING")
    ends = [line for line in lines if not line.startswith("Load generator saturated:")]
    # The worker stalled; a master's monitor would add a calm summary.
    assert len(ends) == 1
    assert ends[0].startswith("Load generator saturated for ")
