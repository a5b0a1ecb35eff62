"""Fire one row into Locust's statistics.

Design note: every kind of row this project makes (WAIT, STEP, VITAL and the
network rows) reaches Locust the same way, as one ``events.request`` firing,
so Locust aggregates, charts, reports and ships it like an HTTP request. This
is the one place that spells that call out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["fire_row"]


def fire_row(
    fire: Callable[..., None],
    request_type: str,
    name: str,
    response_time_ms: float,
    *,
    response_length: int = 0,
    exception: BaseException | None = None,
    url: str | None = None,
    start_time: float | None = None,
) -> None:
    """Fire one row through *fire*, Locust's ``events.request.fire``.

    Args:
        start_time: Epoch seconds the measured thing began; by default,
            *response_time_ms* before now.
    """
    fire(
        request_type=request_type,
        name=name,
        response_time=response_time_ms,
        response_length=response_length,
        response=None,
        context={},
        exception=exception,
        start_time=(
            time.time() - response_time_ms / 1000 if start_time is None else start_time
        ),
        url=url,
    )
