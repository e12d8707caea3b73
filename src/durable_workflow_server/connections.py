"""Connection limits for the socket server, which uvicorn does not have.

uvicorn closes an idle keep-alive connection, but holds a connection forever while its request
head or body is incomplete (a slow-loris client), and its ``httptools`` parser accepts any head
size. :func:`protocol_class` returns uvicorn's HTTP protocol (``httptools`` when installed, like
uvicorn's ``auto``, else ``h11``) subclassed to add, per connection:

* a **header read deadline**: from the connection's start (or the first byte after a keep-alive
  idle) until its request head is complete;
* a **body read deadline**: from the complete head until the body is complete;
* a **head size cap**: a head beyond it is answered ``431`` and the connection closed;
* a shared **cap on pending connections** (those mid-request: head or body incomplete). Admitting
  one beyond the cap closes the oldest pending one, so a flood of half-open connections cannot
  keep a normal client (whose request arrives at once) from being served.

The httptools protocol also writes each response's head together with its body
(:class:`HeadWithBody`): one ``send`` per answer rather than two.

A connection past a deadline is closed without an answer: there is no complete request to
answer. The app then sees ``http.disconnect`` if it was reading the body. Requests being
handled (long polls included) and idle keep-alive connections are not pending.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import Settings

logger = logging.getLogger("durable_workflow_server")

HEADERS_TOO_LARGE = "request_headers_too_large"

_IDLE, _HEAD, _BODY, _BUSY = "idle", "head", "body", "busy"


class _Cycle(Protocol):
    """What a :class:`Watch` reads of uvicorn's request cycle (h11 and httptools alike)."""

    more_body: bool
    response_complete: bool


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits of :mod:`.connections`, from :class:`~.settings.Settings`."""

    header_timeout: float
    body_timeout: float
    max_pending: int
    max_header_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            header_timeout=settings.header_read_timeout,
            body_timeout=settings.body_read_timeout,
            max_pending=settings.max_pending_connections,
            max_header_bytes=settings.max_header_bytes,
        )


class ConnectionGuard:
    """The limits and the server-wide set of pending connections, oldest first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._pending: OrderedDict[Watch, None] = OrderedDict()
        self.closed_for_time = 0  # connections closed past a deadline (tests and logs read them)
        self.evicted = 0  # pending connections closed to admit a newer one
        self.heads_read = 0  # complete request heads seen

    @property
    def pending(self) -> int:
        return len(self._pending)

    def admit(self, watch: Watch) -> None:
        self._pending[watch] = None
        while len(self._pending) > self.limits.max_pending:
            oldest, _ = self._pending.popitem(last=False)
            self.evicted += 1
            oldest.close("the cap on pending connections admitted a newer one")

    def release(self, watch: Watch) -> None:
        self._pending.pop(watch, None)


