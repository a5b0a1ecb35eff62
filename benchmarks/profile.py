"""Profile the locust process of a browser run: where its Python CPU goes.

Usage::

    python benchmarks/profile.py [--users 40] [--seconds 40] [--sample 20]
        [--latency-ms 50] [--top 15]

Runs ``locust --headless`` on ``locustfile_click.py`` against the demo
server (the throughput benchmark's scenario: click, wait for the JSON
response, no think time), waits until every user is spawned, then samples
the locust process with py-spy (``pip install py-spy``, a benchmark-only
tool) for ``--sample`` seconds. It prints, over the samples in which the
process was on a CPU:

- the share spent in each of this package's modules, callees included (a
  function of the handler's that calls the matcher counts for the handler);
- the functions that were on top of the stack most often, anywhere.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locust_browser import demo  # noqa: E402

HERE = ROOT / "benchmarks"
SPAWNED = "All users spawned"
SPAWN_TIMEOUT = 120.0
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")
MODULES = (
    "_handler",
    "_matcher",
    "_bridge",
    "_facade",
    "_waits",
    "_network",
    "_vitals",
)
LOOP_RUNNER = "Bridge._run_loop"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--stacks", default="", help="also keep py-spy's collapsed stacks in this file"
    )
    args = parser.parse_args()

    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy is not installed: run .venv/bin/pip install py-spy")
        return 1
    if args.sample >= args.seconds:
        parser.error("--sample must be shorter than --seconds")

    with (
        demo.start(latency_ms=args.latency_ms) as server,
        tempfile.TemporaryDirectory() as scratch,
    ):
        stacks = Path(scratch) / "stacks.txt"
        log_path = Path(scratch) / "locust.log"
        with open(log_path, "w") as log:
            locust = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("locust")),
                    *("-f", str(HERE / "locustfile_click.py"), "--headless"),
                    *("-u", str(args.users), "-r", str(args.users)),
                    *("-t", f"{args.seconds}s", "-H", server.url, "--only-summary"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=scratch,
            )
            try:
                _wait_for_spawn(log_path, locust)
                subprocess.run(
                    [
                        py_spy,
                        "record",
                        *("--pid", str(locust.pid), "--duration", str(args.sample)),
                        *("--rate", "200", "--format", "raw"),
                        *("--output", str(stacks), "--nonblocking"),
                    ],
                    check=True,
                    capture_output=True,
                )
            finally:
                locust.wait(timeout=args.seconds + 120)
        if args.stacks:
            shutil.copyfile(stacks, args.stacks)
        report(stacks.read_text(), args.top)
    return 0


def _wait_for_spawn(log_path: Path, locust: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SPAWN_TIMEOUT
    while SPAWNED not in log_path.read_text():
        if locust.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"locust did not spawn its users:\n{log_path.read_text()}")
        time.sleep(0.2)


def report(collapsed: str, top: int) -> None:
    """Print the module shares and the busiest functions of *collapsed* stacks."""
    total = 0
    inclusive: collections.Counter[str] = collections.Counter()
    library: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [FRAME.match(frame) for frame in stack.split(";")]
        # The loop's runner holds every coroutine of Playwright's; it is the
        # event loop, not the bridge's own work.
        seen = {
            Path(match["file"]).stem
            for match in frames
            if match
            and "locust_browser" in match["file"]
            and match["function"] != LOOP_RUNNER
        }
        for module in seen:
            inclusive[module] += count
        last = frames[-1]
        if last:
            library[_library(last["file"])] += count
            own[f"{last['function']} ({_short(last['file'])})"] += count

    def share(count: int) -> str:
        return f"{100 * count / max(total, 1):6.2f}%"

    print(f"{total} samples with the locust process running or runnable")
    print("\nshare in this package's modules, callees included:")
    for module in MODULES:
        print(f"  {share(inclusive[module])}  {module}")
    print("\nshare by the code on top of the stack:")
    for name, count in library.most_common():
        print(f"  {share(count)}  {name}")
    print(f"\nthe {top} functions most often on top of the stack:")
    for function, count in own.most_common(top):
        print(f"  {share(count)}  {function}")


def _library(path: str) -> str:
    for name in ("locust_browser", "playwright", "gevent", "greenlet", "locust"):
        if f"/{name}/" in path or path.startswith(f"{name}/"):
            return name
    if "asyncio" in path:
        return "asyncio"
    return "other (standard library, pyee, json...)"


def _short(path: str) -> str:
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


if __name__ == "__main__":
    sys.exit(main())
