"""The whole journey through the demo shop, as a person would make it.

Log in, browse the products, search, add to the cart, check out, and wait for
the order to be confirmed (``--tags buy`` runs only the purchase, ``--tags
browse`` only the browsing). Each wait is named as a person would name it, so
Locust's report reads like the journey. Without ``-H`` the demo shop starts on
a free loopback port.
"""

import random

from locust import between, events, tag, task

from locust_browser import BrowserUser
from locust_browser.demo import serve_when_no_host

events.init.add_listener(serve_when_no_host)

SEARCHES = ["lamp", "chair", "mug", "desk", "plant"]


class Shopper(BrowserUser):
    wait_time = between(1, 3)

    def on_start(self):
        with self.page.expect_response("**/api/login", name="log in"):
            self.page.goto("/login")
            self.page.fill("#username", f"shopper-{id(self)}")
            self.page.fill("#password", "secret")
            self.page.click("#login-button")
        self.page.locator("#user-name").wait_for()

    @tag("browse")
    @task(3)
    def browse(self):
        with self.page.expect_response("**/api/products?page=1", name="product list"):
            self.page.goto("/")
        with self.page.expect_response("**/api/products?page=2", name="next page"):
            self.page.get_by_role("button", name="Next page").click()

    @tag("browse")
    @task(2)
    def search(self):
        self.page.goto("/")
        with self.page.expect_response("**/api/search?q=*", name="search") as info:
            self.page.locator("#search").press_sequentially(random.choice(SEARCHES))
        assert info.value.ok

    @tag("buy")
    @task(1)
    def buy(self):
        with self.page.expect_response("**/api/products?page=1", name="product list"):
            self.page.goto("/")
        self.page.locator(".product-link").nth(random.randrange(12)).click()
        with self.page.expect_response(
            "**/api/cart", method="POST", name="add to cart"
        ):
            self.page.get_by_role("button", name="Add to cart").click()

        # The whole purchase as the shopper lives it, from the cart to the
        # confirmation on screen, is a STEP row beside its WAIT rows.
        with self.step("purchase"):
            with self.page.expect_response("**/api/cart", name="view cart"):
                self.page.click("#cart-link")
            with self.page.expect_response("**/api/checkout", name="check out") as info:
                self.page.get_by_role("button", name="Check out").click()
            order = info.value.json()["order_id"]

            # The order page polls until the order is confirmed: wait for the
            # poll that says so (202 while pending, 200 once confirmed).
            self.page.wait_for_response(
                f"**/api/orders/{order}",
                status=200,
                name="order confirmed",
                timeout=10_000,
            )
            self.page.locator("#order-status", has_text="confirmed").wait_for()
