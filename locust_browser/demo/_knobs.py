"""The demo server's knobs: added latency, jitter, errors and the order delay.

Design note: every knob has three spellings, a keyword of
:func:`locust_browser.demo.start`, a command-line option and an environment
variable; the command line wins over the environment. Values are checked
once, at start, and an error names the spelling the value came from, so
``DEMO_ERROR_RATE=1.5`` is refused as such before the server listens.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ENVIRONMENT",
    "OPTIONS",
    "KnobError",
    "Knobs",
    "Options",
    "knobs_from_text",
    "parse_options",
]

ENVIRONMENT = {
    "latency_ms": "DEMO_LATENCY_MS",
    "latency": "DEMO_LATENCY",
    "jitter_ms": "DEMO_JITTER_MS",
    "error_rate": "DEMO_ERROR_RATE",
    "confirm_after": "DEMO_CONFIRM_AFTER",
}
"""The environment variable of each knob."""

OPTIONS = {
    "latency_ms": "--latency-ms",
    "latency": "--latency",
    "jitter_ms": "--jitter-ms",
    "error_rate": "--error-rate",
    "confirm_after": "--confirm-after",
}
"""The command-line option of each knob."""


class KnobError(ValueError):
    """A knob was given a value it cannot take."""


@dataclass(frozen=True)
class Knobs:
    """How the shop's API misbehaves, on purpose.

    Attributes:
        latency_ms: Milliseconds added to every response under ``/api/``.
        latency: ``(path prefix, milliseconds)`` pairs that replace
            ``latency_ms`` for the paths they prefix; the longest prefix wins.
        jitter_ms: Up to this many milliseconds more, uniformly drawn, for
            every response under ``/api/``.
        error_rate: The fraction, from 0 to 1, of requests to the shop's API
            answered with a 500 instead (the lab's endpoints are spared).
        confirm_after: Seconds an order stays "pending" after checkout.
    """

    latency_ms: float = 0.0
    latency: tuple[tuple[str, float], ...] = ()
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    confirm_after: float = 1.0

    def delay(self, path: str, rng: random.Random) -> float:
        """Return the seconds to hold a response to *path* before answering."""
        if not path.startswith("/api/"):
            return 0.0
        milliseconds = self.latency_ms
        for prefix, value in self.latency:
            if path.startswith(prefix):
                milliseconds = value
                break
        if self.jitter_ms:
            milliseconds += rng.uniform(0.0, self.jitter_ms)
        return milliseconds / 1000

    def is_failure(self, rng: random.Random) -> bool:
        """Draw whether the next shop API request is answered with a 500."""
        return self.error_rate > 0 and rng.random() < self.error_rate


@dataclass(frozen=True)
class Options:
    """Where to listen, and the knobs."""

    host: str
    port: int
    knobs: Knobs


def parse_options(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Options:
    """Read the command line, then the environment for knobs it left out.

    Args:
        argv: The arguments after the program name; ``None`` reads
            ``sys.argv``.
        environ: The environment; ``None`` means no knob comes from it.

    Raises:
        KnobError: A knob's value is malformed or out of range; the message
            names the option or variable it came from.
        SystemExit: The command line itself is malformed (argparse's exit).
    """
    args = _parser().parse_args(argv)
    texts: dict[str, tuple[str, str]] = {}
    for knob, variable in ENVIRONMENT.items():
        given = getattr(args, knob)
        if given is not None:
            value = ",".join(given) if isinstance(given, list) else given
            texts[knob] = (OPTIONS[knob], value)
        elif environ is not None and environ.get(variable, "").strip():
            texts[knob] = (variable, environ[variable])
    return Options(args.host, args.port, knobs_from_text(texts))


def knobs_from_text(texts: Mapping[str, tuple[str, str]]) -> Knobs:
    """Build knobs from ``knob -> (label, text)``; errors name the label.

    Raises:
        KnobError: A value is malformed or out of range.
    """
    defaults = Knobs()

    def number(knob: str, default: float, is_fraction: bool = False) -> float:
        if knob not in texts:
            return default
        return _number(*texts[knob], is_fraction=is_fraction)

    latency = _latencies(*texts["latency"]) if "latency" in texts else ()
    return Knobs(
        latency_ms=number("latency_ms", defaults.latency_ms),
        latency=latency,
        jitter_ms=number("jitter_ms", defaults.jitter_ms),
        error_rate=number("error_rate", defaults.error_rate, is_fraction=True),
        confirm_after=number("confirm_after", defaults.confirm_after),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m locust_browser.demo",
        description="Serve the demo shop (at /) and the test lab (at /lab).",
        epilog="Each knob can also come from its environment variable: "
        + ", ".join(ENVIRONMENT.values())
        + " (DEMO_LATENCY as comma-separated path=ms). Options win.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--latency-ms", metavar="MS", help="milliseconds added to every API response"
    )
    parser.add_argument(
        "--latency",
        metavar="PATH=MS",
        action="append",
        help="milliseconds for API paths starting with PATH, instead of "
        "--latency-ms; repeatable, the longest matching PATH wins",
    )
    parser.add_argument(
        "--jitter-ms", metavar="MS", help="up to MS more, uniformly drawn"
    )
    parser.add_argument(
        "--error-rate",
        metavar="FRACTION",
        help="fraction (0 to 1) of shop API requests answered with a 500",
    )
    parser.add_argument(
        "--confirm-after",
        metavar="SECONDS",
        help="seconds an order stays pending after checkout (default 1.0)",
    )
    return parser


def _number(label: str, text: str, is_fraction: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise KnobError(f"{label}: {text!r} is not a number") from None
    if is_fraction and not 0 <= value <= 1:
        raise KnobError(f"{label}: {text!r} is not a fraction from 0 to 1")
    if not (math.isfinite(value) and value >= 0):
        raise KnobError(f"{label}: {text!r} is not a finite number of at least 0")
    return value


def _latencies(label: str, text: str) -> tuple[tuple[str, float], ...]:
    pairs: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        prefix, equals, milliseconds = item.partition("=")
        prefix = prefix.strip()
        if not equals or not prefix.startswith("/"):
            raise KnobError(
                f"{label}: {item!r} is not PATH=MS with a path starting with /"
            )
        pairs[prefix] = _number(f"{label} {prefix}", milliseconds.strip())
    # The longest prefix is tried first, so the most specific one wins.
    return tuple(sorted(pairs.items(), key=lambda pair: -len(pair[0])))