class Watch:
    """One connection's phase (idle, head, body, busy) and the deadline of that phase."""

    def __init__(self, guard: ConnectionGuard, transport: asyncio.Transport) -> None:
        self.guard = guard
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        self.phase = _IDLE
        self.cycle: _Cycle | None = None  # the request cycle last seen
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = 0.0  # when ``timer`` fires (loop time)
        self.deadline: float | None = None  # when the current phase's wait runs out (loop time)
        self.refused = False  # answered 431: the rest of what the client sends is discarded
        self._enter(_HEAD)  # a new connection owes its first request head

    def before_data(self) -> None:
        """Bytes arrived: an idle keep-alive connection starts owing a request head."""
        if self.phase == _IDLE:
            self._enter(_HEAD)

    def after(self, cycle: _Cycle | None) -> None:
        """Re-read the phase from the protocol's current request cycle (after data or a response)."""
        if self.refused:
            return
        if self.transport.is_closing():
            self.lost()
            return
        if cycle is not None and cycle is not self.cycle:
            self.cycle = cycle  # a new request head was parsed
            self.guard.heads_read += 1
            self._enter(_BODY if cycle.more_body else _BUSY)
            return
        if cycle is None or cycle.response_complete:
            # Answered: idle (uvicorn's keep-alive timer runs) unless bytes of a next head came.
            if self.phase != _HEAD:
                self._enter(_IDLE)
        elif self.phase == _BODY and not cycle.more_body:
            self._enter(_BUSY)

    def lost(self) -> None:
        self._cancel()
        self.guard.release(self)
        self.phase = _IDLE

    def close_later(self, delay: float) -> None:
        """Stop watching (not pending any more) and close the connection after ``delay``."""
        self._cancel()
        self.guard.release(self)
        self.refused = True
        self.timer = self.loop.call_later(delay, self.transport.close)

    def close(self, why: str) -> None:
        self._cancel()
        self.guard.release(self)
        if not self.transport.is_closing():
            logger.debug("closing a connection: %s", why)
            self.transport.close()

    def _enter(self, phase: str) -> None:
        if phase == self.phase:
            return
        self.phase = phase
        if phase in (_HEAD, _BODY):
            limits = self.guard.limits
            timeout = limits.header_timeout if phase == _HEAD else limits.body_timeout
            self._arm(self.loop.time() + timeout)
            self.guard.admit(self)
        else:
            self.deadline = None  # a timer still armed finds nothing due when it fires
            self.guard.release(self)

    def _arm(self, deadline: float) -> None:
        """Owe the current phase by ``deadline``.

        Lazily: a timer already armed to fire no later is kept, and re-armed for the rest when it
        fires (:meth:`_due`). A keep-alive connection enters a phase with a deadline for every
        request; one timer per deadline's length, rather than one made and cancelled per request.
        """
        self.deadline = deadline
        timer = self.timer
        if timer is not None:
            if self.timer_at <= deadline:
                return
            timer.cancel()
        self.timer_at = deadline
        self.timer = self.loop.call_at(deadline, self._due)

    def _due(self) -> None:
        self.timer = None
        deadline = self.deadline
        if deadline is None:
            return  # the phase it was armed for ended in time
        if self.loop.time() < deadline:  # a later deadline than the one it was armed for
            self.timer_at = deadline
            self.timer = self.loop.call_at(deadline, self._due)
            return
        self._expired("header" if self.phase == _HEAD else "body")

    def _expired(self, what: str) -> None:
        self.timer = None
        self.deadline = None
        self.guard.closed_for_time += 1
        self.close(f"the request {what} did not arrive in time")

    def _cancel(self) -> None:
        self.deadline = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def headers_too_large(limit: int) -> bytes:
    """The raw ``431`` answer to a request head over ``limit`` bytes (the connection then closes)."""
    body = (
        f'{{"message": "The request head exceeds the limit of {limit} bytes.", '
        f'"reason": "{HEADERS_TOO_LARGE}", "limit": {limit}}}'
    ).encode()
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode()
    return head + body


LINGER_SECONDS = 2.0


def refuse_head(watch: Watch, transport: asyncio.Transport, limit: int) -> None:
    """Answer 431, then close once the client has had time to read it.

    Closing at once, with the rest of the client's head unread, makes the kernel reset the
    connection, and the client may lose the answer: so the write side is shut, further bytes
    are discarded (the protocols check ``watch.refused``), and the close follows shortly.
    """
    watch.close_later(LINGER_SECONDS)
    transport.write(headers_too_large(limit))
    if transport.can_write_eof():
        transport.write_eof()


