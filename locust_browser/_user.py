"""The Locust user that drives a real browser page.

Design note: a :class:`BrowserUser` gets its browser context and page in its
own greenlet before ``on_start`` runs, and gives them back in a ``finally``
around Locust's ``run()``, so they close however the user stops: ``on_stop``,
a ramp-down kill, an exception in ``on_start``. Opening is not cancelled when
the user is killed half-way (the browser would keep a context nobody owns);
a context that arrives after its user left is closed on arrival.

Module import registers three listeners on Locust's global events: the
``--browser-executable`` option, a check at init that a browser can be found,
before any load starts, and closing the browser when Locust quits.
"""

from __future__ import annotations

import locust  # isort: skip

import asyncio
import contextlib
import dataclasses
import logging
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar, cast

import gevent
from locust import User
from locust.runners import MasterRunner

from locust_browser._artifacts import capture, configure
from locust_browser._blocking import parse_blocked
from locust_browser._bridge import get_bridge
from locust_browser._browser import BrowserProvider, BrowserStatistics
from locust_browser._executable import (
    ENV_EXECUTABLE,
    BrowserNotFoundError,
    resolve_browser,
)
from locust_browser._facade import ContextProxy, PageProxy, Runtime, attach_handler
from locust_browser._grouping import GroupingRules, URLGrouper
from locust_browser._handler import ResponseEventHandler
from locust_browser._network import NetworkRows, parse_resource_types
from locust_browser._rows import fire_row
from locust_browser._vitals import VitalsReporter
from locust_browser._waits import WaitReporter, drain_reports, with_artifact

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator
    from datetime import timedelta

    from gevent.pool import Group
    from locust.env import Environment
    from playwright._impl._sync_base import EventContextManager
    from playwright.sync_api import BrowserContext, Response
    from playwright.sync_api import Page as SyncPage

    from locust_browser._handler import URLOrPredicate

    class Page(SyncPage):
        """Playwright's sync ``Page``, with named, filtered response waits."""

        def expect_response(
            self,
            url_or_predicate: URLOrPredicate,
            *,
            name: str | None = None,
            method: str | None = None,
            status: int | Collection[int] | None = None,
            timeout: float | timedelta | None = None,
        ) -> EventContextManager[Response]: ...

        def wait_for_response(
            self,
            url_or_predicate: URLOrPredicate,
            *,
            name: str | None = None,
            method: str | None = None,
            status: int | Collection[int] | None = None,
            timeout: float | timedelta | None = None,
        ) -> Response: ...


__all__ = ["BrowserUser", "browser_statistics", "shutdown"]

logger = logging.getLogger(__name__)

_provider = BrowserProvider()
# What the handlers of closed pages counted, for the summary at quit.
_waits_of_closed_pages: Counter[str] = Counter()


