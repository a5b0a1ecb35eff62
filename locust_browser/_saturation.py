"""Saturation monitor: warn when the load generator, not the server, is slow.

Design note: a generator that runs out of CPU queues its own work, and every
timing it takes in the meantime adds that queueing to the server's latency.
A :class:`SaturationMonitor` runs one greenlet that sleeps for a fixed period
with ``gevent.sleep``; how much later than scheduled the hub wakes it is the
*loop lag*, the time any ready greenlet waited for its turn. Samples are
judged in windows of about a second: a window is *saturated* when one of its
samples lagged more than the lag threshold, or when the process used more
than the CPU threshold of one core over the window. Saturated seconds are the
summed lengths of saturated windows, so they are resolved to about a second
and are never shorter than the stalls that caused them.

Thresholds: at a 100 ms period an idle hub wakes within a millisecond or two,
and a busy but healthy one within a few tens (a garbage collection, a large
message parsed in one go). A wake more than 100 ms late means a response that
arrived meanwhile could wait as long before its greenlet timed it, already a
large share of a typical response time; a lower limit would report ordinary
jitter, a higher one would let errors of a fifth of a second pass. The hub
runs on one core, so CPU is a share of one core; above 0.9 over a second
there is no headroom left for a burst, and lag follows. Locust warns at the
same 90 % but averages over 10 s, which hides bursts; a second is ten samples,
enough that one scheduling hiccup does not decide the CPU verdict. A window
shorter than half the nominal one (the tail at ``stop()``) is judged by lag
alone, and left out of the CPU figures: its CPU share is too noisy.

The CPU is this Python process's only. The browsers and Playwright's driver
are other processes; when they starve the machine, it shows here as lag.

Module import registers four listeners on Locust's global events: the
``--saturation-lag-ms`` option; a monitor started at ``test_start`` on local
runners and workers (a master runs no users); and the run's summary, logged
when the run stops (``test_stop``), or at ``quitting`` when Locust quits
before stopping the run (Ctrl-C in a headless run). Either way a headless
run logs it just before Locust's final statistics; a web UI run logs one
summary per test run. :func:`current_monitor` gives others, such as a report,
the latest run's monitor and so its summary.
"""

from __future__ import annotations

import locust  # isort: skip

import argparse
import logging
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gevent
from locust.runners import MasterRunner

if TYPE_CHECKING:
    from locust.env import Environment

__all__ = [
    "CPU_THRESHOLD",
    "ENV_LAG_MS",
    "INTERVAL",
    "LAG_THRESHOLD",
    "WARN_EVERY",
    "WINDOW",
    "SaturationMonitor",
    "SaturationStatistics",
    "current_monitor",
]

logger = logging.getLogger(__name__)

INTERVAL = 0.1
"""Seconds the monitor's greenlet sleeps between samples."""

LAG_THRESHOLD = 0.1
"""Seconds of loop lag beyond which a window is saturated."""

CPU_THRESHOLD = 0.9
"""Share of one CPU core beyond which a window is saturated."""

WINDOW = 1.0
"""Seconds over which samples and CPU are judged together."""

WARN_EVERY = 60.0
"""Seconds between two saturation warnings, at the least."""

ENV_LAG_MS = "LOCUST_BROWSER_SATURATION_LAG_MS"
"""Environment variable that sets ``--saturation-lag-ms``."""

_DISTRUST = (
    "response times and request rates recorded {when} include the generator's "
    "own queueing: distrust them"
)


@dataclass(frozen=True)
class SaturationStatistics:
    """What a :class:`SaturationMonitor` has seen so far.

    Attributes:
        samples: Wake-ups measured.
        monitored_seconds: Seconds covered by judged windows.
        saturated_seconds: Seconds covered by windows judged saturated.
        worst_lag_ms: The largest loop lag of any sample, in milliseconds.
        mean_cpu_share: Process CPU as a share of one core (above 1 when
            several threads were busy), over the windows long enough to judge
            their CPU: all but a short tail.
        peak_cpu_share: The largest CPU share of those windows.
        is_saturated: Whether the latest judged window was saturated.
    """

    samples: int
    monitored_seconds: float
    saturated_seconds: float
    worst_lag_ms: float
    mean_cpu_share: float
    peak_cpu_share: float
    is_saturated: bool


