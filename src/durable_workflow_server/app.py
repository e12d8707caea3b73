"""The ASGI application factory and the uvicorn runner."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Scope

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import routes

from .engine.api import EngineAPI
from .http import health, system, worker_plane, workflows
from .http.direct import DirectRouter, direct_routes
from .http.envelope import render
from .http.errors import ApiError, validation_error
from .http.middleware import CatchAllMiddleware
from .settings import Settings

logger = logging.getLogger("durable_workflow_server")

GZIP_MINIMUM_SIZE = 1024


def create_app(settings: Settings | None = None, *, engine: EngineAPI | None = None) -> FastAPI:
    """Build the server's ASGI app.

    Args:
        settings: configuration; ``Settings.from_env()`` when omitted.
        engine: the engine facade to serve; a real ``Engine(settings)`` when omitted. Tests pass a
            fake here to exercise the HTTP layer alone.

    The app opens the engine on startup and closes it on shutdown (ASGI lifespan).
    """
    settings = settings if settings is not None else Settings.from_env()
    if engine is None:
        # Imported lazily so the HTTP layer can be built and tested without a database driver.
        from .engine.service import Engine

        engine = Engine(settings)
    active_engine: EngineAPI = engine

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await active_engine.open()
        try:
            yield
        finally:
            await active_engine.close()

    app = FastAPI(
        title="Durable Workflow server",
        version=settings.version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.engine = active_engine

    api_routers = (health.router, system.router, workflows.router, worker_plane.router)
    for router in api_routers:
        app.include_router(router, prefix=routes.API_PREFIX)

    _install_error_handlers(app, settings)

    def render_scope(scope: Scope, status: int, body: dict[str, Any]) -> ASGIApp:
        return render(scope.get("method", "GET"), scope.get("path", ""), status, body, settings)

    # Innermost of ours: serves the API routes without FastAPI's per-request routing and
    # dependency machinery (see http/direct.py); everything else falls through to FastAPI.
    app.add_middleware(
        DirectRouter, routes=direct_routes(routes.API_PREFIX, api_routers), render=render_scope
    )
    app.add_middleware(CatchAllMiddleware, render=render_scope)
    if settings.compression_enabled:
        # Added last so it is outermost and also compresses error bodies.
        app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE)
    return app


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    def reply(request: Request, status: int, body: dict[str, Any]) -> JSONResponse:
        return render(request.method, request.scope["path"], status, body, settings)

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return reply(request, exc.status, exc.body())

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        reason = {404: reasons.NOT_FOUND, 405: reasons.METHOD_NOT_ALLOWED, 401: reasons.UNAUTHORIZED}.get(
            exc.status_code, reasons.FORBIDDEN if exc.status_code == 403 else None
        )
        body: dict[str, Any] = {"message": str(exc.detail)}
        if reason is not None:
            body["reason"] = reason
        response = reply(request, exc.status_code, body)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
        # Only reachable for path/query parameters FastAPI itself parses; bodies are validated by hand.
        assert isinstance(exc, RequestValidationError)
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            location = [str(part) for part in error.get("loc", ()) if part not in ("path", "query", "body")]
            errors.setdefault(".".join(location) or "request", []).append(str(error.get("msg", "is invalid")))
        failure = validation_error(errors)
        return reply(request, failure.status, failure.body())

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080, *, log_level: str = "info") -> None:
    """Run the server in this process until SIGINT/SIGTERM (uvicorn shuts down gracefully)."""
    import uvicorn

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        # Parked long polls of vanished workers must not hold a shutdown hostage.
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
