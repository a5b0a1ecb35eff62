"""The bridge between greenlets and the asyncio loop, without a browser."""

from __future__ import annotations

import gevent  # isort: skip

import asyncio
import itertools
import time
from collections.abc import Iterator

import gevent.event
import pytest

import locust_browser
from locust_browser._bridge import Bridge, LoopCallError


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    # A thread runs one loop at a time: close the process's own first (the
    # browser tests relaunch it when they next need it).
    locust_browser.shutdown()
    bridge = Bridge()
    yield bridge
    bridge.close()


def test_greenlets_run_coroutines_concurrently_on_one_loop(bridge: Bridge) -> None:
    async def nap(seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    greenlets = [gevent.spawn(bridge.run, nap(0.2)) for _ in range(50)]
    with gevent.Timeout(5):
        gevent.joinall(greenlets, raise_error=True)

    assert [g.value for g in greenlets] == [0.2] * 50
    assert bridge.is_running


def test_coroutine_error_reaches_the_calling_greenlet(bridge: Bridge) -> None:
    async def fail() -> None:
        raise KeyError("from the loop")

    with pytest.raises(KeyError, match="from the loop"):
        bridge.run(fail())


def test_killed_greenlet_cancels_its_coroutine(bridge: Bridge) -> None:
    started, cancelled = gevent.event.Event(), gevent.event.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    greenlet = gevent.spawn(bridge.run, forever())
    assert started.wait(5)
    greenlet.kill(block=True, timeout=5)

    assert cancelled.wait(5)


def test_work_that_must_finish_is_released_after_its_caller_left(
    bridge: Bridge,
) -> None:
    opened, released = gevent.event.Event(), gevent.event.AsyncResult()

    async def open_resource() -> str:
        opened.set()
        await asyncio.sleep(0.1)
        return "resource"

    greenlet = gevent.spawn(
        bridge.run, open_resource(), cancel_on_exit=False, on_abandon=released.set
    )
    assert opened.wait(5)
    greenlet.kill(block=True, timeout=5)

    assert released.get(timeout=5) == "resource"


def test_blocking_call_from_the_loop_is_refused(bridge: Bridge) -> None:
    async def call_back_into_the_bridge() -> None:
        async def inner() -> None:
            pass

        bridge.run(inner())

    with pytest.raises(LoopCallError, match="must not block"):
        bridge.run(call_back_into_the_bridge())


def test_loop_is_created_on_first_use_and_closed_for_good(bridge: Bridge) -> None:
    assert not bridge.is_running

    async def answer() -> int:
        return 42

    assert bridge.run(answer()) == 42
    bridge.close()

    assert not bridge.is_running


def test_waiters_are_failed_when_the_loop_cannot_run(bridge: Bridge) -> None:
    other = asyncio.new_event_loop()

    async def nothing() -> None:
        pass

    async def hold_the_thread() -> None:
        # While this loop runs, no other loop may run in the thread.
        with pytest.raises(LoopCallError, match="stopped: it failed"):
            gevent.spawn(bridge.run, nothing()).get(timeout=5)

    try:
        other.run_until_complete(hold_the_thread())
    finally:
        other.close()


def test_a_busy_loop_still_lets_other_greenlets_run(bridge: Bridge) -> None:
    ticks: list[float] = []

    def tick() -> None:
        while True:
            ticks.append(time.perf_counter())
            gevent.sleep(0)

    async def busy(seconds: float) -> int:
        turns, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            await asyncio.sleep(0)
            turns += 1
        return turns

    ticker = gevent.spawn(tick)
    try:
        turns = bridge.run(busy(0.3))
    finally:
        ticker.kill()

    assert turns > 100
    # The loop never held the hub much longer than it is meant to.
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert len(ticks) > 10
    assert max(gaps) < 0.1


def test_the_loop_wakes_for_its_timers_and_for_greenlets_when_idle(
    bridge: Bridge,
) -> None:
    started = time.perf_counter()
    bridge.run(asyncio.sleep(0.05))
    slept = time.perf_counter() - started

    # Idle, then woken by a greenlet's submission from another greenlet.
    woken = gevent.event.Event()
    gevent.spawn_later(0.05, lambda: bridge.submit(_set_event(woken)))
    assert woken.wait(5)
    assert 0.05 <= slept < 1.0


async def _set_event(event: gevent.event.Event) -> None:
    event.set()