class SaturationMonitor:
    """Measure loop lag and process CPU in a greenlet; warn when saturated.

    Greenlet-only: create, start and stop a monitor from greenlets of the hub
    it measures. A monitor runs once: ``start()``, then ``stop()``.

    Args:
        interval: Seconds the greenlet sleeps between samples.
        lag_threshold: Seconds of lag beyond which a window is saturated.
        cpu_threshold: Share of one core beyond which a window is saturated.
        warn_every: Seconds between two warnings, at the least.
        clock: Wall clock in seconds; read at ``start()``, at each wake-up
            and at ``stop()``.
        cpu_clock: Process CPU time in seconds; read at ``start()`` and
            whenever a window is judged.
        window: Seconds of samples judged together; at least ``interval``.

    Raises:
        ValueError: A duration or threshold is not a positive number, or the
            window is shorter than the interval.
    """

    def __init__(
        self,
        *,
        interval: float = INTERVAL,
        lag_threshold: float = LAG_THRESHOLD,
        cpu_threshold: float = CPU_THRESHOLD,
        warn_every: float = WARN_EVERY,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.process_time,
        window: float = WINDOW,
    ) -> None:
        _check_settings(
            interval=interval,
            lag_threshold=lag_threshold,
            cpu_threshold=cpu_threshold,
            window=window,
            warn_every=warn_every,
        )
        self.interval = interval
        self.lag_threshold = lag_threshold
        self.cpu_threshold = cpu_threshold
        self.warn_every = warn_every
        self.window = window
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._greenlet: gevent.Greenlet | None = None
        self._stopped = False
        self._last_warning: float | None = None

        self._samples = 0
        self._worst_lag = 0.0
        self._monitored = 0.0
        self._saturated = 0.0
        self._cpu = 0.0
        self._cpu_seconds = 0.0
        self._peak_cpu_share = 0.0
        self._is_saturated = False

        # The window being filled, and when the sleeping greenlet is due.
        self._window_start = 0.0
        self._window_cpu = 0.0
        self._window_lag = 0.0
        self._due = 0.0

    @property
    def is_running(self) -> bool:
        """Whether the monitor was started and not yet stopped."""
        return self._greenlet is not None and not self._stopped

    def start(self) -> None:
        """Spawn the measuring greenlet; it runs until :meth:`stop`.

        Raises:
            RuntimeError: The monitor was started before.
        """
        if self._greenlet is not None:
            raise RuntimeError("this saturation monitor was started before")
        now = self._clock()
        self._window_start = now
        self._window_cpu = self._cpu_clock()
        self._due = now + self.interval
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        """Kill the greenlet, wait for it to end, and judge the last window.

        A wake-up overdue at this moment counts as a sample of its lag so far.
        Does nothing when the monitor is not running.
        """
        if not self.is_running:
            return
        assert self._greenlet is not None
        # Stopped first: a second stop() during the kill must not judge again.
        self._stopped = True
        self._greenlet.kill(block=True)

        now = self._clock()
        if now > self._due:
            self._sample(now - self._due)
        if now > self._window_start:
            self._judge_window(now, final=True)

    def statistics(self) -> SaturationStatistics:
        """Return what the monitor has seen so far.

        Samples of the window being filled count in ``samples`` and
        ``worst_lag_ms`` only, until the window is judged.
        """
        cpu_seconds = self._cpu_seconds
        return SaturationStatistics(
            samples=self._samples,
            monitored_seconds=self._monitored,
            saturated_seconds=self._saturated,
            worst_lag_ms=self._worst_lag * 1000,
            mean_cpu_share=self._cpu / cpu_seconds if cpu_seconds > 0 else 0.0,
            peak_cpu_share=self._peak_cpu_share,
            is_saturated=self._is_saturated,
        )

    def summary(self) -> str:
        """Say for how long the generator was saturated, and the worst lag.

        Returns:
            One line without a trailing newline, e.g. ``Load generator
            saturated for 2.0 s of 4.1 s (49%): ...`` or ``Load generator
            not saturated: ...``.
        """
        stats = self.statistics()
        if stats.samples == 0:
            return "Load generator saturation not measured: no sample was taken"
        measured = (
            f"worst event loop lag {stats.worst_lag_ms:.0f} ms "
            f"(limit {self.lag_threshold * 1000:.0f} ms), "
            f"CPU {stats.mean_cpu_share:.0%} of one core on average and "
            f"{stats.peak_cpu_share:.0%} at peak (limit {self.cpu_threshold:.0%})"
        )
        if stats.saturated_seconds <= 0:
            return (
                f"Load generator not saturated: {measured}, "
                f"over {stats.monitored_seconds:.1f} s"
            )
        share = stats.saturated_seconds / stats.monitored_seconds
        return (
            f"Load generator saturated for {stats.saturated_seconds:.1f} s of "
            f"{stats.monitored_seconds:.1f} s ({share:.0%}): {measured}; "
            + _DISTRUST.format(when="in those periods")
        )

    def _run(self) -> None:
        # Sleeping one period is the measurement: the hub wakes us when it can.
        while True:
            gevent.sleep(self.interval)
            self._wake(self._clock())

    def _wake(self, now: float) -> None:
        self._sample(max(0.0, now - self._due))
        self._due = now + self.interval
        if now - self._window_start >= self.window:
            self._judge_window(now, final=False)

    def _sample(self, lag: float) -> None:
        self._samples += 1
        self._worst_lag = max(self._worst_lag, lag)
        self._window_lag = max(self._window_lag, lag)

    def _judge_window(self, now: float, *, final: bool) -> None:
        seconds = now - self._window_start
        cpu_now = self._cpu_clock()
        cpu = cpu_now - self._window_cpu
        share = cpu / seconds

        # A short tail's CPU share is noise: judge it by lag alone.
        is_judged_on_cpu = seconds >= self.window / 2
        lag = self._window_lag
        is_saturated = lag > self.lag_threshold or (
            is_judged_on_cpu and share > self.cpu_threshold
        )

        self._monitored += seconds
        if is_judged_on_cpu:
            self._cpu += cpu
            self._cpu_seconds += seconds
            self._peak_cpu_share = max(self._peak_cpu_share, share)
        if is_saturated:
            self._saturated += seconds
        self._is_saturated = is_saturated
        self._window_start, self._window_cpu, self._window_lag = now, cpu_now, 0.0

        # The summary at the end covers the tail; warn only while running.
        if is_saturated and not final and self._is_warning_due(now):
            self._last_warning = now
            self._warn(lag, share, seconds)

    def _is_warning_due(self, now: float) -> bool:
        last = self._last_warning
        return last is None or now - last >= self.warn_every

    def _warn(self, lag: float, share: float, seconds: float) -> None:
        logger.warning(
            "Load generator saturated: the event loop woke up to %.0f ms late "
            "(limit %.0f ms) and the process used %.0f%% of one CPU core "
            "(limit %.0f%%) in the last %.1f s; %s. Not repeated for %.0f s; "
            "the end of the run says for how long",
            lag * 1000,
            self.lag_threshold * 1000,
            share * 100,
            self.cpu_threshold * 100,
            seconds,
            _DISTRUST.format(when="while this lasts"),
            self.warn_every,
        )


