"""Compare one click scenario under locust-browser, plain Playwright and plugins.

Usage::

    python benchmarks/throughput.py [--users 10 40 100] [--seconds 30]
        [--rounds 2] [--latency-ms 50]

The demo server answers every API call after a fixed latency; each virtual
user opens its ``/lab`` page and, with no think time, clicks ``#fetch`` and
waits for the ``/api/items`` response, again and again. The same scenario
runs three ways, each in a process tree of its own:

- ``locust-browser``: ``locust --headless`` on ``locustfile_click.py``;
- ``plain``: ``plain_playwright.py``, asyncio Playwright, N pages in one
  browser, no Locust at all: the baseline;
- ``plugins``: ``locust --headless`` on ``locustfile_plugins.py``, with
  locust-plugins' PlaywrightUser, when ``locust_plugins`` imports.

Every round runs each user count once each way, the ways in reverse order
every other round, so that a drift in the machine's speed falls on every way
alike. ``--variant`` adds ways: locust-browser with other options, to measure
what a default costs. It prints, per user
count, the iterations per second, the p50 and p95 each way reported against
the latency the server added, the CPU seconds of the whole tree (Python,
driver, browser), and the peak PSS per user, then the ratios to plain
Playwright. All three use the browser executable locust-browser resolves.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._procs import watch  # noqa: E402
from locust_browser import demo, resolve_browser  # noqa: E402

HERE = ROOT / "benchmarks"
RESULT = "{result}"
ENV_SETTING = re.compile(r"[A-Z][A-Z0-9_]*=")
WAYS = ("locust-browser", "plain", "plugins")
LOCUSTFILES = {
    "locust-browser": "locustfile_click.py",
    "plugins": "locustfile_plugins.py",
}


@dataclass
class Tally:
    """What one way of running did at one user count, summed over rounds."""

    rounds: int = 0
    iterations: int = 0
    failures: int = 0
    cpu_seconds: float = 0.0
    python_seconds: float = 0.0
    peak_pss_kib: int = 0
    histogram: dict[int, int] = field(default_factory=dict)
    """Response times in Locust's rounding (ms) to how many were seen."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 40, 100])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="also run locust-browser as NAME, with these extra locust arguments"
        " (and VAR=value ones set in its environment)",
    )
    parser.add_argument(
        "--no-plugins", action="store_true", help="leave locust-plugins' way out"
    )
    args = parser.parse_args()

    ways = list(WAYS)
    variants = dict(_parse_variant(text) for text in args.variant)
    ways[1:1] = variants
    if args.no_plugins:
        ways.remove("plugins")
    elif importlib.util.find_spec("locust_plugins") is None:
        print("note: locust_plugins does not import; skipping the plugins way")
        ways.remove("plugins")
    env = {**os.environ, "LOCUST_BROWSER_EXECUTABLE": resolve_browser().executable}
    tallies = {(users, way): Tally() for users in args.users for way in ways}

    with demo.start(latency_ms=args.latency_ms) as server:
        for round_number in range(1, args.rounds + 1):
            # Every other round runs the ways in reverse (A B B A), so that a
            # machine growing slower or faster over the rounds, or a way that
            # leaves the next one a busier machine, falls on every way alike.
            order = ways if round_number % 2 else ways[::-1]
            for users in args.users:
                for way in list(order):
                    if way not in ways:
                        continue
                    print(f"round {round_number}, {users} users: {way}", flush=True)
                    tally = tallies[users, way]
                    settings, extra = variants.get(way, ({}, []))
                    command = _command(way, users, args.seconds, server.url, extra)
                    if not run(way, command, {**env, **settings}, tally):
                        if way == "plugins":
                            print("note: the plugins way failed; skipping it from now")
                            ways.remove(way)

    for users in args.users:
        report(users, args.seconds, args.latency_ms, ways, tallies)
    return 0


def _parse_variant(text: str) -> tuple[str, tuple[dict[str, str], list[str]]]:
    """Return a variant's name, its environment settings and locust arguments."""
    name, equals, extra = text.partition("=")
    if not equals or not name or name in WAYS:
        raise SystemExit(
            f"--variant {text!r}: write it as NAME=ARGS, with a NAME other than"
            f" {', '.join(WAYS)}, e.g. --variant 'no-rows=--network-rows none'"
        )
    words = shlex.split(extra)
    settings = dict(word.split("=", 1) for word in words if ENV_SETTING.match(word))
    return name, (settings, [word for word in words if not ENV_SETTING.match(word)])


