"""Playwright's sync API for greenlets, over its async API.

Design note: each user gets thin proxies over the async Playwright objects. A
proxy looks an attribute up on the async object's class once per class and
name and remembers its kind: a coroutine method becomes a blocking call through
the bridge, a plain method is called directly, a property is read directly;
whatever comes back is wrapped in turn, so everything reached from
``self.page`` is synchronous. Callbacks a user hands to Playwright are wrapped
the other way: event and route handlers run in greenlets of their own so they
may block, and predicates run inline with wrapped arguments.

Pages get one extra duty: :meth:`PageProxy.expect_response` and
:meth:`PageProxy.wait_for_response` go through the page's
:class:`~locust_browser._handler.ResponseEventHandler` and report a WAIT row.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from playwright._impl._async_base import AsyncBase, AsyncEventContextManager
from playwright.async_api import BrowserContext as AsyncBrowserContext
from playwright.async_api import Page as AsyncPage

from locust_browser._handler import (
    ResponseEventHandler,
    URLOrPredicate,
    WaitRejected,
    check_timeout,
)
from locust_browser._waits import WaitReporter, finish_wait

if TYPE_CHECKING:
    from types import TracebackType

    from locust_browser._bridge import Bridge

__all__ = ["ContextProxy", "PageProxy", "Runtime", "SyncProxy"]

logger = logging.getLogger(__name__)

PLAYWRIGHT_DEFAULT_TIMEOUT_MS = 30_000.0

# Methods whose callable arguments are handlers (may block, get a greenlet);
# the callable arguments of any other method are predicates.
_HANDLER_METHODS = frozenset(
    {
        "on",
        "once",
        "add_listener",
        "remove_listener",
        "route",
        "unroute",
        "route_web_socket",
        "expose_function",
        "expose_binding",
        "add_locator_handler",
        "remove_locator_handler",
    }
)
_CORO, _METHOD, _VALUE = "coroutine", "method", "value"
_kinds: dict[tuple[type, str], str] = {}
_ONE_ARGUMENT = inspect.signature(lambda value: None)


class Runtime:
    """What one user's proxies share: the bridge, its rows and timeouts.

    Args:
        bridge: Runs coroutines on the process's event loop.
        reporter: Reports WAIT rows to Locust.
    """

    def __init__(self, bridge: Bridge, reporter: WaitReporter) -> None:
        self.bridge = bridge
        self.reporter = reporter
        self.context_timeout_ms: float | None = None
        self._handlers: dict[Callable[..., Any], Callable[..., Any]] = {}

    def wrap(self, value: Any) -> Any:
        """Return the sync face of what an async Playwright call returned."""
        if isinstance(value, AsyncBase):
            if isinstance(value, AsyncPage):
                return PageProxy(value, self)
            if isinstance(value, AsyncBrowserContext):
                return ContextProxy(value, self)
            return SyncProxy(value, self)
        if isinstance(value, list) and value and isinstance(value[0], AsyncBase):
            return [self.wrap(item) for item in value]
        if isinstance(value, AsyncEventContextManager):
            return EventContextManager(value, self)
        return value

    def call_async(
        self, method: Callable[..., Any], name: str, /, *args: Any, **kwargs: Any
    ) -> Any:
        """Run a coroutine method through the bridge and wrap its result."""
        args, kwargs = self._arguments(name, args, kwargs)
        return self.wrap(self.bridge.run(method(*args, **kwargs)))

    def call_sync(
        self, method: Callable[..., Any], name: str, /, *args: Any, **kwargs: Any
    ) -> Any:
        """Call a plain method and wrap its result."""
        args, kwargs = self._arguments(name, args, kwargs)
        if name.startswith("expect_"):
            # These create futures and timers, which belong on the loop.
            return self.wrap(self.bridge.run(_call(method, args, kwargs)))
        return self.wrap(method(*args, **kwargs))

    def timeout_for(self, page_handler: ResponseEventHandler) -> float:
        """Return the default wait timeout of a page, in milliseconds."""
        if page_handler.default_timeout_ms is not None:
            return page_handler.default_timeout_ms
        if self.context_timeout_ms is not None:
            return self.context_timeout_ms
        return PLAYWRIGHT_DEFAULT_TIMEOUT_MS

    def _arguments(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, Any]:
        convert = self._as_handler if name in _HANDLER_METHODS else self._as_predicate
        return _unwrap(args, convert), _unwrap(kwargs, convert)

    def _as_handler(self, function: Any) -> Any:
        wrapper = self._handlers.get(function)
        if wrapper is None:
            arity = _arity(function)
            bridge, wrap = self.bridge, self.wrap

            async def wrapper(*args: Any) -> Any:
                wrapped = [wrap(arg) for arg in args[:arity]]
                return await bridge.spawn_handler(function, *wrapped)

            # Playwright reads a listener's signature on every event: once.
            signature = inspect.signature(wrapper)
            wrapper.__signature__ = signature  # type: ignore[attr-defined]
            self._handlers[function] = wrapper
        return wrapper

    def _as_predicate(self, function: Callable[..., Any]) -> Callable[..., Any]:
        wrap = self.wrap

        def predicate(*args: Any) -> Any:
            return function(*(wrap(arg) for arg in args))

        return predicate


class SyncProxy:
    """The sync face of one async Playwright object."""

    __slots__ = ("_impl", "_runtime")

    def __init__(self, impl: Any, runtime: Runtime) -> None:
        self._impl = impl
        self._runtime = runtime

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        impl = self._impl
        kind = _kind(type(impl), name)
        member = getattr(impl, name)
        if kind is _VALUE:
            return self._runtime.wrap(member)
        if kind is _CORO:
            return functools.partial(self._runtime.call_async, member, name)
        return functools.partial(self._runtime.call_sync, member, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyncProxy) and other._impl is self._impl

    def __hash__(self) -> int:
        return hash(self._impl)

    def __repr__(self) -> str:
        return f"<sync {self._impl!r}>"

    def __str__(self) -> str:
        return str(self._impl)


class ContextProxy(SyncProxy):
    """A browser context whose default timeout the user's waits follow."""

    __slots__ = ()

    def set_default_timeout(self, timeout: float) -> None:
        """Set the default timeout of the context's actions and waits, in ms."""
        self._runtime.context_timeout_ms = check_timeout(timeout)
        self._impl.set_default_timeout(timeout)


