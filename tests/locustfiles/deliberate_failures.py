"""Users whose waits fail on purpose: timeouts and an error status."""

from locust import constant, task

from locust_browser import BrowserUser


class Unlucky(BrowserUser):
    wait_time = constant(0.1)

    def on_start(self):
        self.page.goto("/lab")

    @task
    def wait_for_nothing(self):
        self.page.wait_for_response("**/never", name="never", timeout=200)
        raise AssertionError("unreachable: the wait above times out")

    @task
    def break_something(self):
        with self.page.expect_response("**/api/status/*", name="broken") as info:
            self.page.click("#error")
        assert info.value.status == 500
