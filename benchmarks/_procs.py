"""Sample a process tree from /proc: CPU seconds by kind and peak memory.

Design note: the benchmarks run their subject as a child process and watch it
from outside, so that what is measured pays nothing for being measured. The
tree is walked afresh at every sample, since browsers start renderers as they
go; a process that exits between samples keeps the CPU time it last showed.
Memory is PSS, which splits shared pages among the processes sharing them, so
that the sum over a tree of Chromium processes does not count the shared
libraries once per renderer.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TreeUsage", "cpu_seconds", "descendants", "pss_kib", "watch"]

TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_EVERY = 0.5


@dataclass
class TreeUsage:
    """What a process tree used while it ran."""

    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds (user and system) by kind: python, driver or browser."""

    peak_pss_kib: int = 0
    """The largest sum of PSS over the tree at any one sample, in KiB."""


def watch(process: subprocess.Popen[str], *, memory: bool = False) -> TreeUsage:
    """Sample *process* and its descendants until it exits.

    Args:
        process: The root of the tree.
        memory: Also sum PSS over the tree at each sample and keep the peak.

    Returns:
        The CPU seconds by kind, and the peak PSS if *memory* was asked for.
    """
    usage = TreeUsage()
    last: dict[int, tuple[str, float]] = {}
    while process.poll() is None:
        pids = descendants(process.pid) | {process.pid}
        for pid in pids:
            seen = cpu_seconds(pid)
            if seen is not None:
                last[pid] = seen
        if memory:
            total = sum(pss_kib(pid) for pid in pids)
            usage.peak_pss_kib = max(usage.peak_pss_kib, total)
        time.sleep(SAMPLE_EVERY)

    for kind, seconds in last.values():
        usage.cpu[kind] = usage.cpu.get(kind, 0.0) + seconds
    return usage


def descendants(root: int) -> set[int]:
    """Return the ids of every process below *root*, not *root* itself."""
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
    """Return the kind of process *pid* and its CPU seconds, or ``None``."""
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


def pss_kib(pid: int) -> int:
    """Return the PSS of process *pid* in KiB, or 0 if it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0