class PageProxy(SyncProxy):
    """A page whose response waits go through its response event handler."""

    __slots__ = ()

    @property
    def response_handler(self) -> ResponseEventHandler:
        """The page's handler, attached on first use."""
        handler: ResponseEventHandler | None = getattr(
            self._impl, "_locust_browser_handler", None
        )
        if handler is None:
            handler = attach_handler(self._impl, self._runtime)
        return handler

    def set_default_timeout(self, timeout: float) -> None:
        """Set the default timeout of the page's actions and waits, in ms."""
        self.response_handler.default_timeout_ms = check_timeout(timeout)
        self._impl.set_default_timeout(timeout)

    def expect_response(
        self,
        url_or_predicate: URLOrPredicate,
        *,
        name: str | None = None,
        method: str | None = None,
        status: int | Collection[int] | None = None,
        timeout: float | None = None,
    ) -> ResponseWait:
        """Wait, around a block, for a response that the block causes.

        The waiter is registered before the block runs, so a response that
        comes back at once is still caught. The wait becomes a WAIT row.

        Args:
            url_or_predicate: A glob, a compiled regex (searched) or a callable
                that takes the response; globs follow Playwright's URL rules
                and resolve against the context's base URL.
            name: The row's name; by default the pattern.
            method: Only responses to requests of this HTTP method.
            status: Only responses with this status, or one of these.
            timeout: Milliseconds; by default the page's default timeout;
                0 waits for ever.

        Returns:
            A context manager whose ``value`` is the response.

        Raises:
            ValueError: An invalid glob, method, status or timeout.
            TypeError: A pattern that is not a string, regex or callable.
        """
        handler = self.response_handler
        waiter = handler.register(
            url_or_predicate,
            name=name,
            method=method,
            status=status,
            timeout_ms=(
                self._runtime.timeout_for(handler)
                if timeout is None
                else check_timeout(timeout)
            ),
        )
        return ResponseWait(handler, waiter, self._runtime, self._impl)

    def wait_for_response(
        self,
        url_or_predicate: URLOrPredicate,
        *,
        name: str | None = None,
        method: str | None = None,
        status: int | Collection[int] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Block until a matching response arrives; return it.

        Takes the arguments of :meth:`expect_response`. The waiter is
        registered at the call, for responses that come later (a debounced
        search, polling).
        """
        wait = self.expect_response(
            url_or_predicate, name=name, method=method, status=status, timeout=timeout
        )
        return wait.value


class ResponseWait:
    """The context manager of one :meth:`PageProxy.expect_response` call."""

    __slots__ = ("_handler", "_waiter", "_runtime", "_page", "_response", "_done")

    def __init__(
        self, handler: ResponseEventHandler, waiter: Any, runtime: Runtime, page: Any
    ) -> None:
        self._handler = handler
        self._waiter = waiter
        self._runtime = runtime
        self._page = page
        self._response: Any = None
        self._done = False

    def __enter__(self) -> ResponseWait:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._handler.discard(self._waiter)
            return
        self.value  # noqa: B018 (waits and reports)

    @property
    def value(self) -> Any:
        """The matched response, waiting for it if need be."""
        if not self._done:
            self._done = True
            response = finish_wait(
                self._handler,
                self._waiter,
                self._page,
                self._runtime.bridge,
                self._runtime.reporter,
            )
            self._response = self._runtime.wrap(response)
        return self._response

    def is_done(self) -> bool:
        """Whether the waiter has settled."""
        return self._waiter.outcome is not None


class EventContextManager:
    """The sync face of Playwright's other ``expect_*`` context managers."""

    __slots__ = ("_manager", "_runtime", "_value", "_done")

    def __init__(self, manager: AsyncEventContextManager[Any], runtime: Runtime):
        self._manager = manager
        self._runtime = runtime
        self._done = False
        self._value: Any = None

    def __enter__(self) -> EventContextManager:
        self._runtime.bridge.run(self._manager.__aenter__())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._runtime.bridge.run(self._manager.__aexit__(exc_type, exc, traceback))
            return
        self.value  # noqa: B018 (waits)

    @property
    def value(self) -> Any:
        """The event's value, waiting for it if need be."""
        if not self._done:
            info = self._manager._event
            self._value = self._runtime.wrap(self._runtime.bridge.run(_value_of(info)))
            self._done = True
        return self._value

    def is_done(self) -> bool:
        """Whether the event has happened."""
        return bool(self._manager._event.is_done())


def listen(emitter: Any, event: str, function: Callable[[Any], object]) -> None:
    """Call *function* with each *event* of a Playwright object, cheaply.

    Playwright's public ``on()`` asks ``inspect.signature`` about a listener
    on every event it delivers, to learn how many arguments to pass; in a
    profile of a browser run that was 7% of the Python process. A listener
    that carries its ``__signature__`` answers at once.
    """

    def listener(value: Any) -> None:
        function(value)

    listener.__signature__ = _ONE_ARGUMENT  # type: ignore[attr-defined]
    emitter.on(event, listener)


def attach_handler(page: Any, runtime: Runtime) -> ResponseEventHandler:
    """Give an async page its response event handler and its listeners."""
    context = page.context
    base_url = getattr(context, "_locust_browser_base_url", None)
    handler = ResponseEventHandler(base_url=base_url, wrap_response=runtime.wrap)
    page._locust_browser_handler = handler
    listen(page, "response", handler.dispatch)
    page.on("close", lambda _: _reject(handler, "the page was closed"))
    page.on("crash", lambda _: _reject(handler, "the page crashed"))
    return handler


def _reject(handler: ResponseEventHandler, why: str) -> None:
    handler.reject_all(WaitRejected(f"{why} while waiting for a response"))


def _kind(cls: type, name: str) -> str:
    key = (cls, name)
    kind = _kinds.get(key)
    if kind is None:
        member = inspect.getattr_static(cls, name, None)
        if inspect.iscoroutinefunction(member):
            kind = _CORO
        elif inspect.isfunction(member):
            kind = _METHOD
        else:
            kind = _VALUE
        _kinds[key] = kind
    return kind


def _unwrap(
    value: Any, as_predicate: Callable[[Callable[..., Any]], Any] | None = None
) -> Any:
    if isinstance(value, SyncProxy):
        return value._impl
    if isinstance(value, tuple | list):
        items = [_unwrap(item, as_predicate) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {key: _unwrap(item, as_predicate) for key, item in value.items()}
    if as_predicate is not None and callable(value) and not isinstance(value, type):
        return as_predicate(value)
    return value


def _arity(function: Callable[..., Any]) -> int | None:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = 0
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (
            parameter.POSITIONAL_ONLY,
            parameter.POSITIONAL_OR_KEYWORD,
        ):
            positional += 1
    return positional


async def _call(method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    return method(*args, **kwargs)


async def _value_of(info: Any) -> Any:
    return await info.value
