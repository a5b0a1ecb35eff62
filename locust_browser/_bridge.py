"""Run asyncio coroutines on behalf of gevent greenlets.

Design note: Locust's users are greenlets on the gevent hub, and Playwright's
Python API is asyncio. Locust patches ``selectors`` at import, so an asyncio
loop created afterwards selects through gevent: its ``select()`` parks the
greenlet that runs the loop and lets the hub run everyone else. One such loop
per process, run inside one greenlet, serves every user of the process.

A user greenlet submits a coroutine as a task and blocks on a gevent
:class:`~gevent.event.AsyncResult` that the task's done-callback sets. Loop and
greenlets share one OS thread, so the callback's ``set()`` is a plain call and
nothing polls. Submitting from a greenlet has to wake the loop, which may be
parked in ``select()``; ``call_soon_threadsafe`` writes to the loop's self-pipe
for that. A greenlet killed while it waits cancels its task, so no browser work
outlives the user that asked for it.

The loop is created on first use, not at import, so that ``locust --processes``
forks before any loop, driver or browser exists.

The loop does not use gevent's patched selector. That one parks the loop's
greenlet in the hub on every turn of the loop, busy or not, with a timer and a
watcher per file descriptor each time; in a profile of a browser run it was a
third of the Python process's samples. The loop gets the original epoll
selector instead, asked without blocking; only when asyncio has nothing to do
does its greenlet park, on one watcher of the epoll descriptor, which the hub
wakes when any of the loop's descriptors is ready. A busy loop still yields to
the hub every few milliseconds, so users and Locust's own greenlets keep
running.
"""

from __future__ import annotations

import gevent  # isort: skip

import asyncio
import logging
import os
import selectors
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import gevent.monkey
from gevent.event import AsyncResult

