"""The demo application that the example locustfiles and the tests run against.

A small shop at ``/`` (a single page over a JSON API, with pictures and a web
font) and a lab page at ``/lab`` for the package's own tests.
``python -m locust_browser.demo --port 8000`` serves it in the foreground
(``--help`` lists the knobs: latency, jitter, error rate, order delay);
:func:`start` runs it in a child process on a free loopback port, and
:func:`serve_when_no_host` does that for a locustfile run without ``-H``.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from locust_browser.demo._knobs import OPTIONS, knobs_from_text

__all__ = ["DemoProcess", "serve_when_no_host", "start"]

logger = logging.getLogger(__name__)

START_TIMEOUT = 30.0
"""Seconds the child process gets to say where it listens."""


class DemoProcess:
    """A demo server running in a child process."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def stop(self, timeout: float = 10.0) -> None:
        """End the child process by its id and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> DemoProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start(
    port: int = 0,
    *,
    latency_ms: float | None = None,
    latency: Mapping[str, float] | None = None,
    jitter_ms: float | None = None,
    error_rate: float | None = None,
    confirm_after: float | None = None,
) -> DemoProcess:
    """Start the demo server in a child process on a loopback port.

    A knob left at ``None`` takes its environment variable's value, if any
    (``DEMO_LATENCY_MS`` and so on), else the server's default.

    Args:
        port: The port; 0 picks a free one.
        latency_ms: Milliseconds added to every response under ``/api/``.
        latency: Milliseconds by API path prefix, instead of ``latency_ms``
            for the paths they prefix, e.g. ``{"/api/checkout": 400}``.
        jitter_ms: Up to this many milliseconds more, uniformly drawn.
        error_rate: The fraction, from 0 to 1, of shop API requests answered
            with a 500.
        confirm_after: Seconds an order stays pending after checkout; 1.0 by
            default.

    Raises:
        ValueError: A knob's value is out of range; the message names it.
        RuntimeError: The child did not start listening within
            :data:`START_TIMEOUT` seconds.
    """
    given = {
        "latency_ms": latency_ms,
        "jitter_ms": jitter_ms,
        "error_rate": error_rate,
        "confirm_after": confirm_after,
    }
    texts = {knob: str(value) for knob, value in given.items() if value is not None}
    if latency is not None:
        texts["latency"] = ",".join(f"{path}={ms}" for path, ms in latency.items())
    # Checked here first, so that a bad value is an error in the caller.
    knobs_from_text({knob: (knob, text) for knob, text in texts.items()})
    arguments = [f"{OPTIONS[knob]}={text}" for knob, text in texts.items()]

    process = subprocess.Popen(
        [sys.executable, "-m", "locust_browser.demo", "--port", str(port), *arguments],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = _read_line(process, START_TIMEOUT)
    if not line.startswith("listening on "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the demo server did not start: {line!r}")
    return DemoProcess(process, line.removeprefix("listening on ").strip())


def serve_when_no_host(environment: Any, **_kwargs: Any) -> None:
    """Start the demo server for a run without a host; stop it at quit.

    A listener for Locust's ``init`` event. With ``-H`` it starts nothing.
    """
    from locust.runners import WorkerRunner

    if environment.host or isinstance(environment.runner, WorkerRunner):
        return
    demo = start()
    environment.host = demo.url
    environment.events.quit.add_listener(lambda **_: demo.stop())
    logger.info("No host given: the demo application serves %s", demo.url)


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    # A blocking readline could hang on a child that never prints, and gevent
    # may be patched in: wait on the pipe with select first.
    import select

    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], timeout)
    if not readable:
        process.kill()
        process.wait()
        raise RuntimeError(f"the demo server said nothing within {timeout:g}s")
    return process.stdout.readline()
