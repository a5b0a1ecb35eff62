"""The demo shop's catalogue, sessions, carts and orders, and its JSON API.

Design note: the API is a table of ``(method, path pattern, handler)``; a
handler takes an :class:`ApiRequest` and returns a :class:`Reply` and never
touches the socket, so the HTTP server decides about latency and injected
errors before a handler runs. State lives in memory behind one lock, in
bounded tables that forget their oldest entries, so a long load test cannot
grow the server without limit. An order's status is computed when it is read
(pending until ``confirm_after`` seconds after checkout), so no timer runs.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["PAGE_SIZE", "PRODUCTS", "ApiRequest", "Product", "Reply", "Shop"]

PAGE_SIZE = 12
"""Products per page of ``GET /api/products``."""

IMAGES = 6
"""Distinct product pictures; product *n* shows picture ``(n - 1) % IMAGES + 1``."""

TABLE_SIZE = 100_000
"""Sessions, carts and orders each kept at most; the oldest go first."""

_STYLES = ["Nordic", "Rustic", "Compact", "Classic", "Studio"]
_THINGS = [
    ("lamp", 39),
    ("chair", 89),
    ("mug", 12),
    ("desk", 249),
    ("plant", 19),
    ("shelf", 79),
    ("rug", 129),
    ("clock", 34),
    ("vase", 24),
    ("stool", 59),
    ("kettle", 45),
    ("blanket", 49),
]


@dataclass(frozen=True)
class Product:
    """One product of the catalogue."""

    id: int
    name: str
    price: float
    image: str

    def summary(self) -> dict[str, object]:
        """Return the product as the list and search endpoints show it."""
        return {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "image": self.image,
        }


def _catalogue() -> dict[int, Product]:
    products = {}
    for number in range(1, len(_STYLES) * len(_THINGS) + 1):
        # One page holds one of each thing, so every page looks different.
        style = _STYLES[(number - 1) // len(_THINGS)]
        thing, base = _THINGS[(number - 1) % len(_THINGS)]
        price = round(base * (1 + 0.15 * _STYLES.index(style)) - 0.01, 2)
        image = f"/static/products/{(number - 1) % IMAGES + 1}.png"
        products[number] = Product(number, f"{style} {thing}", price, image)
    return products


PRODUCTS = _catalogue()
"""The 60 products, by id."""


@dataclass(frozen=True)
class ApiRequest:
    """What a handler needs of an HTTP request."""

    method: str
    path: str
    query: Mapping[str, str]
    body: bytes
    cookies: Mapping[str, str]


@dataclass
class Reply:
    """A JSON response: its status, body and any cookies to set."""

    status: int
    body: object
    cookies: list[str] = field(default_factory=list)


_K = TypeVar("_K")
_V = TypeVar("_V")


class _Bounded(OrderedDict[_K, _V]):
    """A dict that forgets its oldest entries beyond *limit*."""

    def __init__(self, limit: int = TABLE_SIZE) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: _K, value: _V) -> None:
        super().__setitem__(key, value)
        if len(self) > self.limit:
            self.popitem(last=False)


@dataclass
class _Order:
    id: int
    items: dict[int, int]
    placed_at: float


_Handler = Callable[["Shop", ApiRequest, "tuple[str, ...]"], Reply]


class Shop:
    """The shop's state and API; safe to call from many threads or greenlets.

    Args:
        confirm_after: Seconds an order stays pending after checkout.
        clock: The monotonic clock orders are timed by, in seconds.
    """

    def __init__(
        self,
        confirm_after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.confirm_after = confirm_after
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: _Bounded[str, str] = _Bounded()
        self._carts: _Bounded[str, dict[int, int]] = _Bounded()
        self._orders: _Bounded[int, _Order] = _Bounded()
        self._order_ids = itertools.count(1001)

    def find(self, method: str, path: str) -> Callable[[ApiRequest], Reply] | None:
        """Return the handler of a shop API request, or ``None`` if none is.

        A known path asked with the wrong method gets a handler answering 405.
        """
        for pattern, methods in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = methods.get(method)
            if handler is None:
                return lambda _request: Reply(405, {"error": "method not allowed"})
            groups = match.groups()
            return lambda request: handler(self, request, groups)
        return None

    # Catalogue

    def _products(self, request: ApiRequest, _: tuple[str, ...]) -> Reply:
        pages = -(-len(PRODUCTS) // PAGE_SIZE)
        page = _integer(request.query.get("page", "1"))
        if page is None:
            return Reply(400, {"error": "page must be a whole number"})
        if not 1 <= page <= pages:
            return Reply(404, {"error": f"no page {page}: pages go from 1 to {pages}"})
        first = (page - 1) * PAGE_SIZE + 1
        last = min(first + PAGE_SIZE, len(PRODUCTS) + 1)
        chosen = [PRODUCTS[n].summary() for n in range(first, last)]
        return Reply(200, {"page": page, "pages": pages, "products": chosen})

    def _product(self, request: ApiRequest, groups: tuple[str, ...]) -> Reply:
        product = PRODUCTS.get(int(groups[0]))
        if product is None:
            return Reply(404, {"error": f"no product {groups[0]}"})
        description = f"A {product.name.lower()}, picked for the demo shop."
        return Reply(200, {**product.summary(), "description": description})

    def _search(self, request: ApiRequest, _: tuple[str, ...]) -> Reply:
        query = request.query.get("q", "").strip()
        needle = query.casefold()
        found = [
            product.summary()
            for product in PRODUCTS.values()
            if needle and needle in product.name.casefold()
        ]
        return Reply(200, {"query": query, "products": found})

    # Sessions and carts

    def _login(self, request: ApiRequest, _: tuple[str, ...]) -> Reply:
        body = _json_object(request.body)
        if body is None:
            return Reply(400, {"error": "the body must be a JSON object"})
        username, password = body.get("username"), body.get("password")
        if not (isinstance(username, str) and username.strip()):
            return Reply(401, {"error": "a username and a password are required"})
        if not (isinstance(password, str) and password):
            return Reply(401, {"error": "a username and a password are required"})

        # A new session takes over whatever the anonymous cart held.
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._sessions[token] = username.strip()
            anonymous = self._carts.pop(_anonymous(request.cookies), {})
            self._carts[_signed_in(token)] = anonymous
        return Reply(200, {"user": username.strip()}, [_cookie("session", token)])

    def _cart(self, request: ApiRequest, _: tuple[str, ...]) -> Reply:
        key, cookies = self._cart_key(request.cookies)
        with self._lock:
            items = self._carts.get(key, {})
        return Reply(200, _cart_body(items), cookies)

    def _add_to_cart(self, request: ApiRequest, _: tuple[str, ...]) -> Reply:
        body = _json_object(request.body)
        if body is None:
            return Reply(400, {"error": "the body must be a JSON object"})
        product_id, quantity = body.get("product_id"), body.get("quantity", 1)
        if not _is_count(product_id, 1) or not _is_count(quantity, 1, 99):
            message = "product_id must be an id, quantity a number from 1 to 99"
            return Reply(400, {"error": message})
        assert isinstance(product_id, int) and isinstance(quantity, int)
        if product_id not in PRODUCTS:
            return Reply(404, {"error": f"no product {product_id}"})

        key, cookies = self._cart_key(request.cookies)
        with self._lock:
            items = self._carts.get(key, {})
            items[product_id] = items.get(product_id, 0) + quantity
            self._carts[key] = items
            reply = _cart_body(items)
        return Reply(200, reply, cookies)

    def _cart_key(self, cookies: Mapping[str, str]) -> tuple[str, list[str]]:
        # A signed-in user's cart is the session's; anyone else gets a cookie.
        with self._lock:
            if cookies.get("session") in self._sessions:
                return _signed_in(cookies["session"]), []
        if cookies.get("cart"):
            return _anonymous(cookies), []
        token = secrets.token_urlsafe(16)
        return _anonymous({"cart": token}), [_cookie("cart", token)]

    # Orders

    def _checkout(self, request: ApiRequest, _: tuple[str, ...]) -> Reply:
        token = request.cookies.get("session", "")
        with self._lock:
            if token not in self._sessions:
                return Reply(401, {"error": "log in to check out"})
            items = self._carts.pop(_signed_in(token), {})
            if not items:
                return Reply(400, {"error": "the cart is empty"})
            order = _Order(next(self._order_ids), items, self._clock())
            self._orders[order.id] = order
        return Reply(201, {"order_id": order.id})

    def _order(self, request: ApiRequest, groups: tuple[str, ...]) -> Reply:
        with self._lock:
            order = self._orders.get(int(groups[0]))
        if order is None:
            return Reply(404, {"error": f"no order {groups[0]}"})
        # 202 Accepted while pending, as a job API says "not yet": a wait
        # with status=200 then matches the confirming poll alone.
        if self._clock() - order.placed_at < self.confirm_after:
            return Reply(202, {"id": order.id, "status": "pending"})
        return Reply(200, {"id": order.id, "status": "confirmed"})


_ROUTES: list[tuple[re.Pattern[str], dict[str, _Handler]]] = [
    (re.compile(r"/api/products"), {"GET": Shop._products}),
    (re.compile(r"/api/products/([0-9]{1,9})"), {"GET": Shop._product}),
    (re.compile(r"/api/search"), {"GET": Shop._search}),
    (re.compile(r"/api/login"), {"POST": Shop._login}),
    (re.compile(r"/api/cart"), {"GET": Shop._cart, "POST": Shop._add_to_cart}),
    (re.compile(r"/api/checkout"), {"POST": Shop._checkout}),
    (re.compile(r"/api/orders/([0-9]{1,9})"), {"GET": Shop._order}),
]


def _cart_body(items: Mapping[int, int]) -> dict[str, object]:
    rows = [
        {**PRODUCTS[product_id].summary(), "product_id": product_id, "quantity": count}
        for product_id, count in items.items()
    ]
    total = round(sum(PRODUCTS[n].price * count for n, count in items.items()), 2)
    return {"items": rows, "count": sum(items.values()), "total": total}


def _cookie(name: str, value: str) -> str:
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Lax"


def _signed_in(token: str) -> str:
    return f"session:{token}"


def _anonymous(cookies: Mapping[str, str]) -> str:
    return f"cart:{cookies.get('cart', '')}"


def _integer(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _is_count(value: object, low: int, high: int = 2**31) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    )


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
