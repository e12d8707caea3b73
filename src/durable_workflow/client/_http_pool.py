"""The lean sender: a keep-alive pool of :class:`~._http_conn.Connection` to one origin.

Why not httpx here: per request httpx spends 0.6-1.4 ms of client CPU (anyio task lookups,
its readability check before reuse through several layers, URL and model objects), most of a
worker's client-side cost per workflow; this path spends about 0.03 ms (aiohttp's ClientSession
about 0.1 ms, with seven compiled packages more; ``benchmarks/http_client.py`` compares them).

The pool opens up to ``max_connections`` connections (100, httpx's default too: far above a
worker's pollers, so long polls, which hold a connection for up to their timeout, never starve
short calls), reuses the most recently used idle one, and drops idle ones after
``keepalive_expiry`` seconds (4 s, under the server's 5 s DW_KEEP_ALIVE_TIMEOUT, so the client
normally lets go first).

Stale connections: a server may close an idle keep-alive connection at any moment. Before an
idle connection is reused the pool checks, without waiting, that nothing is readable on it (the
server's close may have reached the socket before the event loop saw it): one ``poll`` call
(about 1.5 us), so a close that came first is found before the request is written. A close that
races the request can still meet it on the way; then it is sent again on a fresh connection, at
once and without counting as an attempt, when that cannot repeat work: the request was never
written (the close was seen first), or no answer byte came and the method is safe (GET, HEAD,
OPTIONS). A POST whose bytes went out on a connection that then closed without answering may
have been processed; it is not resent here: the error goes to ``BaseClient._request``, whose
retry policy treats it as every other transport error (as it treated httpx's
``RemoteProtocolError``).

No HTTP proxy support here: when the environment names a proxy (``HTTP(S)_PROXY``,
``ALL_PROXY``) the client uses httpx, which applies it (and ``NO_PROXY``) as it always did.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections import deque
from collections.abc import Mapping
from urllib.parse import urlencode

from ._http import (
    ConnectError,
    ConnectTimeout,
    HttpResponse,
    LocalProtocolError,
    PoolTimeout,
    RemoteProtocolError,
    parse_origin,
)
from ._http_conn import Connection

__all__ = ["LeanSender", "default_ssl_context"]

DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_KEEPALIVE_EXPIRY_SECONDS = 4.0
# Methods whose repetition has no further effect: resent on a fresh connection after a stale one
# closed without answering, even when their bytes had gone out.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def default_ssl_context() -> ssl.SSLContext:
    """Verifying TLS as httpx does: SSL_CERT_FILE / SSL_CERT_DIR, else certifi's bundle."""
    cafile = os.environ.get("SSL_CERT_FILE")
    capath = os.environ.get("SSL_CERT_DIR")
    if not cafile and not capath:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:  # the system store then
            pass
    context = ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    context.set_alpn_protocols(["http/1.1"])
    return context


