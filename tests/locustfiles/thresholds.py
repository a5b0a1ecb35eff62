"""A plain HTTP user with WAIT rows of known durations, for ``--threshold`` runs.

No browser: each iteration fetches ``GET /api/products`` from the host and
reports two WAIT rows itself, so the thresholds' plumbing is tested alone.
"""

from locust import HttpUser, constant, task

import locust_browser  # noqa: F401  (registers --threshold)

CHECKOUT_MS = 250
"""Response time of every ``WAIT checkout`` row."""

ADD_TO_CART_MS = 1200
"""Response time of every ``WAIT add to cart (guest)`` row."""


class Checkout(HttpUser):
    wait_time = constant(0.1)

    @task
    def check_out(self):
        self.client.get("/api/products")
        self._report_wait("checkout", CHECKOUT_MS)
        self._report_wait("add to cart (guest)", ADD_TO_CART_MS)

    def _report_wait(self, name, response_time):
        self.environment.events.request.fire(
            request_type="WAIT",
            name=name,
            response_time=response_time,
            response_length=0,
            response=None,
            context={},
            exception=None,
        )