__all__ = ["Bridge", "LoopCallError", "get_bridge"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


YIELD_EVERY = 0.002
"""Seconds a busy loop runs before it lets the hub run other greenlets."""

_NativeSelector: type[selectors.BaseSelector] = gevent.monkey.get_original(
    "selectors", "DefaultSelector"
)


class _HubSelector(_NativeSelector):  # type: ignore[misc,valid-type]
    """The original selector, polled; waiting for it happens in the hub."""

    def __init__(self) -> None:
        super().__init__()
        self._hub = gevent.get_hub()
        # One watcher for the whole loop: the epoll descriptor is readable
        # whenever any descriptor registered with it is ready.
        self._ready = self._hub.loop.io(self.fileno(), 1)
        self._yielded_at = time.perf_counter()

    def select(self, timeout: float | None = None) -> list[Any]:
        events: list[Any] = super().select(0)
        if events or (timeout is not None and timeout <= 0):
            # Busy: asyncio has callbacks to run or descriptors to serve.
            if time.perf_counter() - self._yielded_at > YIELD_EVERY:
                gevent.sleep(0)
                self._yielded_at = time.perf_counter()
            return events
        with gevent.Timeout(timeout, False):
            self._hub.wait(self._ready)
        self._yielded_at = time.perf_counter()
        return super().select(0)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._ready.close()
        super().close()


class LoopCallError(RuntimeError):
    """A blocking call was made from the greenlet that runs the event loop."""


class Bridge:
    """One asyncio event loop, run in a greenlet, serving every greenlet.

    .. important:: Use it only from greenlets of the thread that created it.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._greenlet: gevent.Greenlet | None = None
        self._pid = os.getpid()
        # Results that greenlets wait on, failed if the loop stops first.
        self._waiting: set[AsyncResult] = set()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Return the loop, starting it in its own greenlet on first use."""
        if self._loop is None:
            self._start()
        assert self._loop is not None
        return self._loop

    @property
    def is_running(self) -> bool:
        """Whether the loop exists and its greenlet is alive."""
        return self._greenlet is not None and not self._greenlet.dead

    def is_loop_greenlet(self) -> bool:
        """Whether the calling greenlet is the one that runs the loop."""
        return self._greenlet is not None and gevent.getcurrent() is self._greenlet

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        cancel_on_exit: bool = True,
        on_abandon: Callable[[T], object] | None = None,
    ) -> T:
        """Run *coro* on the loop and block the calling greenlet until it ends.

        Args:
            coro: The coroutine to run.
            cancel_on_exit: When the calling greenlet is killed or times out
                while it waits, cancel the coroutine (the default). False lets
                it finish, for work that must complete once started, such as
                closing a browser context.
            on_abandon: With ``cancel_on_exit=False``, called on the loop with
                the coroutine's result when it finishes after its caller left:
                it releases what the caller can no longer release.

        Returns:
            The coroutine's result.

        Raises:
            LoopCallError: When called from the loop's own greenlet, which
                would wait on itself forever.
        """
        if self.is_loop_greenlet():
            coro.close()
            raise LoopCallError(
                "a blocking Playwright call was made on the event loop, from an "
                "event handler or a response predicate; these run during dispatch "
                "and must not block: read only properties there, or do the work "
                "in the task"
            )
        loop = self.loop
        result: AsyncResult = AsyncResult()
        self._waiting.add(result)
        task = loop.create_task(coro)
        task.add_done_callback(lambda task: _settle(result, task))
        # The loop may be parked in select(); the self-pipe write wakes it.
        loop.call_soon_threadsafe(_nothing)

        try:
            return result.get()  # type: ignore[no-any-return]
        except BaseException:
            if task.done() or loop.is_closed():
                raise
            if cancel_on_exit:
                task.cancel()
            elif on_abandon is not None:
                task.add_done_callback(lambda task: _abandon(task, on_abandon))
            loop.call_soon_threadsafe(_nothing)
            raise
        finally:
            self._waiting.discard(result)

    def submit(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start *coro* on the loop without waiting for it; return its task."""
        if self.is_loop_greenlet():
            return asyncio.ensure_future(coro)
        loop = self.loop
        task = loop.create_task(coro)
        loop.call_soon_threadsafe(_nothing)
        return task

    def spawn_handler(
        self, function: Callable[..., object], *args: object
    ) -> asyncio.Future[object]:
        """Run a blocking *function* in a new greenlet; return a loop future.

        Event handlers that users write against the sync API may block on
        Playwright calls, which the loop's own greenlet cannot do, so each call
        gets a greenlet of its own.
        """
        loop = self.loop
        future: asyncio.Future[object] = loop.create_future()

        def finish(greenlet: gevent.Greenlet) -> None:
            if future.done():
                return
            if greenlet.successful():
                loop.call_soon_threadsafe(_set_result, future, greenlet.value)
            else:
                loop.call_soon_threadsafe(_set_exception, future, greenlet.exception)

        gevent.spawn(function, *args).link(finish)
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Stop the loop once its pending work is done and close it.

        Args:
            timeout: Seconds to wait for the loop's greenlet to finish.
        """
        if self._loop is None or self._pid != os.getpid():
            return
        loop, greenlet = self._loop, self._greenlet
        self._loop = self._greenlet = None
        loop.call_soon_threadsafe(loop.stop)
        if greenlet is not None:
            greenlet.join(timeout)
            if not greenlet.dead:
                greenlet.kill(block=True, timeout=timeout)
        if not loop.is_running():
            loop.close()

    def _start(self) -> None:
        if self._pid != os.getpid():
            # A forked child must not reuse its parent's loop or browser.
            self.__init__()  # type: ignore[misc]
        self._loop = asyncio.SelectorEventLoop(_HubSelector())
        self._greenlet = gevent.spawn(self._run_loop, self._loop)
        self._greenlet.name = "locust-browser event loop"

    def _run_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        why = "it was closed"
        try:
            loop.run_forever()
        except BaseException as error:
            why = f"it failed: {error!r}"
            logger.exception("The event loop of locust-browser stopped on an error")
            raise
        finally:
            # Nothing will finish what still waits on this loop: say why.
            for result in list(self._waiting):
                if not result.ready():
                    result.set_exception(
                        LoopCallError(
                            f"the event loop of locust-browser stopped: {why}"
                        )
                    )


_bridge: Bridge | None = None


def get_bridge() -> Bridge:
    """Return this process's bridge, creating it on first use."""
    global _bridge
    if _bridge is None or _bridge._pid != os.getpid():
        _bridge = Bridge()
    return _bridge


def _nothing() -> None:
    pass


def _settle(result: AsyncResult, task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        result.set_exception(asyncio.CancelledError())
    elif (error := task.exception()) is not None:
        result.set_exception(error)
    else:
        result.set(task.result())


def _abandon(task: asyncio.Task[T], release: Callable[[T], object]) -> None:
    if not task.cancelled() and task.exception() is None:
        release(task.result())


def _set_result(future: asyncio.Future[object], value: object) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[object], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