class LeanSender:
    """Keep-alive HTTP/1.1 to one ``http://`` or ``https://`` origin (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.timeout = timeout
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._origin = origin = parse_origin(base_url)
        self._host = origin.host
        self._tls = origin.tls
        self._port = origin.port
        self._host_header = origin.host_header
        # The base URL's own path is kept in front of every request path (httpx does the same).
        self._prefix = origin.prefix
        self._ssl = (ssl_context or default_ssl_context()) if self._tls else None
        self._idle: deque[Connection] = deque()
        self._open = 0  # connections open or opening, idle or busy
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._closed = False

    # ------------------------------------------------------------------ the sender interface

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> HttpResponse:
        """Send one request and return its complete answer (see ``HttpSender.send``)."""
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        self._origin.require(path)
        limit = self.timeout if timeout is None else timeout
        data = self._encode(method, path, query, headers, body)
        loop = asyncio.get_running_loop()
        connection = await self._acquire(loop, limit)
        try:
            try:
                return await connection.exchange(data, limit)
            except RemoteProtocolError as exc:
                if not connection.served or exc.answered or (exc.sent and method not in _SAFE_METHODS):
                    raise
            # A stale keep-alive connection: once more, on a fresh one in the same pool slot.
            stale = connection
            stale.dropped = True
            stale.close()
            connection = await self._open_in_slot(loop, limit)
            return await connection.exchange(data, limit)
        finally:
            self._release(connection)

    async def aclose(self) -> None:
        """Close the idle connections now and the busy ones as they finish."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the client was closed"))

    # ------------------------------------------------------------------ request bytes

    def _encode(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> bytes:
        target = self._prefix + path
        if query:
            target = f"{target}?{urlencode(query)}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        for name, value in headers.items():
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                raise LocalProtocolError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}")
        lines.append("Accept-Encoding: gzip, deflate")
        if body is None:
            if method in ("POST", "PUT", "PATCH"):
                lines.append("Content-Length: 0")
            lines.append("\r\n")
            return "\r\n".join(lines).encode("ascii")
        lines.append(f"Content-Length: {len(body)}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("ascii") + body

    # ------------------------------------------------------------------ the pool

    async def _acquire(self, loop: asyncio.AbstractEventLoop, timeout: float) -> Connection:
        idle = self._idle
        if idle:
            now = loop.time()
            # The oldest idle connections sit at the left: drop the expired ones.
            while idle and now - idle[0].idle_since >= self.keepalive_expiry:
                self._drop(idle.popleft())
            while idle:
                connection = idle.pop()
                if connection.loop is not loop or not connection.still_open():
                    self._drop(connection)
                    continue
                connection.on_idle_close = None
                return connection
        if self._open < self.max_connections:
            self._open += 1
        else:
            handed = await self._wait(loop, timeout)
            if handed is not None:
                return handed
        return await self._open_in_slot(loop, timeout)

    async def _wait(self, loop: asyncio.AbstractEventLoop, timeout: float) -> Connection | None:
        """Wait until a busy connection is handed over, or a slot (``None``) is."""
        waiter: asyncio.Future[Connection | None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()  # handed over just as we gave up: pass it on
                if handed is not None:
                    self._release(handed)
                else:
                    self._free_slot()
            raise
        finally:
            timer.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def _open_in_slot(self, loop: asyncio.AbstractEventLoop, timeout: float) -> Connection:
        """Connect in a slot the caller owns (the slot is freed again when connecting fails)."""
        try:
            return await self._connect(loop, timeout)
        except BaseException:
            self._free_slot()
            raise

    async def _connect(self, loop: asyncio.AbstractEventLoop, timeout: float) -> Connection:
        connection = Connection(loop)
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: connection,
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl is not None else None,
                ),
                timeout,
            )
        except asyncio.TimeoutError:
            raise ConnectTimeout(f"connecting to {self._host}:{self._port} took over {timeout:g} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        return connection

    def _release(self, connection: Connection) -> None:
        if connection.reusable and not self._closed:
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(connection)
                    return
            connection.idle_since = connection.loop.time()
            connection.on_idle_close = self._forget
            self._idle.append(connection)
            return
        self._drop(connection)

    def _drop(self, connection: Connection) -> None:
        """Close a connection and free its slot (once)."""
        if connection.dropped:
            return
        connection.dropped = True
        connection.on_idle_close = None
        connection.close()
        self._free_slot()

    def _forget(self, connection: Connection) -> None:
        """An idle connection closed by the server: out of the pool."""
        try:
            self._idle.remove(connection)
        except ValueError:
            pass
        self._drop(connection)

    def _free_slot(self) -> None:
        """A slot is free: it passes to the longest waiter, who opens a connection in it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._open -= 1


def _expire(waiter: asyncio.Future[Connection | None]) -> None:
    if not waiter.done():
        waiter.set_exception(PoolTimeout("no connection became free within the timeout"))
