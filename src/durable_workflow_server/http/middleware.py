"""The catch-all: an unhandled exception becomes the documented 500 envelope, never a traceback."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from durable_workflow.protocol import errors as reasons

logger = logging.getLogger("durable_workflow_server")


class CatchAllMiddleware:
    """Turn an unhandled exception into 500 ``{"message":"Server Error","reason":"server_error"}``.

    Sits inside Starlette's own error middleware, which would otherwise re-raise after answering;
    the traceback is logged here instead so the process keeps serving.
    """

    def __init__(self, app: ASGIApp, render: Callable[[Scope, int, dict[str, Any]], ASGIApp]) -> None:
        self.app = app
        self.render = render

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
        except Exception:
            logger.error(
                "Unhandled error on %s %s\n%s", scope.get("method"), scope.get("path"), traceback.format_exc()
            )
            if started:
                raise
            body = {"message": "Server Error", "reason": reasons.SERVER_ERROR}
            await self.render(scope, 500, body)(scope, receive, send)
