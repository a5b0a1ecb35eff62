"""The lab: a test page at ``/lab`` and endpoints with a chosen status or delay.

Design note: the lab is what the package's own tests wait on, so it stays
exact: a button that loads items and then polls a few times, a button that
only fetches them (what the throughput benchmark clicks), a button that gets
a 500, a fast endpoint, a slow one that takes the milliseconds it is
asked for, any status on demand, and a 201 for any POST the shop does not
answer. The error-rate knob never touches it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from locust_browser.demo._shop import Reply

__all__ = ["PAGE", "POLLS", "lab_reply"]

POLLS = 10
"""How many polls the page makes after a load before its job is ready."""

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>locust-browser demo</title></head>
<body>
<h1>Items</h1>
<button id="load">Load items</button>
<button id="fetch">Fetch items</button>
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
document.getElementById("fetch").onclick = async () => {
  const response = await fetch("/api/items?page=2");
  const items = await response.json();
  document.getElementById("items").innerHTML =
    items.map((item) => `<li>${item.name}</li>`).join("");
  status.textContent = "fetched";
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


def lab_reply(method: str, path: str, query: Mapping[str, str]) -> Reply | None:
    """Answer a lab endpoint, or return ``None`` for a path that is not one."""
    if method == "POST":
        return Reply(201, {"ok": True})
    if path == "/api/items":
        page = _number(query.get("page", "1"))
        if page is None:
            return Reply(400, {"error": "page must be a whole number"})
        items = [{"id": page * 10 + n, "name": f"item {page}-{n}"} for n in range(5)]
        return Reply(200, items)
    if path == "/api/poll":
        polls = _number(query.get("n", "1"))
        return Reply(200, {"ready": polls is not None and polls >= POLLS})
    if path == "/api/fast":
        return Reply(200, {"ok": True})
    if path == "/api/slow":
        return _slow(query.get("ms", "200"))
    if path.startswith("/api/status/"):
        code = _number(path.rsplit("/", 1)[1])
        if code is None or not 200 <= code <= 599:
            return Reply(400, {"error": "the status must be from 200 to 599"})
        return Reply(code, {"status": code})
    return None


def _slow(milliseconds: str) -> Reply:
    try:
        delay = float(milliseconds) / 1000
    except ValueError:
        return Reply(400, {"error": "ms must be a number"})
    # Capped, so that a typo cannot hold a connection for hours.
    time.sleep(min(max(delay, 0.0), 60.0))
    return Reply(200, {"ok": True})


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 10 else None