def run(way: str, command: list[str], env: dict[str, str], tally: Tally) -> bool:
    """Run *command* once and add what it did to *tally*; return whether it worked."""
    with tempfile.TemporaryDirectory() as scratch:
        result = Path(scratch) / "result"
        command = [part.replace(RESULT, str(result)) for part in command]
        # To a file, not a pipe: a pipe nobody reads until the end can fill up.
        with open(Path(scratch) / "log", "w+") as log_file:
            process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
                cwd=scratch,
            )
            usage = watch(process, memory=True)
            log_file.seek(0)
            log = log_file.read()
        found = result.with_suffix(".json")
        if process.returncode != 0 or not found.exists():
            print(f"  {way} exited {process.returncode}:\n{log[-1500:]}")
            return False
        counted = _read_result(way, json.loads(found.read_text()), tally)

    tally.rounds += 1
    tally.cpu_seconds += sum(usage.cpu.values())
    tally.python_seconds += usage.cpu.get("python", 0.0)
    tally.peak_pss_kib = max(tally.peak_pss_kib, usage.peak_pss_kib)
    print(f"  {counted} iterations, {sum(usage.cpu.values()):.1f} CPU s")
    return counted > 0


def _command(
    way: str, users: int, seconds: int, url: str, extra: list[str]
) -> list[str]:
    """Return the command line of *way*, with ``RESULT`` for its result's path."""
    if way == "plain":
        return [
            sys.executable,
            str(HERE / "plain_playwright.py"),
            *("--url", url, "--users", str(users), "--seconds", str(seconds)),
            *("--json-file", RESULT + ".json"),
        ]
    locustfile = LOCUSTFILES.get(way, LOCUSTFILES["locust-browser"])
    return [
        str(Path(sys.executable).with_name("locust")),
        *("-f", str(HERE / locustfile), "--headless", "--only-summary"),
        *("-u", str(users), "-r", str(users), "-t", f"{seconds}s", "-H", url),
        *("--json-file", RESULT),
        *extra,
    ]


def _read_result(way: str, data: object, tally: Tally) -> int:
    """Add the iterations and response times of one run to *tally*."""
    if way == "plain":
        assert isinstance(data, dict)
        for ms in data["response_times_ms"]:
            key = locust_rounded(ms)
            tally.histogram[key] = tally.histogram.get(key, 0) + 1
        tally.iterations += data["iterations"]
        return int(data["iterations"])

    assert isinstance(data, list)
    rows = [row for row in data if row["name"] == "click"]
    for row in rows:
        for ms, count in row["response_times"].items():
            key = int(float(ms))
            tally.histogram[key] = tally.histogram.get(key, 0) + count
        tally.iterations += row["num_requests"]
        tally.failures += row["num_failures"]
    return sum(int(row["num_requests"]) for row in rows)


def report(
    users: int,
    seconds: int,
    latency_ms: float,
    ways: list[str],
    tallies: dict[tuple[int, str], Tally],
) -> None:
    """Print one user count's table and its ratios to plain Playwright."""
    print(f"\n{users} users, {seconds} s a run, server latency {latency_ms:g} ms")
    print(
        f"  {'way':15} {'rounds':>6} {'it/s':>7} {'fail':>5} {'p50':>5} {'p95':>5}"
        f" {'CPU s':>7} {'py%':>4} {'CPU ms/it':>9} {'PSS/VU MiB':>10}"
    )
    figures: dict[str, tuple[float, float, float, float]] = {}
    for way in ways:
        tally = tallies[users, way]
        if tally.rounds == 0:
            continue
        rate = tally.iterations / (seconds * tally.rounds)
        cpu = tally.cpu_seconds / tally.rounds
        per_iteration = 1000 * tally.cpu_seconds / max(tally.iterations, 1)
        pss = tally.peak_pss_kib / 1024 / users
        python = 100 * tally.python_seconds / max(tally.cpu_seconds, 1e-9)
        figures[way] = (rate, cpu, per_iteration, pss)
        p50 = percentile(tally.histogram, 0.5)
        p95 = percentile(tally.histogram, 0.95)
        print(
            f"  {way:15} {tally.rounds:>6} {rate:>7.1f} {tally.failures:>5}"
            f" {p50:>5} {p95:>5} {cpu:>7.1f} {python:>4.0f} {per_iteration:>9.1f}"
            f" {pss:>10.1f}"
        )

    base = figures.get("plain")
    for way, (rate, cpu, per_iteration, pss) in figures.items():
        if base is None or way == "plain":
            continue
        print(
            f"  {way} / plain: it/s x{rate / base[0]:.2f}, CPU s x{cpu / base[1]:.2f},"
            f" CPU per it x{per_iteration / base[2]:.2f}, PSS/VU x{pss / base[3]:.2f}"
        )


def percentile(histogram: dict[int, int], share: float) -> int:
    """Return the response time below which *share* of the counts fall, in ms."""
    wanted, seen = share * sum(histogram.values()), 0
    for ms, count in sorted(histogram.items()):
        seen += count
        if seen >= wanted:
            return ms
    return 0


def locust_rounded(ms: float) -> int:
    """Round *ms* as Locust's stats do, so that percentiles compare alike."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    return int(round(ms, -2))


if __name__ == "__main__":
    sys.exit(main())
