"""Raw ASGI requests, for tests that need headers byte for byte or control over the connection."""

from __future__ import annotations

import json
from typing import Any


def http_scope(path: str, headers: list[tuple[bytes, bytes]], *, method: str = "POST") -> dict[str, Any]:
    """The ASGI scope of one HTTP request to ``path`` with exactly ``headers``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def post_raw(app: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, Any]:
    """Send one POST straight through ASGI; ``(status, parsed JSON body)`` of the answer."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(http_scope(path, headers), receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(text)