class BrowserUser(User):
    """A Locust user with a browser context and page of its own.

    The page's base URL is the Locust host, so ``self.page.goto("/")`` opens
    the host's root. ``self.page`` and ``self.context`` are Playwright's sync
    API, usable from tasks; their response waits become WAIT rows.
    """

    abstract = True

    context_options: ClassVar[dict[str, Any]] = {}
    """Keyword arguments for Playwright's ``browser.new_context()``."""

    network_rows: ClassVar[str | Collection[str] | None] = None
    """Resource types whose requests become rows (``"document,xhr,fetch"``,
    ``"all"``, ``"none"``); the ``--network-rows`` option's if None."""

    url_groups: ClassVar[GroupingRules] = ()
    """Rules naming rows, tried before the default grouping: pairs of a glob
    or regex over the URL and a row name, e.g. ``("**/api/search?*",
    "/api/search")``."""

    default_timeout: ClassVar[float | None] = None
    """Milliseconds for the context's actions and waits; Playwright's 30 s if
    None."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._context: ContextProxy | None = None
        self._page: PageProxy | None = None

    @property
    def page(self) -> Page:
        """The user's page, open from before ``on_start`` until the user stops."""
        if self._page is None:
            raise RuntimeError(
                "the page of a BrowserUser exists only while the user runs, "
                "from before on_start until after on_stop"
            )
        return cast("Page", self._page)

    # Locust's User.context() feeds its HTTP clients' request context; a
    # browser user has no such client, and the design names the browser
    # context self.context, as Playwright users expect.
    @property
    def context(self) -> BrowserContext:  # type: ignore[override]
        """The user's browser context: cookies and storage of its own."""
        if self._context is None:
            raise RuntimeError(
                "the context of a BrowserUser exists only while the user runs"
            )
        return cast("BrowserContext", self._context)

    @property
    def response_handler(self) -> ResponseEventHandler:
        """The response event handler of the user's page."""
        if self._page is None:
            raise RuntimeError("the user has no page: it is not running")
        return self._page.response_handler

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a block of a task as a STEP row named *name*.

        The row's time is the block's wall-clock duration in milliseconds. A
        block that raises makes a failed row with the exception's message, and
        the exception goes on up; a user stopped mid-block makes no row.
        """
        fire = self.environment.events.request.fire
        started = time.perf_counter()
        try:
            yield
        except Exception as error:
            elapsed_ms = (time.perf_counter() - started) * 1000
            path = None
            if self._page is not None:
                path = get_bridge().run(capture(self._page._impl, "STEP", name))
            error = with_artifact(error, path)
            fire_row(fire, "STEP", name, elapsed_ms, exception=error)
            raise
        fire_row(fire, "STEP", name, (time.perf_counter() - started) * 1000)

    def start(self, group: Group) -> gevent.Greenlet:
        """Start the greenlet that opens the page, runs the user, closes it."""
        # Locust finds the user of a greenlet as its first argument.
        self._greenlet = group.spawn(_run_browser_user, self)
        self._group = group
        return self._greenlet

    def _open_session(self) -> None:
        bridge = get_bridge()
        runtime = Runtime(bridge, WaitReporter(self.environment.events.request))
        options = dict(self.context_options)
        host = self.host or self.environment.host
        if host and "base_url" not in options:
            options["base_url"] = host

        grouper = URLGrouper(base_url=host, rules=self.url_groups)
        events = self.environment.events
        network = NetworkRows(
            _network_types(type(self), self.environment), grouper, events.request.fire
        )
        vitals = VitalsReporter(events.request, grouper)

        def attach(page: Any) -> None:
            attach_handler(page, runtime)
            network.attach(page)

        context, page = bridge.run(
            _provider.open_session(
                executable=_executable_option(self.environment),
                options=options,
                attach=attach,
                vitals=vitals.report,
                blocked=_blocked_types(self.environment),
            ),
            cancel_on_exit=False,
            on_abandon=lambda session: asyncio.ensure_future(
                _provider.close_session(*session)
            ),
        )
        self._context = ContextProxy(context, runtime)
        self._page = PageProxy(page, runtime)
        if self.default_timeout is not None:
            self._context.set_default_timeout(self.default_timeout)

    def _close_session(self) -> None:
        context, page = self._context, self._page
        self._context = self._page = None
        if context is None or page is None:
            return
        handler = page.response_handler
        get_bridge().run(
            _provider.close_session(context._impl, page._impl), cancel_on_exit=False
        )
        _waits_of_closed_pages.update(dataclasses.asdict(handler.statistics()))


def browser_statistics() -> BrowserStatistics:
    """Count the browsers, contexts and pages this process holds open."""
    bridge = get_bridge()
    if not bridge.is_running:
        return BrowserStatistics(0, 0, 0, 0)
    return _provider.statistics()


def shutdown() -> None:
    """Close this process's browser, its driver and the event loop.

    Locust's ``quit`` event calls it; tests that run users without the
    ``locust`` command call it themselves.
    """
    bridge = get_bridge()
    if not bridge.is_running:
        return
    try:
        bridge.run(drain_reports(), cancel_on_exit=False)
        left = _provider.statistics()
        bridge.run(_provider.close(), cancel_on_exit=False)
    finally:
        bridge.close()
    waits = _waits_of_closed_pages
    logger.info(
        "locust-browser closed the browser: %d waits (%d matched, %d timed out, "
        "%d cancelled, %d rejected), %d waiters, %d contexts and %d pages left open",
        waits["registered"],
        waits["matched"],
        waits["timed_out"],
        waits["cancelled"],
        waits["rejected"],
        waits["active"],
        left.contexts,
        left.pages,
    )


def _run_browser_user(user: BrowserUser) -> None:
    user._open_session()
    try:
        user.run()  # type: ignore[no-untyped-call]
    finally:
        user._close_session()


def _executable_option(environment: Environment) -> str | None:
    options = environment.parsed_options
    return getattr(options, "browser_executable", None) if options else None


def _network_types(cls: type[BrowserUser], environment: Environment) -> frozenset[str]:
    if cls.network_rows is not None:
        return parse_resource_types(cls.network_rows)
    options = environment.parsed_options
    return parse_resource_types(getattr(options, "network_rows", None))


def _blocked_types(environment: Environment) -> frozenset[str]:
    options = environment.parsed_options
    return parse_blocked(getattr(options, "block_resources", None))


def _uses_browser(environment: Environment) -> bool:
    return any(issubclass(cls, BrowserUser) for cls in environment.user_classes)


def _add_options(parser: Any, **_kwargs: Any) -> None:
    group = parser.add_argument_group("locust-browser")
    group.add_argument(
        "--network-rows",
        type=str,
        default=None,
        env_var="LOCUST_BROWSER_NETWORK_ROWS",
        help="resource types whose requests become rows, comma-separated: "
        "document, xhr, fetch (the default), script, image, font, ..., or all, "
        "or none",
    )
    group.add_argument(
        "--block-resources",
        type=str,
        default=None,
        env_var="LOCUST_BROWSER_BLOCK_RESOURCES",
        help="resource types the browser does not load, comma-separated: image, "
        "font, media, or none (the default)",
    )
    group.add_argument(
        "--artifacts-dir",
        type=str,
        default="artifacts",
        env_var="LOCUST_BROWSER_ARTIFACTS_DIR",
        help="where screenshots of failed WAIT and STEP rows go; empty for none",
    )
    group.add_argument(
        "--max-artifacts",
        type=int,
        default=20,
        env_var="LOCUST_BROWSER_MAX_ARTIFACTS",
        help="how many failures of a run are captured at most",
    )
    group.add_argument(
        "--trace-on-failure",
        action="store_true",
        default=False,
        env_var="LOCUST_BROWSER_TRACE_ON_FAILURE",
        help="record Playwright traces and save the recent part on failure",
    )
    group.add_argument(
        "--browser-executable",
        type=str,
        default=None,
        env_var=ENV_EXECUTABLE,
        help="Chromium or headless shell to launch, instead of the one found "
        "by searching Playwright's browsers and the system",
    )


def _check_setup(environment: Environment, **_kwargs: Any) -> None:
    # A missing browser is a set-up error: say so before any load starts.
    if isinstance(environment.runner, MasterRunner) or not _uses_browser(environment):
        return
    try:
        choice = resolve_browser(_executable_option(environment))
        _blocked_types(environment)
        for cls in environment.user_classes:
            if issubclass(cls, BrowserUser):
                _network_types(cls, environment)
                URLGrouper(base_url=cls.host or environment.host, rules=cls.url_groups)
    except (BrowserNotFoundError, ValueError, TypeError) as error:
        logger.error("%s", error)
        sys.exit(1)
    options = environment.parsed_options
    if options is not None:
        configure(
            options.artifacts_dir,
            options.max_artifacts,
            trace=options.trace_on_failure,
        )
    logger.info("Browser users will run in %s", choice.describe())


def _close_browser(**_kwargs: Any) -> None:
    shutdown()


locust.events.init_command_line_parser.add_listener(_add_options)
locust.events.init.add_listener(_check_setup)
locust.events.quit.add_listener(_close_browser)
