"""The ASGI application factory and the uvicorn runner."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import routes

from .engine.api import EngineAPI
from .engine.maintenance.counters import ProcessCounters
from .http import prometheus
from .http.dispatch import ApiDispatch
from .http.envelope import Envelope, unrouted_plane
from .http.middleware import CatchAllMiddleware, OutageLog
from .http.routing import PLANE_KEY, ROUTE_KEY, ServedRoute, build_planes
from .http.table import PLANES
from .settings import Settings
from .ui import not_found, ui_routes, wrong_method

logger = logging.getLogger("durable_workflow_server")

# Below a few KiB compressing costs the server more CPU than the bytes it saves on the wire (most
# worker-plane answers are a few hundred bytes); history pages and manifests are still gzipped.
GZIP_MINIMUM_SIZE = 4096
LISTEN_BACKLOG = 2048  # uvicorn's default
_ROUTING_REASONS = {404: reasons.NOT_FOUND, 405: reasons.METHOD_NOT_ALLOWED}


def create_app(settings: Settings | None = None, *, engine: EngineAPI | None = None) -> Starlette:
    """Build the server's ASGI app.

    Args:
        settings: configuration; ``Settings.from_env()`` when omitted.
        engine: the engine facade to serve; a real ``Engine(settings)`` when omitted. Tests pass a
            fake here to exercise the HTTP layer alone.

    The app opens the engine on startup and closes it on shutdown (ASGI lifespan). Its routes
    are the declarative table of ``http/table.py``.

    Raises:
        AuthConfigError: the auth configuration cannot serve (an unknown driver, no credential
            for the driver, ...): a server that would answer 500 on every route is not built.
    """
    settings = settings if settings is not None else Settings.from_env()
    settings.check_auth()
    if engine is None:
        # Imported lazily so the HTTP layer can be built and tested without a database driver.
        from .engine.service import Engine

        engine = Engine(settings)
    active_engine: EngineAPI = engine

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await active_engine.open()
        try:
            yield
        finally:
            await active_engine.close()

    def envelope_of(scope: Scope) -> Envelope:
        route = scope.get(ROUTE_KEY)
        if isinstance(route, ServedRoute):
            return Envelope(scope[PLANE_KEY], route.operation.envelope)
        return Envelope(unrouted_plane(scope.get("path", "")))

    def render_scope(
        scope: Scope, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> ASGIApp:
        return envelope_of(scope).render(status, body, settings, scope.get("path_params"), headers)

    ui_not_found = not_found(settings, active_engine)

    async def routing_error(request: Request, exc: Exception) -> Response:
        # 404 / 405 from routing: the plane's envelope, but no operation (none was matched); an
        # unknown path outside the API is the UI's 404 page, a wrong method there its 405 page.
        assert isinstance(exc, HTTPException)
        scope = request.scope
        if _is_ui_path(scope["path"]):
            if exc.status_code == 404:
                return await ui_not_found(request)
            if exc.status_code == 405:
                return wrong_method(request, exc.headers)
        plane = scope.get(PLANE_KEY) or unrouted_plane(scope["path"])
        body: dict[str, Any] = {"message": str(exc.detail)}
        reason = _ROUTING_REASONS.get(exc.status_code)
        if reason is not None:
            body["reason"] = reason
        return Envelope(plane).render(exc.status_code, body, settings, None, headers=exc.headers)

    middleware = []
    if settings.compression_enabled:
        # Outermost of ours, so it also compresses error bodies.
        middleware.append(Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE))
    outages = OutageLog()  # one log for the stack's catch-all and the dispatcher's
    middleware.append(Middleware(CatchAllMiddleware, render=render_scope, outages=outages))
    # Inside the catch-all, so a request answered 500 by it is counted with that status too.
    requests = ProcessCounters()  # this app's request counts (per process; see docs/protocol.md)
    middleware.append(Middleware(prometheus.CountRequests, counters=requests))
    # ``GET /metrics`` (Prometheus text) sits beside the API, not in its route table.
    scrape = prometheus.endpoint(settings, active_engine, requests)
    metrics_route = Route(prometheus.PATH, scrape, methods=["GET"])
    planes = build_planes(PLANES, settings, active_engine)
    app = ServerApp(
        # The web UI after the API: it serves `/`, `/login`, `/workflows`, ... and `/static`.
        routes=[*planes, metrics_route, *ui_routes(settings, active_engine)],
        middleware=middleware,
        exception_handlers={HTTPException: routing_error},
        lifespan=lifespan,
    )
    # A request an API route serves skips the layers above: the dispatcher does what they do.
    app.api = ApiDispatch(
        planes,
        app.router,
        settings,
        requests,
        CatchAllMiddleware(app.router, render=render_scope, outages=outages),
        routing_error,
        GZIP_MINIMUM_SIZE if settings.compression_enabled else None,
    )
    app.state.settings = settings
    app.state.engine = active_engine
    return app


class ServerApp(Starlette):
    """The server's Starlette app: requests an API route serves go to :attr:`api` directly."""

    api: ApiDispatch | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = self.api
        if api is not None and scope["type"] == "http":
            found = api.find(scope)
            if found is not None:
                scope["app"] = self
                await api.serve(scope, receive, send, *found)
                return
        await super().__call__(scope, receive, send)


