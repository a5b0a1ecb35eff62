"""The demo shop: its API and knobs over HTTP, and its pages in a real browser."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
from locust import constant
from locust.env import Environment

from locust_browser import BrowserUser
from locust_browser.demo import DemoProcess, start
from locust_browser.demo._server import DemoServer

from .conftest import Rows, demo_processes, session_of, wait_until


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


class Client:
    """An HTTP client with cookies of its own, as a browser context has."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = CookieJar()
        self._opener = build_opener(HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> Answer:
        return self._call(Request(self.base_url + path))

    def post(self, path: str, body: object = None) -> Answer:
        data = json.dumps({} if body is None else body).encode()
        headers = {"content-type": "application/json"}
        return self._call(Request(self.base_url + path, data, headers, method="POST"))

    def timed_get(self, path: str) -> tuple[Answer, float]:
        """Return the answer and the seconds it took."""
        began = time.perf_counter()
        answer = self.get(path)
        return answer, time.perf_counter() - began

    def log_in(self, username: str = "ann") -> Answer:
        return self.post("/api/login", {"username": username, "password": "secret"})

    def _call(self, request: Request) -> Answer:
        try:
            with self._opener.open(request, timeout=20) as response:
                return Answer(response.status, response.headers, response.read())
        except HTTPError as error:
            with error:
                return Answer(error.code, error.headers, error.read())


def body(answer: Answer) -> dict[str, object]:
    value = answer.json()
    assert isinstance(value, dict), value
    return value


def names(answer: Answer) -> list[str]:
    products = body(answer)["products"]
    assert isinstance(products, list)
    return [product["name"] for product in products]


@pytest.fixture
def client(demo_server: DemoProcess) -> Client:
    return Client(demo_server.url)


Serve = Callable[..., DemoProcess]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start demo servers with knobs; stop every one at the end."""
    started: list[DemoProcess] = []

    def starter(**knobs: Any) -> DemoProcess:
        server = start(**knobs)
        started.append(server)
        return server

    yield starter
    for server in started:
        server.stop()


# The catalogue


def test_products_come_twelve_to_a_page_over_five_pages(client: Client) -> None:
    seen: list[int] = []
    for page in range(1, 6):
        answer = client.get(f"/api/products?page={page}")
        listing = body(answer)
        assert (answer.status, listing["page"], listing["pages"]) == (200, page, 5)
        assert isinstance(listing["products"], list)
        assert len(listing["products"]) == 12
        for product in listing["products"]:
            assert set(product) == {"id", "name", "price", "image"}
            seen.append(product["id"])

    assert sorted(seen) == list(range(1, 61))
    assert (
        client.get("/api/products").json() == client.get("/api/products?page=1").json()
    )
    assert client.get("/api/products?page=6").status == 404
    assert client.get("/api/products?page=two").status == 400


def test_unknown_product_is_404_and_a_known_one_has_its_details(
    client: Client,
) -> None:
    product = body(client.get("/api/products/7"))

    assert product["id"] == 7
    assert {"name", "price", "image", "description"} <= set(product)
    assert client.get("/api/products/61").status == 404
    assert client.get("/api/products/0").status == 404
    assert client.get("/api/products/seven").status == 404


def test_search_finds_names_containing_the_query_in_any_case(client: Client) -> None:
    lamps = names(client.get("/api/search?q=LaMp"))

    assert len(lamps) == 5
    assert all("lamp" in name.lower() for name in lamps)
    assert names(client.get("/api/search?q=nordic%20m")) == ["Nordic mug"]
    assert names(client.get("/api/search?q=zebra")) == []


# Sessions, carts and orders


def test_login_sets_an_http_only_session_cookie(client: Client) -> None:
    answer = client.log_in("ann")

    assert (answer.status, answer.json()) == (200, {"user": "ann"})
    cookie = answer.headers["set-cookie"]
    assert re.match(r"session=[\w-]+;", cookie)
    assert "HttpOnly" in cookie and "Path=/" in cookie
    empty_name = client.post("/api/login", {"username": "", "password": "x"})
    empty_password = client.post("/api/login", {"username": "ann", "password": ""})
    assert (empty_name.status, empty_password.status) == (401, 401)


def test_each_session_has_its_own_cart(demo_server: DemoProcess) -> None:
    ann, bob, anonymous = (Client(demo_server.url) for _ in range(3))
    ann.log_in("ann")
    bob.log_in("bob")

    cart = body(ann.post("/api/cart", {"product_id": 3, "quantity": 2}))
    anonymous.post("/api/cart", {"product_id": 5, "quantity": 1})

    assert cart["count"] == 2
    assert body(ann.get("/api/cart")) == cart
    assert body(bob.get("/api/cart"))["count"] == 0
    assert body(anonymous.get("/api/cart"))["count"] == 1
    assert "cart" in {cookie.name for cookie in anonymous.cookies}
    assert ann.post("/api/cart", {"product_id": 99}).status == 404
    assert ann.post("/api/cart", {"product_id": 3, "quantity": 0}).status == 400


def test_logging_in_keeps_what_the_anonymous_cart_held(client: Client) -> None:
    client.post("/api/cart", {"product_id": 8, "quantity": 1})

    client.log_in()

    assert body(client.get("/api/cart"))["count"] == 1


def test_checkout_needs_a_login_and_a_cart_and_empties_it(client: Client) -> None:
    client.post("/api/cart", {"product_id": 1, "quantity": 1})
    assert client.post("/api/checkout").status == 401

    client.log_in()
    placed = client.post("/api/checkout")
    again = client.post("/api/checkout")

    assert placed.status == 201
    assert isinstance(body(placed)["order_id"], int)
    assert body(client.get("/api/cart"))["count"] == 0
    assert again.status == 400


def place_order(client: Client) -> tuple[int, float]:
    """Log in, buy one thing; return the order id and when checkout began."""
    client.log_in()
    client.post("/api/cart", {"product_id": 2, "quantity": 1})
    began = time.monotonic()
    order_id = body(client.post("/api/checkout"))["order_id"]
    assert isinstance(order_id, int)
    return order_id, began


def wait_for_confirmation(client: Client, order_id: int) -> float:
    """Wait until the order is confirmed; return when it first was."""
    states = []

    def is_confirmed() -> bool:
        response = client.get(f"/api/orders/{order_id}")
        states.append(body(response)["status"])
        assert response.status == {"pending": 202, "confirmed": 200}[states[-1]]
        return states[-1] == "confirmed"

    wait_until(is_confirmed, timeout=10, message=f"order {order_id} confirmed")
    assert states[0] == "pending"
    assert set(states) == {"pending", "confirmed"}
    return time.monotonic()


def test_order_is_pending_until_a_second_after_checkout(client: Client) -> None:
    order_id, began = place_order(client)

    confirmed = wait_for_confirmation(client, order_id)

    assert confirmed - began >= 1.0
    assert client.get("/api/orders/999999").status == 404


def test_order_confirmation_delay_is_a_knob(serve: Serve) -> None:
    client = Client(serve(confirm_after=0.3).url)
    order_id, began = place_order(client)

    confirmed = wait_for_confirmation(client, order_id)

    # The default delay, a second, would not be over yet.
    assert 0.3 <= confirmed - began < 0.95


# Pages, assets and HTTP


def test_shop_paths_serve_one_page_and_the_lab_is_at_lab(client: Client) -> None:
    shop = client.get("/")
    lab = client.get("/lab")

    assert b"<title>Demo shop" in shop.body
    for path in ["/cart", "/login", "/products/4", "/orders/1001"]:
        assert client.get(path).body == shop.body
    assert b"<title>locust-browser demo</title>" in lab.body
    assert b'id="load"' in lab.body and b'id="error"' in lab.body
    assert client.get("/api/fast").json() == {"ok": True}
    assert client.post("/api/anything").status == 201
    assert client.get("/api/status/503").status == 503
    assert client.get("/nowhere").status == 404


def test_api_is_never_stored_and_assets_are_cached(client: Client) -> None:
    api = client.get("/api/products?page=1")
    picture = client.get("/static/products/1.png")
    font = client.get("/static/glyphs.ttf")

    assert api.headers["cache-control"] == "no-store"
    assert client.get("/api/cart").headers["cache-control"] == "no-store"
    assert client.get("/").headers["cache-control"] == "no-cache"
    assert "max-age" in picture.headers["cache-control"]
    assert (picture.headers["content-type"], font.headers["content-type"]) == (
        "image/png",
        "font/ttf",
    )
    assert picture.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert 2_000 < len(picture.body) < 100_000
    assert font.body.startswith(b"\x00\x01\x00\x00")
    assert all(tag in font.body[:400] for tag in [b"cmap", b"glyf", b"OS/2"])


def test_connection_is_kept_alive_across_requests(demo_server: DemoProcess) -> None:
    host, port = demo_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for path in ["/", "/api/products?page=1", "/static/shop.js"]:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
    finally:
        connection.close()


def test_client_that_hangs_up_is_logged_at_debug_without_a_traceback(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="locust_browser.demo._server")
    server = DemoServer()
    serving = threading.Thread(target=server.serve_forever, args=(0.05,))
    serving.start()
    try:
        # Ask for a slow answer, then reset the connection before it comes.
        rude = socket.create_connection(server.server_address[:2])
        rude.sendall(b"GET /api/slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n")
        rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rude.close()
        wait_until(lambda: "hung up" in caplog.text, message="the hang-up logged")
    finally:
        server.shutdown()
        serving.join(10)
        server.server_close()

    assert "Traceback" not in capfd.readouterr().err
    ours = [r for r in caplog.records if r.name.startswith("locust_browser.demo")]
    assert ours and all(record.levelno == logging.DEBUG for record in ours)


# Knobs


def test_latency_is_added_per_endpoint_by_longest_prefix_or_globally(
    serve: Serve,
) -> None:
    client = Client(
        serve(latency_ms=100, latency={"/api/products/": 300, "/api/search": 600}).url
    )

    _, listing = client.timed_get("/api/products?page=1")
    _, product = client.timed_get("/api/products/3")
    _, search = client.timed_get("/api/search?q=mug")
    _, picture = client.timed_get("/static/products/2.png")

    assert 0.1 <= listing < 0.3
    assert 0.3 <= product < 0.6
    assert search >= 0.6
    assert picture < 0.1


def test_jitter_adds_up_to_its_milliseconds_at_random(serve: Serve) -> None:
    client = Client(serve(latency_ms=50, jitter_ms=150).url)

    delays = [client.timed_get("/api/cart")[1] for _ in range(8)]

    assert all(0.05 <= delay < 0.5 for delay in delays)
    assert max(delays) - min(delays) > 0.01


def test_error_rate_one_fails_the_shop_api_but_not_the_lab(serve: Serve) -> None:
    client = Client(serve(error_rate=1.0).url)

    shop = [
        client.get("/api/products?page=1"),
        client.get("/api/products/3"),
        client.get("/api/search?q=mug"),
        client.get("/api/cart"),
        client.post("/api/cart", {"product_id": 1}),
        client.log_in(),
        client.post("/api/checkout"),
        client.get("/api/orders/1001"),
    ]
    lab = [client.get("/api/fast"), client.get("/api/items"), client.post("/api/x")]

    assert {answer.status for answer in shop} == {500}
    assert [answer.status for answer in lab] == [200, 200, 201]
    assert client.get("/").status == client.get("/static/shop.js").status == 200


def test_error_rate_zero_fails_nothing(client: Client) -> None:
    statuses = {client.get(f"/api/products?page={n % 5 + 1}").status for n in range(40)}

    assert statuses == {200}


def test_error_rate_fails_about_that_fraction(serve: Serve) -> None:
    client = Client(serve(error_rate=0.5).url)

    failed = sum(client.get("/api/products/1").status == 500 for _ in range(200))

    assert 50 < failed < 150


def test_environment_sets_knobs_and_keywords_win(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_ERROR_RATE", "1")

    from_environment = Client(serve().url)
    overridden = Client(serve(error_rate=0).url)

    assert from_environment.get("/api/products/1").status == 500
    assert overridden.get("/api/products/1").status == 200


@pytest.mark.parametrize(
    ("arguments", "environment", "named"),
    [
        (["--error-rate", "1.5"], {}, "--error-rate"),
        (["--latency-ms", "-1"], {}, "--latency-ms"),
        (["--latency", "checkout=400"], {}, "--latency"),
        ([], {"DEMO_JITTER_MS": "soon"}, "DEMO_JITTER_MS"),
        ([], {"DEMO_CONFIRM_AFTER": "-2"}, "DEMO_CONFIRM_AFTER"),
        ([], {"DEMO_LATENCY": "/api/cart=fast"}, "DEMO_LATENCY"),
    ],
)
def test_bad_knob_is_an_error_naming_it_before_listening(
    arguments: list[str], environment: dict[str, str], named: str
) -> None:
    command = [sys.executable, "-m", "locust_browser.demo", "--port", "0"]

    done = subprocess.run(
        [*command, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **environment},
    )

    assert done.returncode != 0
    assert "listening" not in done.stdout
    assert f"error: {named}" in done.stderr


def test_start_refuses_a_bad_knob_without_starting_anything() -> None:
    before = demo_processes()

    with pytest.raises(ValueError, match="error_rate: '2' is not a fraction"):
        start(error_rate=2)
    with pytest.raises(ValueError, match="latency: 'checkout=1' is not PATH=MS"):
        start(latency={"checkout": 1})

    assert demo_processes() == before


def test_stopped_server_leaves_no_process_and_no_listener() -> None:
    server = start()
    pid = server.process.pid
    port = int(server.url.rsplit(":", 1)[1])
    assert pid in demo_processes()

    server.stop()

    assert pid not in demo_processes()
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


# In a real browser


class Shopper(BrowserUser):
    """A user the test drives by hand, from the test's own greenlet."""

    wait_time = constant(0)


@pytest.fixture
def shopper(environment: Environment) -> Iterator[Shopper]:
    with session_of(Shopper(environment)) as user:
        yield user


@pytest.mark.browser
def test_shopper_browses_searches_buys_and_sees_the_order_confirmed(
    shopper: Shopper, rows: Rows
) -> None:
    page = shopper.page
    loaded: list[tuple[str, int, str]] = []
    page.on(
        "response",
        lambda response: loaded.append(
            (response.request.resource_type, response.status, response.url)
        ),
    )

    with page.expect_response("**/api/products?page=1", name="list"):
        page.goto("/")
    page.locator(".product").nth(11).wait_for()
    assert page.locator("#products .product").count() == 12
    assert page.locator(".product img").count() == 12
    with page.expect_response("**/api/products?page=2", name="next page"):
        page.get_by_role("button", name="Next page").click()
    page.locator(".product[data-id='13']").wait_for()

    with page.expect_response("**/api/search?q=*", name="search") as search:
        page.locator("#search").press_sequentially("chair")
    assert search.value.url.endswith("q=chair")
    page.locator("#search-results .result").nth(4).wait_for()
    assert page.locator("#search-results .result").count() == 5

    links = page.locator("#search-results .result a")
    assert links.first.get_attribute("href") == "/products/2"

    with page.expect_response("**/api/products/*", name="product"):
        page.locator("a.product-link").last.click()
    assert page.locator("#product-name").inner_text() == "Rustic blanket"
    assert page.locator("#product img").count() == 1
    with page.expect_response("**/api/cart", method="POST", name="add to cart"):
        page.get_by_role("button", name="Add to cart").click()
    page.locator("#cart-count", has_text="1").wait_for()

    page.click("#login-link")
    page.fill("#username", "ann")
    page.fill("#password", "secret")
    with page.expect_response("**/api/login", name="log in"):
        page.get_by_role("button", name="Log in").click()
    assert page.locator("#user-name").inner_text() == "ann"

    with page.expect_response("**/api/cart", name="view cart"):
        page.click("#cart-link")
    page.locator(".cart-item").first.wait_for()
    with page.expect_response("**/api/checkout", name="check out") as checkout:
        page.get_by_role("button", name="Check out").click()
    order_id = checkout.value.json()["order_id"]
    page.locator("#order-status", has_text="confirmed").wait_for(timeout=10_000)
    assert page.url.endswith(f"/orders/{order_id}")

    kinds = {(kind, status) for kind, status, _ in loaded}
    assert ("image", 200) in kinds and ("font", 200) in kinds
    assert any(url.endswith("/static/glyphs.ttf") for *_, url in loaded)
    assert page.evaluate("[...document.fonts].map((font) => font.status)") == ["loaded"]
    assert rows.failures() == []
