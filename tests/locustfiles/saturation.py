"""Plain users that do or do not stall the hub, for the saturation monitor.

No browser and no requests. Locust patches ``time.sleep`` to yield to the
hub, so the stalling user takes the original, blocking one from gevent.
Choose a user by class name on the command line: ``Staller`` or ``Idler``.
"""

from gevent.monkey import get_original
from locust import User, constant, task

import locust_browser._saturation  # noqa: F401  (registers the monitor)
import locust_browser._saturation as _again  # noqa: F401  (registers nothing more)

STALLS = 4
"""How many times the stalling user blocks the hub."""

STALL_SECONDS = 0.3
"""How long each stall blocks the hub."""

_blocking_sleep = get_original("time", "sleep")


class Staller(User):
    wait_time = constant(0.2)
    stalls_left = STALLS

    @task
    def stall(self):
        if Staller.stalls_left > 0:
            Staller.stalls_left -= 1
            _blocking_sleep(STALL_SECONDS)


class Idler(User):
    wait_time = constant(0.2)

    @task
    def idle(self):
        pass
