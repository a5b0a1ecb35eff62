"""Run a locustfile headless and split the CPU it used by process kind.

Usage::

    python benchmarks/cpu_split.py [--users 100] [--spawn-rate 20] [--seconds 60]
        [--locustfile locustfiles/quickstart.py]

It starts the demo server in a process of its own, runs ``locust --headless``
against it, samples the CPU time of every process under Locust from /proc
while the run goes on, and prints the rows' throughput with the CPU seconds
spent by Python (Locust and the users), Playwright's driver (node) and the
browser (every Chromium process), each as a share of the total.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locust_browser import demo  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_EVERY = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--locustfile", default=str(ROOT / "locustfiles/quickstart.py"))
    args = parser.parse_args()

    with demo.start() as server, tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "stats"
        command = [
            str(Path(sys.executable).with_name("locust")),
            *("-f", args.locustfile, "--headless", "--only-summary"),
            *("-u", str(args.users), "-r", str(args.spawn_rate)),
            *("-t", f"{args.seconds}s", "-H", server.url),
            *("--json-file", str(report)),
        ]
        started = time.perf_counter()
        locust = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        cpu = sample_until_exit(locust)
        elapsed = time.perf_counter() - started
        log = locust.stderr.read() if locust.stderr else ""
        rows = json.loads(report.with_suffix(".json").read_text())

    waits = [row for row in rows if row["method"] == "WAIT"]
    requests = sum(row["num_requests"] for row in waits)
    failures = sum(row["num_failures"] for row in waits)
    print(f"users {args.users}, {args.seconds}s run, {elapsed:.1f}s wall in all")
    print(f"WAIT rows: {requests} ({failures} failed), {requests / args.seconds:.1f}/s")
    total = sum(cpu.values()) or 1.0
    for kind, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"  {kind:8} {seconds:8.1f} CPU s  {100 * seconds / total:5.1f}%")
    print(f"  {'total':8} {total:8.1f} CPU s  ({total / elapsed:.2f} cores on average)")
    for line in log.splitlines():
        if "locust-browser closed the browser" in line:
            print(line.split(": ", 1)[1])
    if locust.returncode != 0:
        print(log[-2000:], file=sys.stderr)
    return locust.returncode


def sample_until_exit(process: subprocess.Popen[str]) -> dict[str, float]:
    """Sample CPU seconds of *process* and its descendants until it exits."""
    last: dict[int, tuple[str, float]] = {}
    while process.poll() is None:
        for pid in descendants(process.pid) | {process.pid}:
            seen = cpu_seconds(pid)
            if seen is not None:
                last[pid] = seen
        time.sleep(SAMPLE_EVERY)
    totals: dict[str, float] = {}
    for kind, seconds in last.values():
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> tuple[str, float] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # The executable, not the command line: Locust retitles its process.
        name = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    seconds = (int(fields[11]) + int(fields[12])) / TICKS
    if name.startswith("python"):
        return "python", seconds
    if "node" in name:
        return "driver", seconds
    return "browser", seconds


if __name__ == "__main__":
    sys.exit(main())
