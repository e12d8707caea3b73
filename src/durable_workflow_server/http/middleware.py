"""The catch-all: an unhandled exception becomes a documented envelope, never a traceback.

A database that cannot be reached (restarting, failing over, a dropped connection) is not a
fault of the server: the request is answered ``503 database_unavailable`` with ``Retry-After``
and ``retryable: true``, and the log gets one line per outage rather than one traceback per
request. A database conflict that outlived the store's own retries is answered the same way.
Anything else is ``500 server_error`` with the traceback in the log.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from durable_workflow.protocol import errors as reasons

from ..store.errors import is_transient

logger = logging.getLogger("durable_workflow_server")

#: Seconds a client should wait before retrying a ``503 database_unavailable``.
RETRY_AFTER_SECONDS = 1
#: At most one log line per this many seconds while the database stays unavailable.
OUTAGE_LOG_INTERVAL = 10.0

Render = Callable[[Scope, int, dict[str, Any], Mapping[str, str] | None], ASGIApp]


class OutageLog:
    """One warning when requests start failing on the database, then one per interval with a count."""

    def __init__(self, interval: float = OUTAGE_LOG_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last: float | None = None
        self._suppressed = 0

    def failed(self, method: object, path: object, exc: BaseException) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            self._suppressed += 1
            return
        more = f" ({self._suppressed} more since the last report)" if self._suppressed else ""
        logger.warning(
            "database unavailable: %s %s answered 503 (%s: %s)%s",
            method,
            path,
            type(exc).__name__,
            _first_line(exc),
            more,
        )
        self._last, self._suppressed = now, 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


class CatchAllMiddleware:
    """Turn an unhandled exception into 500 ``{"message":"Server Error","reason":"server_error"}``.

    Sits inside Starlette's own error middleware, which would otherwise re-raise after answering;
    the traceback is logged here instead so the process keeps serving. Database outages become
    ``503 database_unavailable`` (see the module docstring).
    """

    def __init__(self, app: ASGIApp, render: Render, outages: OutageLog | None = None) -> None:
        """``outages``: the outage log to share (one per app, however many catch-alls it has)."""
        self.app = app
        self.render = render
        self.outages = outages if outages is not None else OutageLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                self.failure(scope, exc)  # logged all the same
                raise
            status, body, headers = self.failure(scope, exc)
            await self.render(scope, status, body, headers)(scope, receive, send)

    def failure(self, scope: Scope, exc: Exception) -> tuple[int, dict[str, Any], Mapping[str, str] | None]:
        """Log ``exc`` (called in its ``except`` block) and say what answers it: status, body, headers."""
        if is_transient(exc):
            self.outages.failed(scope.get("method"), scope.get("path"), exc)
            body: dict[str, Any] = {
                "message": "The database is unavailable right now; retry shortly.",
                "reason": reasons.DATABASE_UNAVAILABLE,
                "retryable": True,
            }
            return 503, body, {"Retry-After": str(RETRY_AFTER_SECONDS)}
        method, path = scope.get("method"), scope.get("path")
        logger.error("Unhandled error on %s %s\n%s", method, path, traceback.format_exc())
        return 500, {"message": "Server Error", "reason": reasons.SERVER_ERROR}, None
