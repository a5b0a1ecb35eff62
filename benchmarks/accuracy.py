"""Compare WAIT and network rows with the latency the demo shop really added.

Usage::

    python benchmarks/accuracy.py [--latency-ms 100] [--users 5 60] [--seconds 40]

For each user count it starts the demo shop with a fixed added latency on
every API endpoint, runs ``locustfiles/quickstart.py`` headless against it,
and prints each API row's p50 and p95 beside the configured latency, with
the generator's saturation summary. A row far above the latency at a heavy
load while the generator says it was saturated is the generator's error, not
the server's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locust_browser import demo  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--users", type=int, nargs="+", default=[5, 60])
    parser.add_argument("--seconds", type=int, default=40)
    args = parser.parse_args()

    for users in args.users:
        rows, log = run(users, args.seconds, args.latency_ms)
        print(f"\n{users} users, {args.seconds}s, {args.latency_ms:g} ms added")
        print(f"  {'row':28} {'count':>6} {'p50':>6} {'p95':>6}  (ms)")
        for row in rows:
            if row["method"] == "WAIT" or row["name"].startswith("/api/"):
                name = f"{row['method']} {row['name']}"
                p50 = percentile(row, 0.5)
                p95 = percentile(row, 0.95)
                print(f"  {name:28} {row['num_requests']:>6} {p50:>6} {p95:>6}")
        for line in log.splitlines():
            if "Load generator" in line and "saturat" in line:
                print("  " + line.split(": ", 1)[1])
    return 0


def run(users: int, seconds: int, latency_ms: float) -> tuple[list[dict], str]:
    with (
        demo.start(latency_ms=latency_ms) as server,
        tempfile.TemporaryDirectory() as scratch,
    ):
        report = Path(scratch) / "stats"
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("locust")),
                *("-f", str(ROOT / "locustfiles" / "quickstart.py")),
                *("--headless", "--only-summary", "-H", server.url),
                *("-u", str(users), "-r", str(max(1, users // 5))),
                *("-t", f"{seconds}s", "--json-file", str(report)),
            ],
            capture_output=True,
            text=True,
            cwd=scratch,
        )
        return json.loads(report.with_suffix(".json").read_text()), done.stderr


def percentile(row: dict, share: float) -> int:
    """Return Locust's percentile of a --json-file row, in ms."""
    times = sorted((int(ms), count) for ms, count in row["response_times"].items())
    wanted, seen = share * row["num_requests"], 0
    for ms, count in times:
        seen += count
        if seen >= wanted:
            return ms
    return times[-1][0] if times else 0


if __name__ == "__main__":
    sys.exit(main())
