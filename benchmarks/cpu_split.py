"""Run a locustfile headless and split the CPU it used by process kind.

Usage::

    python benchmarks/cpu_split.py [--users 100] [--spawn-rate 20] [--seconds 60]
        [--locustfile locustfiles/quickstart.py] [LOCUST OPTION...]

It starts the demo server in a process of its own, runs ``locust --headless``
against it, samples the CPU time of every process under Locust from /proc
while the run goes on, and prints the rows' throughput with the CPU seconds
spent by Python (Locust and the users), Playwright's driver (node) and the
browser (every Chromium process), each as a share of the total, and the CPU
time per WAIT row. Options it does not know go to ``locust``, e.g.
``--block-resources image,font``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._procs import watch  # noqa: E402
from locust_browser import demo  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--locustfile", default=str(ROOT / "locustfiles/quickstart.py"))
    args, locust_options = parser.parse_known_args()

    with demo.start() as server, tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "stats"
        command = [
            str(Path(sys.executable).with_name("locust")),
            *("-f", args.locustfile, "--headless", "--only-summary"),
            *("-u", str(args.users), "-r", str(args.spawn_rate)),
            *("-t", f"{args.seconds}s", "-H", server.url),
            *("--json-file", str(report)),
            *locust_options,
        ]
        started = time.perf_counter()
        locust = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        cpu = watch(locust).cpu
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
    print(f"CPU per WAIT row: {1000 * total / max(requests, 1):.1f} ms")
    for line in log.splitlines():
        if "locust-browser closed the browser" in line:
            print(line.split(": ", 1)[1])
    if locust.returncode != 0:
        print(log[-2000:], file=sys.stderr)
    return locust.returncode


if __name__ == "__main__":
    sys.exit(main())
