"""A few browser users beside many plain HTTP users against the same shop.

The usual way to put real load on a server while measuring what a browser
sees: ``FastHttpUser`` users make most of the traffic, cheaply, and two
browser users report what a person would wait for under that load. Run it with
``locust -f locustfiles/hybrid.py -u 50``: two of the fifty users are browsers.
"""

import random

from locust import FastHttpUser, between, events, task

from locust_browser import BrowserUser
from locust_browser.demo import serve_when_no_host

events.init.add_listener(serve_when_no_host)

SEARCHES = ["lamp", "chair", "mug", "desk", "plant"]


class BrowserShopper(BrowserUser):
    fixed_count = 2
    wait_time = between(1, 2)

    @task
    def browse(self):
        with self.page.expect_response("**/api/products?page=1", name="product list"):
            self.page.goto("/")
        with self.page.expect_response("**/api/search?q=*", name="search"):
            self.page.locator("#search").press_sequentially(random.choice(SEARCHES))


class ApiShopper(FastHttpUser):
    wait_time = between(0.1, 0.5)

    @task(3)
    def products(self):
        page = random.randint(1, 5)
        self.client.get(f"/api/products?page={page}", name="/api/products?page=[n]")

    @task(2)
    def product(self):
        product = random.randint(1, 60)
        self.client.get(f"/api/products/{product}", name="/api/products/[id]")

    @task(1)
    def search(self):
        self.client.get(
            "/api/search", params={"q": random.choice(SEARCHES)}, name="/api/search"
        )
