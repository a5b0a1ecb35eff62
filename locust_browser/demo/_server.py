"""A small HTTP application to point browser users at.

Design note: the server runs in a process of its own, so its work never
competes with the load generator's gevent hub for the same core's time, and a
test or locustfile can start it on a free loopback port and stop it by its
process id. It uses only the standard library: a threading HTTP server that
answers a page, a few JSON endpoints and endpoints with a chosen status or
latency, enough for every kind of response wait.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["DemoServer", "PAGE", "POLLS"]

logger = logging.getLogger(__name__)

POLLS = 10
"""How many polls the page makes after a load before its job is ready."""

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>locust-browser demo</title></head>
<body>
<h1>Items</h1>
<button id="load">Load items</button>
<button id="error">Break something</button>
<ul id="items"></ul>
<p id="status">idle</p>
<script>
const status = document.getElementById("status");
document.getElementById("load").onclick = async () => {
  const response = await fetch("/api/items?page=1");
  const items = await response.json();
  document.getElementById("items").innerHTML =
    items.map((item) => `<li>${item.name}</li>`).join("");
  status.textContent = "loaded";
  setTimeout(() => poll(1), 100);
};
// Polls a few times after a load, as a page waiting for a job would.
async function poll(n) {
  const response = await fetch(`/api/poll?n=${n}`);
  const body = await response.json();
  if (body.ready) { status.textContent = "ready"; return; }
  setTimeout(() => poll(n + 1), 200);
}
document.getElementById("error").onclick = async () => {
  const response = await fetch("/api/status/500");
  status.textContent = `failed: ${(await response.json()).status}`;
};
</script>
</body>
</html>
"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DemoServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/":
            self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        elif url.path == "/api/items":
            page = int(query.get("page", ["1"])[0])
            items = [
                {"id": page * 10 + n, "name": f"item {page}-{n}"} for n in range(5)
            ]
            self._json(200, items)
        elif url.path == "/api/poll":
            self._json(200, {"ready": int(query.get("n", ["1"])[0]) >= POLLS})
        elif url.path == "/api/fast":
            self._json(200, {"ok": True})
        elif url.path == "/api/slow":
            time.sleep(float(query.get("ms", ["200"])[0]) / 1000)
            self._json(200, {"ok": True})
        elif url.path.startswith("/api/status/"):
            code = int(url.path.rsplit("/", 1)[1])
            self._json(code, {"status": code})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        self._json(201, {"ok": True})

    def _json(self, status: int, body: object) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.send_header("cache-control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug(format, *args)


class DemoServer(ThreadingHTTPServer):
    """The demo application's HTTP server."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
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
    """Serve the demo application until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m locust_browser.demo")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = DemoServer(args.host, args.port)
    # The first line of output is the contract with whoever started us.
    print(f"listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
