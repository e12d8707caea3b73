"""One keep-alive HTTP/1.1 connection of the lean sender: an asyncio Protocol parsed by httptools.

A connection carries one request at a time. The bytes of the request are written at once (our
bodies are JSON built in memory); the answer is parsed as it arrives (Content-Length or chunked,
and a body delimited by the connection's close), gzip/deflate bodies are inflated, and the
waiting request is woken once, by the complete answer or by the error that ended it.
"""

from __future__ import annotations

import asyncio
import select
import zlib
from collections.abc import Callable

import httptools

from ._http import HttpResponse, ReadTimeout, RemoteProtocolError

__all__ = ["Connection"]

_HAS_POLL = hasattr(select, "poll")


def _readable(fileno: int) -> bool:
    """Whether the socket has something to read now (bytes, the peer's close, an error)."""
    if fileno < 0:
        return True  # no socket to look at: treat as unusable
    try:
        if _HAS_POLL:
            poller = select.poll()
            poller.register(fileno, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([fileno], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True


def _inflate(body: bytes, encoding: str) -> bytes:
    """The body of ``Content-Encoding: encoding`` decoded (gzip and deflate; others as they are)."""
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif coding == "deflate":
        wbits = zlib.MAX_WBITS
    else:
        return body
    try:
        inflater = zlib.decompressobj(wbits)
        return inflater.decompress(body) + inflater.flush()
    except zlib.error:
        if coding == "deflate":  # some servers send raw deflate without the zlib header
            try:
                return zlib.decompress(body, -zlib.MAX_WBITS)
            except zlib.error:
                pass
        raise RemoteProtocolError(f"the {coding}-encoded response body is corrupt", answered=True) from None


class Connection(asyncio.Protocol):
    """An open (or opening) connection; :meth:`exchange` sends a request and awaits its answer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self._fileno = -1
        self.closed = False
        # Requests answered on this connection; a connection that has answered before may have
        # been closed by the server in the meantime (the stale keep-alive case).
        self.served = 0
        self.idle_since = 0.0
        # Called by connection_lost while the connection sits idle in the pool.
        self.on_idle_close: Callable[[Connection], None] | None = None
        # Set by the pool once this connection's slot is given up (closing it twice frees one).
        self.dropped = False
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timeout = 0.0
        self._activity = 0.0
        self._answered = False
        self._headers_done = False
        self._complete = False
        self._keep_alive = False
        self._status = 0
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        self._fileno = sock.fileno() if sock is not None else -1

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Bytes nobody asked for (a server talking out of turn): this connection is unusable.
            self._abort()
            return
        self._answered = True
        self._activity = self.loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(RemoteProtocolError(f"invalid HTTP response: {exc}", answered=True))
            self._abort()

    def eof_received(self) -> bool:
        return False  # let the transport close; connection_lost settles what is pending

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if self._headers_done and self._close_delimited():
                # No length and not chunked: the body is what came before the close.
                self._complete = True
                self._keep_alive = False
                self._finish()
            elif self._answered:
                self._fail(
                    RemoteProtocolError("the server closed the connection during the response", answered=True)
                )
            else:
                reason = f" ({exc})" if exc is not None else ""
                self._fail(RemoteProtocolError(f"Server disconnected without sending a response{reason}"))
        elif self.on_idle_close is not None:
            self.on_idle_close(self)

    # ------------------------------------------------------------------ httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        previous = self._headers.get(key)
        self._headers[key] = text if previous is None else f"{previous}, {text}"

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self._status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:
            # An interim answer (we never send Expect, but a server may volunteer 103): the real
            # one follows on the same connection.
            self._headers = {}
            self._headers_done = False
            return
        self._complete = True
        self._keep_alive = self._parser.should_keep_alive()
        self._finish()

    # ------------------------------------------------------------------ requests

    @property
    def reusable(self) -> bool:
        """Whether another request may follow on this connection."""
        return self._complete and self._keep_alive and not self.closed

    def still_open(self) -> bool:
        """Whether this idle connection may carry the next request, checked without waiting.

        The server may have closed it (its keep-alive timer) with the event loop not having
        seen that yet: nothing may be readable on an idle connection, so a readable socket (the
        close, a reset, bytes nobody asked for) means it is done. One ``poll`` call; a request
        written there would fail after its bytes went out, and a POST is never sent twice.
        """
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            return False
        return not _readable(self._fileno)

    async def exchange(self, data: bytes, timeout: float) -> HttpResponse:
        """Write ``data`` (a whole request) and return the answer; no byte for ``timeout`` s fails.

        The connection is closed when the exchange does not complete (error, timeout, the caller
        cancelled): its next bytes would belong to a request nobody waits for.
        """
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            raise RemoteProtocolError("the connection was closed before the request was sent", sent=False)
        self._reset()
        waiter: asyncio.Future[HttpResponse] = self.loop.create_future()
        self._waiter = waiter
        self._timeout = timeout
        self._activity = self.loop.time()
        self._timer = self.loop.call_at(self._activity + timeout, self._check_timeout)
        transport.write(data)
        try:
            return await waiter
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._waiter = None
            if not self._complete:
                self._abort()
            else:
                self.served += 1

    def close(self) -> None:
        """Close the connection (idle ones close quietly)."""
        self.closed = True
        if self.transport is not None:
            try:
                self.transport.close()
            except RuntimeError:  # its event loop is gone (a client reused across asyncio.run)
                pass

    # ------------------------------------------------------------------ internals

    def _reset(self) -> None:
        self._answered = False
        self._headers_done = False
        self._complete = False
        self._keep_alive = False
        self._status = 0
        self._headers = {}
        self._body = []

    def _close_delimited(self) -> bool:
        headers = self._headers
        return (
            "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "").lower()
        )

    def _finish(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._body = []
        encoding = self._headers.get("content-encoding")
        try:
            if encoding is not None:
                body = _inflate(body, encoding)
        except RemoteProtocolError as exc:
            self._complete = False
            waiter.set_exception(exc)
            return
        waiter.set_result(HttpResponse(self._status, self._headers, body))

    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _check_timeout(self) -> None:
        # One timer per request, moved forward only when it fires: cheaper than rescheduling it
        # on every chunk, and still an inactivity timeout (as httpx's read timeout is).
        deadline = self._activity + self._timeout
        if self.loop.time() < deadline:
            self._timer = self.loop.call_at(deadline, self._check_timeout)
            return
        self._timer = None
        self._fail(ReadTimeout(f"no response within {self._timeout:g} s"))
        self._abort()

    def _abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
