"""The shortest useful browser load test: the README's example.

Run it with ``locust -f locustfiles/quickstart.py``. Without ``-H`` it starts
the demo shop on a free loopback port and points the users at it.
"""

from locust import between, events, task

from locust_browser import BrowserUser
from locust_browser.demo import serve_when_no_host

events.init.add_listener(serve_when_no_host)


class Shopper(BrowserUser):
    wait_time = between(1, 2)

    @task
    def browse(self):
        with self.page.expect_response("**/api/products?page=1", name="product list"):
            self.page.goto("/")
        with self.page.expect_response("**/api/products?page=2", name="next page"):
            self.page.click("#next-page")
        with self.page.expect_response("**/api/search?q=*", name="search") as info:
            self.page.locator("#search").press_sequentially("lamp", delay=50)
        assert info.value.ok
