"""The demo application that the example locustfiles and the tests run against.

``python -m locust_browser.demo --port 8000`` serves it in the foreground;
:func:`start` runs it in a child process on a free loopback port, and
:func:`serve_when_no_host` does that for a locustfile run without ``-H``.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

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


def start(port: int = 0) -> DemoProcess:
    """Start the demo server in a child process on a loopback port.

    Args:
        port: The port; 0 picks a free one.

    Raises:
        RuntimeError: The child did not start listening within
            :data:`START_TIMEOUT` seconds.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "locust_browser.demo", "--port", str(port)],
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
