"""The response event handler on its own: no browser, real greenlets."""

from __future__ import annotations

import gevent  # isort: skip

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from gevent import GreenletExit
from gevent.event import AsyncResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locust_browser import ResponseEventHandler
from locust_browser._facade import listen
from locust_browser._handler import Waiter, WaitRejected, WaitTimedOut

BASE_URL = "http://127.0.0.1:8089"
PATTERNS = ["**/api/items*", "**/api/cart", re.compile(r"/api/poll"), "/api/{a,b}"]
URLS = [
    f"{BASE_URL}/api/items?page=2",
    f"{BASE_URL}/api/cart",
    f"{BASE_URL}/api/poll?n=1",
    f"{BASE_URL}/api/a",
    f"{BASE_URL}/api/b",
    f"{BASE_URL}/other",
]


@dataclass
class FakeRequest:
    method: str = "GET"


@dataclass
class FakeResponse:
    url: str
    status: int = 200
    request: FakeRequest = field(default_factory=FakeRequest)


class CountingResult(AsyncResult):
    """A result slot that records each time it is filled."""

    def __init__(self, fills: list[int]) -> None:
        super().__init__()
        self._fills = fills

    def set(self, value: object = None) -> None:
        self._fills.append(1)
        super().set(value)

    def set_exception(self, exception: BaseException, exc_info: object = None) -> None:
        self._fills.append(1)
        super().set_exception(exception, exc_info)


def spawn_wait(handler: ResponseEventHandler, waiter: object) -> gevent.Greenlet:
    return gevent.spawn(handler.wait, waiter)


def test_response_wakes_every_matching_waiter_and_no_other() -> None:
    handler = ResponseEventHandler(base_url=BASE_URL)
    waiters = [handler.register(pattern) for pattern in PATTERNS * 2]
    waiters.append(handler.register("**/api/cart", method="POST"))
    waiters.append(handler.register("**/api/cart", status=range(400, 600)))
    waiters.append(handler.register(lambda response: response.url.endswith("cart")))
    greenlets = [spawn_wait(handler, waiter) for waiter in waiters]
    gevent.sleep(0)

    response = FakeResponse(f"{BASE_URL}/api/cart")
    assert handler.dispatch(response) == 3

    gevent.sleep(0)
    woken = [waiter for waiter, g in zip(waiters, greenlets, strict=True) if g.ready()]
    assert [waiter.description for waiter in woken] == ["**/api/cart"] * 2 + [
        "<lambda>"
    ]
    assert all(g.value is response for g in greenlets if g.ready())
    assert handler.statistics().active == len(waiters) - 3
    gevent.killall(greenlets)
    assert handler.statistics().active == 0
    assert handler.statistics().cancelled == len(waiters) - 3


def test_method_and_status_filters_narrow_a_match() -> None:
    handler = ResponseEventHandler(base_url=BASE_URL)
    post = handler.register("**/api/cart", method="post")
    created = handler.register("**/api/cart", status=201)
    failed = handler.register("**/api/cart", status=[500, 503])

    handler.dispatch(FakeResponse(f"{BASE_URL}/api/cart", 201, FakeRequest("POST")))

    assert post.outcome == created.outcome == "matched"
    assert failed.outcome is None


def test_timed_out_wait_raises_and_counts_once() -> None:
    handler = ResponseEventHandler()
    waiter = handler.register("**/never", timeout_ms=5)

    with pytest.raises(WaitTimedOut, match=r"Timeout 5ms exceeded .* \*\*/never"):
        handler.wait(waiter)

    handler.dispatch(FakeResponse("http://x/never"))
    stats = handler.statistics()
    assert (stats.timed_out, stats.matched, stats.active) == (1, 0, 0)


def test_reject_all_rejects_active_and_later_waiters() -> None:
    handler = ResponseEventHandler()
    waiter = handler.register("**/a")
    greenlet = spawn_wait(handler, waiter)
    gevent.sleep(0)

    assert handler.reject_all(WaitRejected("the page was closed")) == 1
    greenlet.join(timeout=5)
    assert isinstance(greenlet.exception, WaitRejected)

    late = handler.register("**/b")
    with pytest.raises(WaitRejected, match="page was closed"):
        handler.wait(late)
    assert handler.statistics().rejected == 2
    assert handler.statistics().active == 0


