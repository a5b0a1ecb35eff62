"""The demo application's HTTP server: the shop at ``/``, the lab at ``/lab``.

Design note: the server runs in a process of its own, so its work never
competes with the load generator's gevent hub for the same core's time, and a
test or locustfile can start it on a free loopback port and stop it by its
process id. It is the standard library's threading HTTP server speaking
HTTP/1.1 with keep-alive, as browsers expect. ``python -m locust_browser.demo``
runs it with gevent's patching (the package imports Locust, which patches,
and ``__main__`` makes sure), so each connection is a greenlet, not a thread.
Measured on two cores, with wrk on the other core and 10 to 50 keep-alive
connections: about 8,600 to 10,000 requests per second with greenlets, 7,000
to 7,900 with OS threads, and steadier latency with greenlets; either is far
above what a few hundred browser users ask.

Every response goes out in one write, with Nagle's algorithm off. Written as
a header and then a body, each response waited for the peer's delayed ACK,
about 40 ms, which held the server near 22 requests per second a connection.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from locust_browser.demo._assets import Asset, load_assets, shop_page
from locust_browser.demo._knobs import KnobError, Knobs, parse_options
from locust_browser.demo._lab import PAGE, lab_reply
from locust_browser.demo._shop import ApiRequest, Reply, Shop

__all__ = ["DemoServer", "main"]

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
"""The largest request body read, in bytes; a larger one gets a 413."""

_SPA_PATHS = ("/products/", "/orders/")
_SPA_PAGES = {"/", "/cart", "/login"}
_NO_BODY = {HTTPStatus.NO_CONTENT, HTTPStatus.RESET_CONTENT, HTTPStatus.NOT_MODIFIED}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per response; see the module's design note.
    disable_nagle_algorithm = True
    server: DemoServer

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        length = _integer(self.headers.get("content-length") or "0")
        if length is None or length > MAX_BODY:
            # The body is left unread, so the connection cannot go on.
            self.close_connection = True
            self._json(413, {"error": f"a body must be 0 to {MAX_BODY} bytes"})
            return
        body = self.rfile.read(length) if length else b""

        # The lab answers any POST that the shop does not, wherever it goes.
        if url.path.startswith("/api/") or method == "POST":
            self._api(method, url.path, dict(parse_qsl(url.query)), body)
        else:
            self._page(url.path)

    def _page(self, path: str) -> None:
        server = self.server
        if path in _SPA_PAGES or path.startswith(_SPA_PATHS):
            self._send(200, server.shop_page)
        elif path == "/lab":
            self._send(200, server.lab_page)
        elif path in server.assets:
            self._send(200, server.assets[path])
        elif path == "/favicon.ico":
            self._send(204, Asset(b"", "image/x-icon", "public, max-age=3600"))
        else:
            self._send(404, Asset(b"not found\n", "text/plain", "no-store"))

    def _api(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        server = self.server
        delay = server.knobs.delay(path, server.rng)
        if delay > 0:
            time.sleep(delay)

        handler = server.shop.find(method, path)
        if handler is None:
            reply = lab_reply(method, path, query)
            reply = reply or Reply(404, {"error": f"no endpoint {method} {path}"})
        elif server.knobs.is_failure(server.rng):
            reply = Reply(500, {"error": "a failure injected by the error rate"})
        else:
            request = ApiRequest(method, path, query, body, self._cookies())
            reply = handler(request)
        self._json(reply.status, reply.body, reply.cookies)

    def _cookies(self) -> dict[str, str]:
        cookies: dict[str, str] = {}
        for header in self.headers.get_all("cookie") or []:
            for pair in header.split(";"):
                name, _, value = pair.strip().partition("=")
                cookies.setdefault(name, value)
        return cookies

    def _json(self, status: int, body: object, cookies: Sequence[str] = ()) -> None:
        # No API response is stored, so every page load asks again.
        asset = Asset(json.dumps(body).encode(), "application/json", "no-store")
        self._send(status, asset, cookies)

    def _send(self, status: int, asset: Asset, cookies: Sequence[str] = ()) -> None:
        body = b"" if status in _NO_BODY else asset.body
        lines = [
            f"{self.protocol_version} {status} {_phrase(status)}",
            f"Content-Type: {asset.content_type}",
            f"Content-Length: {len(body)}",
            f"Cache-Control: {asset.cache_control}",
            *(f"Set-Cookie: {cookie}" for cookie in cookies),
        ]
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)
        self.log_request(status, len(body))

    def log_message(self, format: str, *args: object) -> None:
        logger.debug(format, *args)


class DemoServer(ThreadingHTTPServer):
    """The demo application's HTTP server.

    Args:
        host: The address to listen on.
        port: The port; 0 picks a free one.
        knobs: How the shop's API misbehaves on purpose.
    """

    daemon_threads = True
    request_queue_size = 1024

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, knobs: Knobs | None = None
    ) -> None:
        self.knobs = knobs or Knobs()
        self.shop = Shop(confirm_after=self.knobs.confirm_after)
        self.rng = random.Random()
        self.assets = load_assets()
        self.shop_page = shop_page()
        self.lab_page = Asset(PAGE.encode(), "text/html; charset=utf-8", "no-store")
        super().__init__((host, port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Log a failed request; a browser that hung up is not worth a trace."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("%s hung up: %s", client_address, error)
        else:
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def main(argv: list[str] | None = None) -> int:
    """Serve the demo application until interrupted; return the exit status."""
    import os

    try:
        options = parse_options(argv, os.environ)
    except KnobError as error:
        print(f"python -m locust_browser.demo: error: {error}", file=sys.stderr)
        return 2
    server = DemoServer(options.host, options.port, options.knobs)
    # The first line of output is the contract with whoever started us.
    print(f"listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _integer(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


if __name__ == "__main__":
    sys.exit(main())
