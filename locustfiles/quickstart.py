"""The shortest useful browser load test.

Run it with ``locust -f locustfiles/quickstart.py``; without ``-H`` it starts
the demo application on a free loopback port and points the users at it.
"""

import re

from locust import between, events, task

from locust_browser import BrowserUser
from locust_browser.demo import serve_when_no_host

events.init.add_listener(serve_when_no_host)


class Shopper(BrowserUser):
    wait_time = between(0.5, 1)

    @task
    def browse(self):
        self.page.goto("/")
        with self.page.expect_response("**/api/items*", name="items") as info:
            self.page.click("#load")
        assert info.value.status == 200
        self.page.wait_for_response(re.compile(r"/api/poll"), name="poll", timeout=5000)
