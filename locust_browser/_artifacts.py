"""Screenshots, and traces when asked, of the pages whose waits or steps fail.

Design note: a failed row says what failed; a picture of the page says why
more often than not. When a WAIT or STEP fails, the user's page is captured
into the artifacts directory under a name made of the row and the time, and
the row's error names the file. A failure storm must not fill the disk, so a
run keeps at most ``--max-artifacts`` captures; past that, failures are
reported without one, and one warning says so. With ``--trace-on-failure``
each context records a Playwright trace in chunks, and a failure saves the
chunk since the previous one beside the screenshot.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError

__all__ = ["ArtifactStore", "capture", "configure", "current_store"]

logger = logging.getLogger(__name__)

CAPTURE_TIMEOUT = 10.0
"""Seconds a screenshot or trace gets before the failure goes on without it."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ArtifactStore:
    """Hand out at most *limit* artifact paths in *directory*.

    Args:
        directory: Where the files go; created on first use.
        limit: How many failures of a run get artifacts.
        trace: Whether contexts record a trace, saved on failure.
    """

    def __init__(self, directory: Path, limit: int, *, trace: bool = False):
        self.directory = directory
        self.limit = limit
        self.trace = trace
        self.count = 0

    def reserve(self, kind: str, name: str) -> Path | None:
        """Return a fresh path without suffix for one failure, or None."""
        if self.count >= self.limit:
            if self.count == self.limit:
                logger.warning(
                    "%d failures captured in %s: later failures are reported "
                    "without screenshots (raise --max-artifacts for more)",
                    self.limit,
                    self.directory,
                )
                self.count += 1
            return None
        self.count += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime())
        slug = _UNSAFE.sub("_", name).strip("_")[:80] or "row"
        return self.directory / f"{kind}-{slug}-{stamp}-{self.count}"


_store: ArtifactStore | None = None


def configure(directory: str | None, limit: int, *, trace: bool) -> None:
    """Set this process's store; an empty *directory* or a 0 limit turns it off."""
    global _store
    if not directory or limit <= 0:
        _store = None
    else:
        _store = ArtifactStore(Path(directory), limit, trace=trace)


def current_store() -> ArtifactStore | None:
    """Return this process's store, if artifacts are on."""
    return _store


async def start_tracing(context: Any) -> None:
    """Start a context's trace when failures should save one."""
    if _store is not None and _store.trace:
        await context.tracing.start(screenshots=True, snapshots=True)


async def capture(page: Any, kind: str, name: str) -> str | None:
    """Save a screenshot of *page* (and the trace chunk) for a failed row.

    Returns:
        The screenshot's path, or None when artifacts are off, the run's
        limit is reached, or the page cannot be captured (closed, crashed).
    """
    store = _store
    base = store.reserve(kind, name) if store is not None else None
    if store is None or base is None:
        return None
    screenshot = base.with_suffix(".png")
    try:
        await asyncio.wait_for(page.screenshot(path=str(screenshot)), CAPTURE_TIMEOUT)
        if store.trace:
            tracing = page.context.tracing
            await asyncio.wait_for(
                tracing.stop_chunk(path=str(base.with_suffix(".zip"))),
                CAPTURE_TIMEOUT,
            )
            await tracing.start_chunk()
    except (PlaywrightError, TimeoutError) as error:
        logger.debug("No artifact for %s %s: %s", kind, name, error)
        return str(screenshot) if screenshot.exists() else None
    return str(screenshot)
