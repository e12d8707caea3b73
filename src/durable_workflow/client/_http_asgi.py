"""The ASGI sender: each request handed to an ASGI 3 application in this process, no socket.

``Client(base_url, asgi_app=app)`` uses it. A request becomes an ASGI ``http`` scope, its body
one ``http.request`` message, and the answer is collected from ``http.response.start`` /
``http.response.body``: no HTTP bytes are written or parsed, and no httpx objects are made (the
``httpx.ASGITransport`` path cost about as much client CPU per request as the server's own work).

What the app sees is what a socket server (uvicorn) would hand it, so it behaves as over a
socket, which matters for long polls:

- the app runs in its own task, as a server runs each request in its own task. A caller that is
  cancelled (a worker stopping its pollers) or whose timeout passes does not cancel the app:
  the app's next ``receive()`` answers ``http.disconnect``, as a closed connection does, so a
  parked long poll is abandoned and a task it had leased is handed back by the app's own
  disconnect handling, the same path a socket client's hang-up takes; other requests run to
  their end, as they do on a server whose client went away;
- once the answer is complete, ``receive()`` answers ``http.disconnect`` (uvicorn does too);
- the caller's timeout is ``ReadTimeout``, an app that fails before answering is a ``500``
  (uvicorn's plain-text one, the exception logged), an app that returns or fails mid-answer is
  ``RemoteProtocolError``: the same outcomes as the lean sender's over a socket;
- no ``Accept-Encoding`` is sent: compressing an answer that never leaves the process is waste.

The app's lifespan (startup, shutdown) is the caller's business: this only sends requests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote, urlencode

from ._http import HttpResponse, LocalProtocolError, ReadTimeout, RemoteProtocolError, parse_origin

__all__ = ["AsgiApp", "AsgiSender"]

logger = logging.getLogger("durable_workflow.client")

#: An ASGI 3 application: ``await app(scope, receive, send)``.
AsgiApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]

_ASGI = {"version": "3.0", "spec_version": "2.3"}
# What a socket client would appear as; nothing reads it as an address that can be reached.
_CLIENT = ("127.0.0.1", 0)
_DISCONNECT: MutableMapping[str, Any] = {"type": "http.disconnect"}
_INTERNAL_ERROR = b"Internal Server Error"


class _Exchange:
    """One request's ASGI channel: the app's ``receive`` and ``send``, and the caller's answer."""

    __slots__ = ("answer", "body", "chunks", "disconnected", "headers", "status")

    def __init__(self, loop: asyncio.AbstractEventLoop, body: bytes) -> None:
        self.body: bytes | None = body
        self.answer: asyncio.Future[HttpResponse] = loop.create_future()
        # Resolved when nobody listens any more: the caller left, or the answer is complete.
        self.disconnected: asyncio.Future[None] = loop.create_future()
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []

    async def receive(self) -> MutableMapping[str, Any]:
        body = self.body
        if body is not None:
            self.body = None
            return {"type": "http.request", "body": body, "more_body": False}
        if not self.disconnected.done():
            await asyncio.shield(self.disconnected)
        return dict(_DISCONNECT)

    async def send(self, message: MutableMapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = int(message["status"])
            headers = self.headers
            for raw_name, raw_value in message.get("headers") or ():
                name = raw_name.decode("latin-1").lower()
                value = raw_value.decode("latin-1")
                # Repeats joined by ", ", as HttpResponse promises.
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
        elif kind == "http.response.body":
            chunk = message.get("body", b"")
            if chunk:
                self.chunks.append(chunk)
            if not message.get("more_body", False):
                self.finish()

    def finish(self) -> None:
        if not self.answer.done():
            chunks = self.chunks
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self.answer.set_result(HttpResponse(self.status, self.headers, body))
        self.hang_up()

    def fail(self, exc: BaseException) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)
        self.hang_up()

    def hang_up(self) -> None:
        if not self.disconnected.done():
            self.disconnected.set_result(None)


class AsgiSender:
    """Requests to an ASGI 3 app in this process (see the module docstring); an ``HttpSender``."""

    def __init__(self, app: AsgiApp, base_url: str, *, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self._origin = origin = parse_origin(base_url)
        self._scheme = origin.scheme
        self._server = (origin.host, origin.port)
        self._host_header = origin.host_header.encode("latin-1")
        # Quoted as the lean sender quotes it: the app sees what it would see over a socket.
        self._prefix = origin.prefix
        # Requests whose caller has gone while the app still runs them (strong references).
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> HttpResponse:
        """Hand one request to the app and return its complete answer (see ``HttpSender.send``)."""
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        self._origin.require(path)
        loop = asyncio.get_running_loop()
        exchange = _Exchange(loop, body or b"")
        scope = self._scope(method, path, query, headers, body)
        task = loop.create_task(self._serve(scope, exchange))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        limit = self.timeout if timeout is None else timeout
        timer = loop.call_later(limit, _expire, exchange, limit)
        try:
            return await exchange.answer
        finally:
            timer.cancel()
            # Cancelled, timed out or answered: from now on the app's receive() says the client
            # hung up (a parked long poll then lets go and hands back a task it had leased).
            exchange.hang_up()

    async def aclose(self) -> None:
        """Refuse further requests; requests the app still runs are left to finish (a socket
        server's do too), each having seen ``http.disconnect`` if its caller had gone."""
        self._closed = True

    # ------------------------------------------------------------------ internals

    def _scope(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> MutableMapping[str, Any]:
        raw_path = self._prefix + path
        listed: list[tuple[bytes, bytes]] = [(b"host", self._host_header)]
        for name, value in headers.items():
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                raise LocalProtocolError(f"header {name!r} holds a line break")
            listed.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        if body is not None:
            listed.append((b"content-length", str(len(body)).encode("ascii")))
        elif method in ("POST", "PUT", "PATCH"):
            listed.append((b"content-length", b"0"))
        return {
            "type": "http",
            "asgi": _ASGI,
            "http_version": "1.1",
            "method": method,
            "scheme": self._scheme,
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("ascii"),
            "query_string": urlencode(query).encode("ascii") if query else b"",
            "root_path": "",
            "headers": listed,
            "client": _CLIENT,
            "server": self._server,
            "state": {},
        }

    async def _serve(self, scope: MutableMapping[str, Any], exchange: _Exchange) -> None:
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            exchange.fail(
                RemoteProtocolError("the app's task was cancelled before it answered", answered=False)
            )
            raise
        except Exception as exc:
            if exchange.status == 0:
                # Nothing was answered yet: the 500 a server sends for an app that failed.
                logger.error("the ASGI app failed on %s %s", scope["method"], scope["path"], exc_info=exc)
                exchange.status = 500
                exchange.headers = {"content-type": "text/plain; charset=utf-8"}
                exchange.chunks = [_INTERNAL_ERROR]
                exchange.finish()
            else:
                logger.error(
                    "the ASGI app failed mid-answer on %s %s", scope["method"], scope["path"], exc_info=exc
                )
                exchange.fail(RemoteProtocolError("the app failed mid-answer", answered=True))
            return
        if not exchange.answer.done():
            exchange.fail(
                RemoteProtocolError(
                    "the app returned without a complete answer", answered=exchange.status != 0
                )
            )


def _expire(exchange: _Exchange, limit: float) -> None:
    exchange.fail(ReadTimeout(f"no response within {limit:g} s"))