class HeadWithBody:
    """The transport one request cycle writes through: its response head goes out with the body.

    uvicorn writes a response's status line and headers as soon as the app starts the answer,
    then the body as its own write: two ``send`` calls, and two segments on a ``TCP_NODELAY``
    socket, for every answer, when one suffices (each ``send`` is a system call, and on
    loopback it also runs the receiving side's TCP work; the client wakes once). The head (the
    cycle's first write once its response started) is held and written with the next write
    (the body), or when the cycle closes the connection or completes without writing a body
    (``HEAD``, 204). What is written before the response starts (``100 Continue``: the client
    waits for it before sending its body) and after the head goes out at once.
    """

    __slots__ = ("cycle", "held", "on_response", "pending_head", "transport")

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self.transport = transport
        self.cycle: Any = cycle
        self.held: bytes | None = None
        self.pending_head = True
        self.on_response: Callable[[], None] = cycle.on_response
        cycle.transport = self
        cycle.on_response = self.completed

    def write(self, data: bytes) -> None:
        held = self.held
        if held is not None:
            self.held = None
            self.transport.write(held + data)
        elif self.pending_head and self.cycle is not None and self.cycle.response_started:
            self.pending_head = False
            self.held = data  # the head: the body follows within the same chain of sends
        else:
            self.transport.write(data)

    def answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
        """Write a whole answer (its head, then all of its body) as the cycle's two ``send`` calls
        would, to the byte, but without them; ``False``, having done nothing, for an answer those
        calls must handle (the caller then sends it as usual).

        The two sends cost more than the rest of writing an answer: two coroutines and two
        messages, each header matched against uvicorn's two patterns, the head held here and
        joined to the body. Left to them: a cycle whose response started or whose client left,
        writes paused (flow control), an access log, ``HEAD``, a status line uvicorn would build
        itself, a header their checks refuse or that changes the framing (``connection``,
        ``transfer-encoding``), and a body that is not exactly the declared ``content-length``.
        """
        cycle = self.cycle
        status_line = _STATUS_LINE.get(status) if _STATUS_LINE is not None else None
        if status_line is None or cycle is None:
            return False
        try:
            if (
                cycle.response_started
                or cycle.disconnected
                or cycle.flow.write_paused
                or cycle.access_log
                or cycle.scope["method"] == "HEAD"
            ):
                return False
        except AttributeError:
            # A uvicorn whose cycle keeps its state under other names: its sends write it.
            return False
        content = [status_line]
        length: int | None = None
        for name, value in (*cycle.default_headers, *headers):
            if _HEADER_NAME.search(name) or _HEADER_VALUE.search(value):
                return False
            name = name.lower()
            if name == b"content-length":
                if length is None:
                    length = int(value.decode())
            elif name in (b"connection", b"transfer-encoding"):
                return False
            content.extend((name, b": ", value, b"\r\n"))
        if length != len(body):
            return False
        keep_alive: bool = cycle.keep_alive
        content.append(b"\r\n" if keep_alive else b"connection: close\r\n\r\n")
        content.append(body)
        # The state the two sends leave the cycle in.
        cycle.response_started = True
        cycle.waiting_for_100_continue = False
        cycle.chunked_encoding = False
        cycle.expected_content_length = 0
        cycle.response_complete = True
        self.pending_head = False
        self.transport.write(b"".join(content))
        cycle.message_event.set()
        if not keep_alive:
            self.close()
        cycle.on_response()
        return True

    def flush(self) -> None:
        held = self.held
        if held is not None:
            self.held = None
            self.transport.write(held)

    def completed(self) -> None:
        """The cycle's response is complete: write a head still held, then uvicorn's callback."""
        self.flush()
        # The cycle and this object refer to each other: undone here, so both go by reference
        # counting rather than waiting for a garbage collection (every request otherwise).
        self.cycle = None
        self.on_response()

    def close(self) -> None:
        self.flush()
        self.cycle = None
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()


def _uvicorn_writing() -> tuple[dict[int, bytes] | None, re.Pattern[bytes], re.Pattern[bytes]]:
    """uvicorn's status lines and header checks, as its httptools cycle writes answers with them
    (no status lines, so no direct answers, where this uvicorn lacks any of them)."""
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:
        httptools_impl = None  # type: ignore[assignment]
    lines = getattr(httptools_impl, "STATUS_LINE", None)
    name = getattr(httptools_impl, "HEADER_RE", None)
    value = getattr(httptools_impl, "HEADER_VALUE_RE", None)
    if not (isinstance(lines, dict) and isinstance(name, re.Pattern) and isinstance(value, re.Pattern)):
        return None, re.compile(b"(?!)"), re.compile(b"(?!)")
    return lines, name, value


_STATUS_LINE, _HEADER_NAME, _HEADER_VALUE = _uvicorn_writing()


