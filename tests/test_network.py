"""Network rows, URL grouping and steps, in a real browser against the demo shop."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from typing import Any

import pytest
from locust import constant
from locust.env import Environment

import locust_browser
from locust_browser import BrowserUser
from locust_browser._blocking import (
    blocking_launch_args,
    media_url_patterns,
    parse_blocked,
)
from locust_browser._grouping import URLGrouper, group_path
from locust_browser._network import (
    DEFAULT_RESOURCE_TYPES,
    RESOURCE_TYPES,
    parse_resource_types,
)

from .conftest import Rows, free_port, session_of, wait_until


class Browsing(BrowserUser):
    """A user the tests drive by hand, with the default network rows."""

    wait_time = constant(0)


class Everything(Browsing):
    network_rows = "all"
    url_groups = [(re.compile(r"/static/products/"), "product images")]


class Quiet(Browsing):
    network_rows = "none"


@pytest.fixture
def browsing(environment: Environment) -> Iterator[Browsing]:
    with session_of(Browsing(environment)) as user:
        yield user


def network_rows(rows: Rows) -> list[tuple[str, str]]:
    return [
        (row.request_type, row.name)
        for row in rows.rows
        if row.request_type not in ("WAIT", "STEP", "VITAL")
    ]


@pytest.mark.parametrize(
    ("path", "grouped"),
    [
        ("/products/12", "/products/{id}"),
        ("/api/orders/3f2a9c1e-1b2c-4d5e-8f90-123456789abc", "/api/orders/{id}"),
        ("/assets/deadbeefdeadbeef00/app.js", "/assets/{id}/app.js"),
        ("/api/v2/products", "/api/v2/products"),
        ("/beef/cafe", "/beef/cafe"),
        ("", "/"),
    ],
)
def test_id_segments_become_one_group(path: str, grouped: str) -> None:
    assert group_path(path) == grouped


def test_grouping_drops_queries_names_other_hosts_and_obeys_rules_first() -> None:
    grouper = URLGrouper(
        base_url="http://127.0.0.1:8000",
        rules=[("**/api/search?*", "search"), (re.compile(r"/api/cart$"), "cart")],
    )

    assert grouper.name("http://127.0.0.1:8000/products/7?ref=home") == "/products/{id}"
    assert grouper.name("http://127.0.0.1:8000/api/search?q=lamp") == "search"
    assert grouper.name("http://127.0.0.1:8000/api/cart") == "cart"
    assert grouper.name("https://cdn.test/lib/9/a.js") == "cdn.test/lib/{id}/a.js"


def test_bad_grouping_rule_and_resource_type_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\{a"):
        URLGrouper(rules=[("**/{a", "x")])
    with pytest.raises(ValueError, match="'images'.*document"):
        parse_resource_types("document,images")
    assert parse_resource_types(None) == DEFAULT_RESOURCE_TYPES
    assert parse_resource_types("none") == frozenset()
    assert parse_resource_types("all") == RESOURCE_TYPES


def test_blocked_types_are_checked_and_become_switches_and_patterns() -> None:
    assert parse_blocked(None) == parse_blocked("none") == frozenset()
    assert parse_blocked(" Image, font ") == {"image", "font"}
    assert parse_blocked(["media"]) == {"media"}
    with pytest.raises(ValueError, match="'script'.*image, font, media"):
        parse_blocked("image,script")

    assert blocking_launch_args({"font"}) == ["--disable-remote-fonts"]
    [images] = blocking_launch_args({"image", "media"})
    assert images.endswith(",imagesEnabled=false")
    assert media_url_patterns({"image"}) == []
    assert {"*.mp4", "*.mp4?*"} <= set(media_url_patterns({"media"}))


SHOP_PAGE = """() => ({
  images: [...document.querySelectorAll(".product img")]
    .filter((image) => image.naturalWidth > 0).length,
  fonts: [...document.fonts]
    .filter((face) => face.family.includes("Shop Glyphs"))
    .map((face) => face.status),
  hover: matchMedia("(hover: hover)").matches,
  pointer: matchMedia("(pointer: fine)").matches,
})"""

MEDIA_FETCH = """async () => {
  try { await fetch("/static/intro.mp4?v=2"); return "fetched"; }
  catch (error) { return "refused"; }
}"""


SHOWN = "() => document.querySelectorAll('.product img').length > 0"

IMAGES_SETTLED = """() => {
  const images = [...document.querySelectorAll(".product img")];
  return images.length > 0 && images.every((image) => image.complete);
}"""


def open_shop(environment: Environment, blocked: str | None) -> dict[str, Any]:
    """Open the shop in a browser launched for *blocked*; return what it drew."""
    # Blocking is set at launch: each run gets a browser of its own.
    locust_browser.shutdown()
    environment.parsed_options = argparse.Namespace(block_resources=blocked)
    try:
        with session_of(Everything(environment)) as user:
            with user.page.expect_response("**/api/products?page=1"):
                user.page.goto("/")
            # A browser that loads no images never completes them.
            user.page.wait_for_function(IMAGES_SETTLED if blocked is None else SHOWN)
            user.page.evaluate("() => document.fonts.ready")
            drawn: dict[str, Any] = user.page.evaluate(SHOP_PAGE)
            drawn["media"] = user.page.evaluate(MEDIA_FETCH)
    finally:
        locust_browser.shutdown()
    return drawn


@pytest.mark.browser
def test_blocked_images_fonts_and_media_never_load_and_make_no_rows(
    environment: Environment, rows: Rows
) -> None:
    shown = open_shop(environment, None)
    wait_until(
        lambda: (
            {"product images", "/static/glyphs.ttf"}
            <= {name for _, name in network_rows(rows)}
        ),
        message="the image and font rows",
    )
    rows.rows.clear()
    lean = open_shop(environment, "image,font,media")
    lean_rows = {name for _, name in network_rows(rows)}

    assert shown["images"] > 0
    assert lean["images"] == 0
    assert (shown["fonts"], lean["fonts"]) == (["loaded"], ["error"])
    assert (shown["media"], lean["media"]) == ("fetched", "refused")
    # Playwright's own settings for headless pages survive the image switch.
    assert (lean["hover"], lean["pointer"]) == (shown["hover"], shown["pointer"])
    assert "/api/products" in lean_rows
    assert not lean_rows & {"product images", "/static/glyphs.ttf", "/static/intro.mp4"}
    assert rows.failures() == []


@pytest.mark.browser
def test_journey_over_ids_makes_a_handful_of_grouped_rows(
    browsing: Browsing, rows: Rows
) -> None:
    for product in (3, 17, 42):
        with browsing.page.expect_response(f"**/api/products/{product}"):
            browsing.page.goto(f"/products/{product}")
    wait_until(lambda: len(network_rows(rows)) >= 6, message="network rows")

    names = set(network_rows(rows))
    assert ("GET", "/products/{id}") in names
    assert ("GET", "/api/products/{id}") in names
    assert not any(re.search(r"\d", name) for _, name in names)
    assert all(row.exception is None for row in rows.rows)
    assert all(row.response_time >= 0 for row in rows.rows)


@pytest.mark.browser
def test_error_status_is_a_failed_network_row(browsing: Browsing, rows: Rows) -> None:
    browsing.page.goto("/lab")
    with browsing.page.expect_response("**/api/status/500"):
        browsing.page.click("#error")

    wait_until(
        lambda: any(r.name == "/api/status/{id}" for r in rows.rows), message="row"
    )
    [row] = [r for r in rows.rows if r.name == "/api/status/{id}"]
    assert (row.request_type, str(row.exception)) == (
        "GET",
        "HTTP 500 Internal Server Error",
    )


@pytest.mark.browser
def test_refused_connection_is_a_failed_row_named_by_its_host(
    browsing: Browsing, rows: Rows
) -> None:
    port = free_port()
    browsing.page.goto("/lab")

    browsing.page.evaluate(f"fetch('http://127.0.0.1:{port}/api/x').catch(() => 0)")

    name = f"127.0.0.1:{port}/api/x"
    wait_until(lambda: rows.named(name), message="the refused request's row")
    [row] = rows.named(name)
    assert "net::ERR_CONNECTION_REFUSED" in str(row.exception)


@pytest.mark.browser
def test_resource_types_and_rules_come_from_the_user_class(
    environment: Environment, rows: Rows
) -> None:
    with session_of(Everything(environment)) as user:
        with user.page.expect_response("**/api/products?page=1"):
            user.page.goto("/")
        user.page.locator(".product img").first.wait_for()
    with session_of(Quiet(environment)) as user:
        user.page.goto("/")

    names = {name for _, name in network_rows(rows)}
    assert "product images" in names
    assert any(name.endswith(".js") for name in names)
    assert len(network_rows(rows)) == len(
        [row for row in rows.rows if row.request_type == "GET"]
    )


@pytest.mark.browser
def test_step_times_a_block_and_fails_when_it_raises(
    browsing: Browsing, rows: Rows
) -> None:
    with browsing.step("open the shop"):
        browsing.page.goto("/")
    with pytest.raises(ZeroDivisionError), browsing.step("broken step"):
        1 / 0  # noqa: B018

    [ok] = rows.named("open the shop")
    [broken] = rows.named("broken step")
    assert (ok.request_type, ok.exception) == ("STEP", None)
    assert ok.response_time > 0
    assert broken.request_type == "STEP"
    assert "division by zero" in str(broken.exception)
