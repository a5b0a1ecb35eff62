"""Network rows, URL grouping and steps, in a real browser against the demo shop."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from locust import constant
from locust.env import Environment

from locust_browser import BrowserUser
from locust_browser._blocking import blocked_url_patterns, parse_blocked
from locust_browser._grouping import URLGrouper, group_path
from locust_browser._network import (
    DEFAULT_RESOURCE_TYPES,
    RESOURCE_TYPES,
    parse_resource_types,
)

from .conftest import Rows, session_of, wait_until


class Browsing(BrowserUser):
    """A user the tests drive by hand, with the default network rows."""

    wait_time = constant(0)


class Everything(Browsing):
    network_rows = "all"
    url_groups = [(re.compile(r"/static/products/"), "product images")]


class Quiet(Browsing):
    network_rows = "none"


class Lean(Everything):
    block_resources = "image,font"


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


def test_blocked_types_are_checked_and_become_extension_patterns() -> None:
    assert parse_blocked(None) == parse_blocked("none") == frozenset()
    assert parse_blocked(" Image, font ") == {"image", "font"}
    assert parse_blocked(["media"]) == {"media"}
    with pytest.raises(ValueError, match="'script'.*image, font, media"):
        parse_blocked("image,script")

    patterns = blocked_url_patterns({"font"})
    assert "*.woff2" in patterns
    assert "*.woff2?*" in patterns
    assert not any("png" in pattern for pattern in patterns)


IMAGES_SETTLED = """() => {
  const images = [...document.querySelectorAll(".product img")];
  return images.length > 0 && images.every((image) => image.complete);
}"""

IMAGES_DRAWN = """() => [...document.querySelectorAll(".product img")]
  .filter((image) => image.naturalWidth > 0).length"""

SHOP_FONT_STATUS = """() => [...document.fonts]
  .filter((face) => face.family.includes("Shop Glyphs"))
  .map((face) => face.status)"""


@pytest.mark.browser
def test_blocked_images_and_fonts_never_load_and_make_no_rows(
    environment: Environment, rows: Rows
) -> None:
    drawn, fonts = {}, {}
    for cls in (Everything, Lean):
        with session_of(cls(environment)) as user:
            with user.page.expect_response("**/api/products?page=1"):
                user.page.goto("/")
            user.page.wait_for_function(IMAGES_SETTLED)
            user.page.evaluate("() => document.fonts.ready")
            drawn[cls] = user.page.evaluate(IMAGES_DRAWN)
            fonts[cls] = user.page.evaluate(SHOP_FONT_STATUS)
        if cls is Everything:
            wait_until(
                lambda: (
                    {"product images", "/static/glyphs.ttf"}
                    <= {name for _, name in network_rows(rows)}
                ),
                message="the image and font rows",
            )
        loaded = {name for _, name in network_rows(rows)}
        rows.rows.clear()
        if cls is Lean:
            assert not loaded & {"product images", "/static/glyphs.ttf"}
            assert "/api/products" in loaded

    assert drawn[Everything] > 0
    assert drawn[Lean] == 0
    assert (fonts[Everything], fonts[Lean]) == (["loaded"], ["error"])
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
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
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