def answer_directly(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
    """Write an answer straight through the :class:`HeadWithBody` of the request cycle whose
    ``send`` this is (see :meth:`HeadWithBody.answer`); ``False`` when ``send`` is not such a
    cycle's own (another protocol, or wrapped by a middleware) or the cycle must send it itself."""
    writer = getattr(getattr(send, "__self__", None), "transport", None)
    return type(writer) is HeadWithBody and writer.answer(status, headers, body)


class _HeadTooLarge(Exception):
    """Raised in a parser callback: the head passed ``max_header_bytes``."""


class _Watched:
    """What both limited protocols add to uvicorn's: a :class:`Watch` per connection.

    Mixed in before uvicorn's protocol class, so each ``super()`` call reaches uvicorn's own.
    """

    guard: ConnectionGuard
    watch: Watch
    cycle: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.watch = Watch(self.guard, cast(asyncio.Transport, transport))  # a TCP connection

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self.watch.after(self.cycle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.watch.lost()
        super().connection_lost(exc)  # type: ignore[misc]


class LimitedH11Protocol(_Watched, H11Protocol):
    """uvicorn's h11 protocol with the limits of :class:`ConnectionGuard` (``guard`` set per server).

    h11 caps only a head still incomplete in its buffer (``h11_max_incomplete_event_size``), not
    one that arrives whole, so the head's size is measured here before h11 parses it.
    """

    def data_received(self, data: bytes) -> None:
        if self.watch.refused:
            return
        self.watch.before_data()
        if self.conn.their_state is h11.IDLE and self._head_too_large(data):
            refuse_head(self.watch, self.transport, self.guard.limits.max_header_bytes)
            return
        super().data_received(data)
        self.watch.after(self.cycle)

    def _head_too_large(self, data: bytes) -> bool:
        # The client is between requests, so the buffered bytes and ``data`` start a head.
        buffered = self.conn.trailing_data[0] + data
        end = buffered.find(b"\r\n\r\n")
        return (end if end >= 0 else len(buffered)) > self.guard.limits.max_header_bytes


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is not installed: uvicorn's "auto" would use h11 too
        return None

    class LimitedHttpToolsProtocol(_Watched, HttpToolsProtocol):
        """uvicorn's httptools protocol with the limits of :class:`ConnectionGuard`.

        httptools has no head size limit: the URL and header callbacks count the head's bytes.
        """

        head_bytes = 0
        head_too_large = False

        def data_received(self, data: bytes) -> None:
            if self.watch.refused:
                return
            self.watch.before_data()
            super().data_received(data)
            self.watch.after(self.cycle)

        def on_message_begin(self) -> None:
            self.head_bytes = 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            cycle = self.cycle
            # A new cycle whose app task has not run yet (created, or queued behind a pipelined one).
            if cycle is not None and type(cycle.transport) is not HeadWithBody:
                HeadWithBody(cycle.transport, cycle)

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            # _count inlined: this runs for every header of every request.
            self.head_bytes += len(name) + len(value) + 4  # ": " and CRLF
            if self.head_bytes > self.guard.limits.max_header_bytes:
                self.head_too_large = True
                raise _HeadTooLarge
            super().on_header(name, value)

        def _count(self, size: int) -> None:
            self.head_bytes += size
            if self.head_bytes > self.guard.limits.max_header_bytes:
                self.head_too_large = True
                raise _HeadTooLarge  # httptools turns it into HttpParserCallbackError

        def send_400_response(self, msg: str) -> None:
            if self.head_too_large:
                refuse_head(self.watch, self.transport, self.guard.limits.max_header_bytes)
                return
            super().send_400_response(msg)

    return LimitedHttpToolsProtocol


def protocol_class(guard: ConnectionGuard, implementation: str = "auto") -> type[asyncio.Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` bound to ``guard``.

    ``implementation``: ``auto`` (httptools when installed, else h11), ``httptools`` or ``h11``.
    """
    base: type[asyncio.Protocol] | None = None
    if implementation in ("auto", "httptools"):
        base = _httptools_protocol()
        if base is None and implementation == "httptools":
            raise RuntimeError("httptools is not installed")
    if base is None:
        base = LimitedH11Protocol
    # A subclass per server, so two servers in one process keep separate pending sets.
    bound: type[asyncio.Protocol] = type(base.__name__, (base,), {"guard": guard})
    return bound


def uvicorn_options(
    settings: Settings, guard: ConnectionGuard, implementation: str = "auto"
) -> dict[str, Any]:
    """The ``uvicorn.Config`` keywords that apply ``settings``' connection limits."""
    return {
        "http": protocol_class(guard, implementation),
        "timeout_keep_alive": settings.keep_alive_timeout,
        # h11's own cap on a buffered incomplete head: a backstop (400) behind the 431 above
        "h11_max_incomplete_event_size": settings.max_header_bytes + 4,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        # no route speaks WebSocket: an upgrade request is served as plain HTTP, so no
        # connection escapes the limits above by switching protocol
        "ws": "none",
    }