def _is_ui_path(path: str) -> bool:
    """A path the UI answers for: anything but ``/api``, ``/api/...`` and ``/metrics``."""
    prefix = routes.API_PREFIX
    return not (path == prefix or path.startswith(prefix + "/") or path == prometheus.PATH)


class ServerStartError(RuntimeError):
    """The server could not start: its address is unavailable or its database cannot be opened."""


def listen(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket on ``host:port`` (port ``0`` picks a free port).

    Binding before anything else starts lets a taken port be reported in one line, before any
    log output, and lets the caller print the port actually used.

    Raises:
        ServerStartError: The address is in use, not available on this machine, or not permitted.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


class _StartupWatch:
    """ASGI wrapper that tells :func:`serve` how the app's lifespan startup went.

    A failed startup (the database cannot be opened) is reported by :func:`serve` as one
    :class:`ServerStartError` line, so the traceback uvicorn would log is withheld.
    """

    def __init__(self, app: ASGIApp, on_started: Callable[[], None] | None) -> None:
        self.app = app
        self.on_started = on_started
        self.failed = False
        self.error: BaseException | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watched_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "lifespan.startup.failed":
                self.failed = True
                message = {**message, "message": ""}
            elif message["type"] == "lifespan.startup.complete" and self.on_started is not None:
                self.on_started()
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            if self.failed:
                self.error = exc
            raise


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run the server in this process until SIGINT/SIGTERM (uvicorn shuts down gracefully).

    Args:
        settings: Server configuration.
        host: Interface to listen on.
        port: TCP port; ``0`` picks a free one.
        log_level: uvicorn's log level.
        announce: Called with the server's URL (``http://host:port``, the real port) once the
            socket is bound and the database is open, just before requests are served.

    Raises:
        ServerStartError: The auth configuration cannot serve, the address cannot be bound or the
            database cannot be opened.
    """
    import uvicorn

    from .connections import ConnectionGuard, ConnectionLimits, uvicorn_options
    from .gc_tuning import tune_after_startup
    from .shutdown import GracefulServer, terminating

    problem = settings.auth_problem()
    if problem is not None:
        raise ServerStartError(f"cannot start: {problem}")
    sock = listen(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    app = create_app(settings)
    engine: EngineAPI = app.state.engine

    def started() -> None:
        tune_after_startup()
        if announce is not None:
            announce(url)

    watch = _StartupWatch(app, started)
    guard = ConnectionGuard(ConnectionLimits.of(settings))
    config = uvicorn.Config(
        watch,
        host=host,
        port=port,
        log_level=log_level,
        # One INFO line per request costs more than many requests' own work; DW_ACCESS_LOG=1 on.
        access_log=settings.access_log,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        # header/body read deadlines, the pending-connection cap, keep-alive (connections.py),
        # and how long in-flight requests may finish on shutdown (parked polls answer at once)
        **uvicorn_options(settings, guard),
    )
    try:
        with terminating() as terminated:
            GracefulServer(config, engine.stop_polling, terminated).run(sockets=[sock])
    except SystemExit:
        if not watch.failed:
            raise
        # uvicorn exits (status 3) after a failed startup: report the cause instead, below.
    finally:
        sock.close()
    if watch.failed:
        detail = _first_line(watch.error) if watch.error is not None else "application startup failed"
        raise ServerStartError(f"cannot open the database: {detail}") from watch.error