def test_predicate_that_raises_fails_only_its_own_waiter() -> None:
    handler = ResponseEventHandler()

    def broken(response: object) -> bool:
        raise KeyError("oops")

    bad = handler.register(broken)
    good = handler.register("**/a")

    assert handler.dispatch(FakeResponse("http://x/a")) == 1
    with pytest.raises(KeyError):
        handler.wait(bad)
    assert handler.wait(good).url == "http://x/a"


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"url_or_predicate": "**/{a,{b}}"}, ValueError, "nested"),
        ({"url_or_predicate": 42}, TypeError, "url_or_predicate.*int"),
        ({"url_or_predicate": ["**"]}, TypeError, "url_or_predicate.*list"),
        ({"url_or_predicate": "**", "timeout_ms": -1}, ValueError, "timeout.*-1"),
        ({"url_or_predicate": "**", "timeout_ms": "5"}, TypeError, "timeout.*str"),
        ({"url_or_predicate": "**", "method": "GE T"}, ValueError, "method"),
        ({"url_or_predicate": "**", "status": 99}, ValueError, "status.*99"),
    ],
)
def test_bad_input_is_refused_before_registering(
    arguments: dict[str, object], error: type[Exception], message: str
) -> None:
    handler = ResponseEventHandler()

    with pytest.raises(error, match=message):
        handler.register(**arguments)  # type: ignore[arg-type]

    assert handler.statistics().registered == 0
    assert len(handler) == 0


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("register"),
            st.integers(0, len(PATTERNS) - 1),
            st.sampled_from([0, 1, 3]),
        ),
        st.tuples(st.just("dispatch"), st.integers(0, len(URLS) - 1), st.just(0)),
        st.tuples(st.just("kill"), st.integers(0, 10_000), st.just(0)),
        st.tuples(st.just("discard"), st.integers(0, 10_000), st.just(0)),
        st.tuples(st.just("advance"), st.integers(0, 2), st.just(0)),
    ),
    min_size=20,
    max_size=120,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(operations=OPERATIONS, seed=st.integers(0, 2**32 - 1))
def test_a_thousand_waiters_settle_exactly_once_under_any_interleaving(
    operations: list[tuple[str, int, int]], seed: int
) -> None:
    handler = ResponseEventHandler(base_url=BASE_URL)
    waiters: list[Waiter] = []
    greenlets: list[gevent.Greenlet] = []
    settles: list[int] = []
    waiting: set[int] = set()

    def wait(waiter: Waiter) -> object:
        waiting.add(id(waiter))
        try:
            return handler.wait(waiter)
        except Exception as error:
            return error

    def register(pattern: int, timeout_ms: int) -> None:
        waiter = handler.register(PATTERNS[pattern], timeout_ms=timeout_ms)
        waiter._result = CountingResult(settles)
        waiters.append(waiter)
        greenlets.append(gevent.spawn(wait, waiter))

    # Fill up to a thousand waiters, with the generated operations woven in.
    step = max(1, 1000 // len(operations))
    index = seed
    while len(waiters) < 1000:
        for kind, argument, extra in operations:
            if kind == "register" or len(waiters) < 1000 and index % step == 0:
                register(argument % len(PATTERNS), extra)
            elif kind == "dispatch":
                handler.dispatch(FakeResponse(URLS[argument]))
            elif kind == "kill" and greenlets:
                # Only a greenlet already in wait() owns its waiter, as a user does.
                target = argument % len(greenlets)
                if id(waiters[target]) in waiting:
                    greenlets[target].kill(block=False)
            elif kind == "discard" and waiters:
                handler.discard(waiters[argument % len(waiters)])
            elif kind == "advance":
                # Mostly a bare turn of the hub; now and then long enough for
                # the shortest timeouts to fire.
                gevent.sleep(0.001 if argument == 2 else 0)
            index += 1
            if len(waiters) >= 1000:
                break

    # Whatever is left settles by rejection, as when the page closes.
    handler.reject_all(WaitRejected("the page was closed"))
    gevent.joinall(greenlets, timeout=30)

    stats = handler.statistics()
    assert all(g.dead for g in greenlets)
    assert stats.active == 0
    assert stats.registered == len(waiters) == 1000
    assert stats.matched + stats.timed_out + stats.cancelled + stats.rejected == 1000
    assert all(waiter.outcome is not None for waiter in waiters)
    assert sum(settles) == 1000
    for waiter, greenlet in zip(waiters, greenlets, strict=True):
        outcome = waiter.outcome
        expected = {"matched": FakeResponse, "timed out": WaitTimedOut}
        # A greenlet killed after its waiter matched never sees the response.
        if outcome in expected and not isinstance(greenlet.value, GreenletExit):
            assert isinstance(greenlet.value, expected[outcome])


def test_listeners_answer_playwrights_signature_question_without_inspecting() -> None:
    registered: dict[str, Any] = {}

    class Emitter:
        def on(self, event: str, listener: Any) -> None:
            registered[event] = listener

    seen: list[object] = []
    listen(Emitter(), "response", seen.append)
    listener = registered["response"]

    # Playwright asks this of each listener on every event it delivers.
    assert inspect.signature(listener) is listener.__signature__
    assert len(inspect.signature(listener).parameters) == 1
    listener("a response")
    assert seen == ["a response"]
