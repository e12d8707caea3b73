"""Servers for the lean HTTP sender's tests: a real uvicorn in a thread, and a raw TCP one.

The uvicorn app answers by path (``/json``, ``/chunked``, ``/gzip``, ``/hold``, ...), and keeps
what it saw (each request's client port: one port per connection). The raw server, on the test's
own loop, plays the server behaviours uvicorn never shows on cue (closing a keep-alive connection
right after an answer, or just after reading the next request).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests.helpers.server_process import free_port
from tests.helpers.socket_server import running

Scope = dict[str, Any]


@dataclass
class Seen:
    """What the uvicorn app saw, shared with the test thread."""

    paths: list[str] = field(default_factory=list)
    raw_paths: list[bytes] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    queries: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    holding: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))


def make_app(seen: Seen) -> Any:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        seen.paths.append(path)
        seen.raw_paths.append(scope.get("raw_path") or b"")
        seen.ports.append(scope["client"][1])
        seen.bodies.append(body)
        seen.queries.append(scope["query_string"])
        seen.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        status, headers, parts = 200, [(b"content-type", b"application/json")], [b'{"ok":true}']
        if path == "/api/echo":
            parts = [json.dumps({"size": len(body), "body": body.decode()}).encode()]
        elif path == "/api/chunked":
            parts = [b'{"parts":', b"[1,", b"2,", b"3]}"]  # no length: uvicorn sends it chunked
        elif path == "/api/gzip":
            parts = [gzip.compress(json.dumps({"zipped": "z" * 5000}).encode())]
            headers.append((b"content-encoding", b"gzip"))
        elif path == "/api/large":
            parts = [json.dumps({"blob": "b" * 3_000_000}).encode()]
        elif path == "/api/redirect":
            status, headers, parts = 307, [(b"location", b"https://elsewhere.test/api")], [b""]
        elif path == "/api/missing":
            parts = [json.dumps({"reason": "instance_not_found", "message": "no such workflow"}).encode()]
            status = 404
        elif path == "/api/text":
            status = int(scope["query_string"].partition(b"status=")[2] or b"200")
            headers, parts = [], [b"plain words"]
        elif path == "/api/bad-version":
            headers.append((b"x-durable-workflow-control-plane-version", b"9"))
        elif path == "/api/hold":
            # A long poll: held until the test releases it.
            seen.holding.release()
            await asyncio.to_thread(seen.release.wait, 30)
        if len(parts) == 1:
            headers.append((b"content-length", str(len(parts[0])).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app


@contextmanager
def uvicorn_server(*, keep_alive: float = 5.0, **config: Any) -> Iterator[tuple[str, Seen]]:
    """The app on 127.0.0.1 in a thread; yields (base URL, what it saw)."""
    seen = Seen()
    port = free_port()
    cfg = uvicorn.Config(
        make_app(seen),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_keep_alive=keep_alive,
        **config,
    )
    with running(uvicorn.Server(cfg), name="lean-http-test"):
        scheme = "https" if "ssl_certfile" in config else "http"
        try:
            yield f"{scheme}://127.0.0.1:{port}", seen
        finally:
            seen.release.set()  # a held request must not keep the server from stopping


ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n" + b'{"ok":true}'


class RawServer:
    """A TCP server on the test's loop speaking just enough HTTP/1.1, with scripted closes.

    ``script`` says, per connection (in order of arrival), what to do after each request is
    read: ``"answer"``, ``"answer-close"`` (answer, then close: the idle close seen at once),
    ``"close"`` (close without answering: the request was read, maybe processed), or
    ``"answer-no-length"`` (an answer whose body ends with the close).
    """

    def __init__(self, *scripts: list[str]) -> None:
        self.scripts = [list(s) for s in scripts]
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request line)
        self.connections = 0
        self.closed = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        script = self.scripts[number] if number < len(self.scripts) else ["answer"] * 100
        try:
            for step in script:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.requests.append((number, head.split(b"\r\n", 1)[0]))
                if step == "close":
                    break
                if step == "answer-no-length":
                    writer.write(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"until":"close"}')
                    break
                writer.write(ANSWER)
                await writer.drain()
                if step == "answer-close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.closed.set()
