"""Cost of the response event handler and of one bridge hop, without a browser.

Usage::

    python benchmarks/handler.py

For 1, 100 and 10,000 waiters already registered on one handler, it times:
registering and discarding one more waiter; dispatching a response that
matches none of them (the common case: most responses of a page are not
waited for); a wait settled at once (register, a dispatch that matches and
settles it, take the response: the handler's whole work for one wait); and
a full wait that a dispatch from another greenlet settles (the same, plus
waking the waiting greenlet). Then it times one round trip through the
bridge.
Each figure is the median of several repeats, in microseconds.
"""

from __future__ import annotations

import gevent  # isort: skip

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from locust_browser._bridge import Bridge  # noqa: E402
from locust_browser._handler import ResponseEventHandler  # noqa: E402

REPEATS = 7


@dataclass
class Request:
    method: str = "GET"


@dataclass
class Response:
    url: str
    status: int = 200
    request: Request = field(default_factory=Request)


def per_call_us(run: Callable[[int], None], calls: int) -> float:
    """Return the median time of one call of *run*, over REPEATS repeats."""
    samples = []
    run(calls // 10)  # warm up
    for _ in range(REPEATS):
        started = time.perf_counter()
        run(calls)
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


def handler_with(waiting: int) -> ResponseEventHandler:
    handler = ResponseEventHandler(base_url="http://127.0.0.1:8089")
    for index in range(waiting):
        handler.register(f"**/api/other/{index}", timeout_ms=0)
    return handler


def register_and_discard(handler: ResponseEventHandler) -> Callable[[int], None]:
    def run(calls: int) -> None:
        for _ in range(calls):
            handler.discard(handler.register("**/api/items*", timeout_ms=0))

    return run


def dispatch_unmatched(handler: ResponseEventHandler) -> Callable[[int], None]:
    response = Response("http://127.0.0.1:8089/static/app.js")

    def run(calls: int) -> None:
        for _ in range(calls):
            handler.dispatch(response)

    return run


def settled_wait(handler: ResponseEventHandler) -> Callable[[int], None]:
    response = Response("http://127.0.0.1:8089/api/items?page=1")

    def run(calls: int) -> None:
        for _ in range(calls):
            waiter = handler.register("**/api/items*", timeout_ms=0)
            handler.dispatch(response)
            handler.wait(waiter)

    return run


def matched_wait(handler: ResponseEventHandler) -> Callable[[int], None]:
    response = Response("http://127.0.0.1:8089/api/items?page=1")

    def run(calls: int) -> None:
        for _ in range(calls):
            waiter = handler.register("**/api/items*", timeout_ms=0)
            gevent.spawn(handler.dispatch, response)
            handler.wait(waiter)

    return run


def bridge_hop(bridge: Bridge) -> Callable[[int], None]:
    async def nothing() -> None:
        pass

    def run(calls: int) -> None:
        for _ in range(calls):
            bridge.run(nothing())

    return run


def main() -> int:
    print(
        f"{'waiters':>8} {'register+discard':>17} {'dispatch, no match':>19} "
        f"{'settled wait':>13} {'matched wait':>13}"
        f"   (us per call, median of {REPEATS})"
    )
    for waiting in (1, 100, 10_000):
        handler = handler_with(waiting)
        calls = 200 if waiting == 10_000 else 5_000
        print(
            f"{waiting:>8} "
            f"{per_call_us(register_and_discard(handler), calls):>17.2f} "
            f"{per_call_us(dispatch_unmatched(handler), calls):>19.2f} "
            f"{per_call_us(settled_wait(handler), calls):>13.2f} "
            f"{per_call_us(matched_wait(handler), calls):>13.2f}"
        )
    bridge = Bridge()
    try:
        hop = per_call_us(bridge_hop(bridge), 5_000)
    finally:
        bridge.close()
    print(f"bridge round trip (greenlet -> loop -> greenlet): {hop:.1f} us")
    asyncio.set_event_loop(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