_monitors: weakref.WeakKeyDictionary[Environment, SaturationMonitor] = (
    weakref.WeakKeyDictionary()
)


def current_monitor(environment: Environment) -> SaturationMonitor | None:
    """Return the monitor of the environment's running or latest test run.

    Args:
        environment: The Locust environment.

    Returns:
        The monitor, or None before the first run and on a master, which
        runs no users. Once the run stopped, :meth:`SaturationMonitor.summary`
        is its final summary.
    """
    return _monitors.get(environment)


def _check_settings(
    *,
    interval: float,
    lag_threshold: float,
    cpu_threshold: float,
    window: float,
    warn_every: float,
) -> None:
    positive = {
        "interval": interval,
        "lag_threshold": lag_threshold,
        "cpu_threshold": cpu_threshold,
        "window": window,
    }
    for name, value in positive.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, not {value!r}")
    if window < interval:
        raise ValueError(f"window {window!r} is shorter than interval {interval!r}")
    if not warn_every >= 0:
        raise ValueError(f"warn_every must not be negative, not {warn_every!r}")


def _lag_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _configured_lag(environment: Environment) -> float:
    default = LAG_THRESHOLD * 1000
    options = environment.parsed_options
    value = getattr(options, "saturation_lag_ms", default) if options else default
    try:
        return _lag_ms(str(value)) / 1000
    except argparse.ArgumentTypeError as error:
        # Only the web UI's start form can bring a value the parser never saw.
        logger.warning("--saturation-lag-ms: %s; using %.0f ms instead", error, default)
        return LAG_THRESHOLD


def _add_option(parser: Any, **_kwargs: Any) -> None:
    group = parser.add_argument_group("locust-browser saturation monitor")
    group.add_argument(
        "--saturation-lag-ms",
        type=_lag_ms,
        default=LAG_THRESHOLD * 1000,
        metavar="MS",
        env_var=ENV_LAG_MS,
        help="Warn that the load generator is saturated, and its response "
        "times untrustworthy, when its event loop wakes a periodic greenlet "
        "more than MS milliseconds late (default %(default).0f)",
    )


def _start_monitor(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return
    running = _monitors.get(environment)
    if running is not None and running.is_running:
        return
    monitor = SaturationMonitor(lag_threshold=_configured_lag(environment))
    _monitors[environment] = monitor
    monitor.start()
    logger.debug(
        "Saturation monitor started: lag limit %.0f ms, CPU limit %.0f%%",
        monitor.lag_threshold * 1000,
        monitor.cpu_threshold * 100,
    )


def _stop_monitor(environment: Environment, **_kwargs: Any) -> None:
    monitor = _monitors.get(environment)
    if monitor is None or not monitor.is_running:
        return
    monitor.stop()
    was_saturated = monitor.statistics().saturated_seconds > 0
    level = logging.WARNING if was_saturated else logging.INFO
    logger.log(level, "%s", monitor.summary())


locust.events.init_command_line_parser.add_listener(_add_option)
locust.events.test_start.add_listener(_start_monitor)
locust.events.test_stop.add_listener(_stop_monitor)
locust.events.quitting.add_listener(_stop_monitor)
