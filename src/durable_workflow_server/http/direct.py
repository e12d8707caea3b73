"""Direct dispatch of the API routes, ahead of FastAPI's router.

Every route of this server has the same shape: string path parameters plus one
``ctx: Annotated[RequestContext, Depends(<Guard>)]``. For such a route FastAPI's generic
machinery (a linear scan of every route, dependency solving, exit stacks) cost more per request
than the route's own work did. :class:`DirectRouter` serves these routes itself: it matches the
path against the same templates, runs the same :class:`~.middleware.Guard` and calls the same
endpoint function, so behaviour is defined in one place (the FastAPI route declarations).

Whatever it does not serve (unknown paths, wrong methods, trailing-slash redirects, routes of
another shape) falls through to FastAPI unchanged, so 404/405 answers and their envelopes stay
FastAPI's. ``ApiError`` is rendered exactly as the app's exception handler renders it; any other
exception propagates to :class:`~.middleware.CatchAllMiddleware` (500), as it would from FastAPI.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.params import Depends
from fastapi.routing import APIRoute, APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ApiError
from .middleware import Guard

Endpoint = Callable[..., Awaitable[Response]]
Render = Callable[[Scope, int, dict[str, Any]], ASGIApp]

_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True)
class DirectRoute:
    """One served route: its methods, compiled path, guard and endpoint."""

    methods: frozenset[str]
    pattern: re.Pattern[str]
    guard: Guard
    endpoint: Endpoint
    ctx_name: str


def _compile(path: str) -> re.Pattern[str] | None:
    """Starlette's rule for ``{name}`` (one non-empty segment); ``None`` for other converters."""
    if "{" in _PARAM.sub("", path):
        return None  # e.g. {name:path}: leave it to FastAPI
    parts, last = [], 0
    for match in _PARAM.finditer(path):
        parts.append(re.escape(path[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+)")
        last = match.end()
    parts.append(re.escape(path[last:]))
    return re.compile("^" + "".join(parts) + "$")


def _direct(prefix: str, route: APIRoute) -> DirectRoute | None:
    """The direct form of ``route`` if it has the one supported shape, else ``None``."""
    pattern = _compile(prefix + route.path)
    if pattern is None:
        return None
    try:
        hints = typing.get_type_hints(route.endpoint, include_extras=True)
    except Exception:  # annotations we cannot resolve: not a shape we know
        return None
    path_params = set(pattern.groupindex)
    guard: Guard | None = None
    ctx_name = ""
    for name in inspect.signature(route.endpoint).parameters:
        hint = hints.get(name)
        if name in path_params and hint is str:
            continue
        markers = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Depends)]
        if guard is None and len(markers) == 1 and isinstance(markers[0].dependency, Guard):
            guard, ctx_name = markers[0].dependency, name
            continue
        return None  # anything else (query models, bodies, other dependencies) stays with FastAPI
    if guard is None:
        return None
    return DirectRoute(frozenset(route.methods or ()), pattern, guard, route.endpoint, ctx_name)


def direct_routes(prefix: str, routers: typing.Iterable[APIRouter]) -> list[DirectRoute]:
    """The routes :class:`DirectRouter` can serve, in the order the app includes them.

    ``routers`` must be exactly the routers the app includes under ``prefix``, in that order.
    """
    found: list[DirectRoute] = []
    for router in routers:
        for route in router.routes:
            direct = _direct(prefix, route) if isinstance(route, APIRoute) else None
            if direct is None:
                # Serving a later route directly could change which route wins: stop here.
                return found
            found.append(direct)
    return found


class DirectRouter:
    """Pure-ASGI middleware serving :func:`direct_routes` before the app's own router."""

    def __init__(self, app: ASGIApp, routes: list[DirectRoute], render: Render) -> None:
        self.app = app
        self.routes = routes
        self.render = render

    def _match(self, scope: Scope) -> tuple[DirectRoute, dict[str, str]] | None:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        method = scope["method"]
        for route in self.routes:
            # Starlette takes the first route matching path *and* method; a path-only match
            # decides nothing (a later route may still match fully), so keep looking.
            found = route.pattern.match(path) if method in route.methods else None
            if found is not None:
                return route, found.groupdict()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self._match(scope) if scope["type"] == "http" else None
        if matched is None:
            await self.app(scope, receive, send)
            return
        route, params = matched
        request = Request(scope, receive)
        response: ASGIApp
        try:
            ctx = await route.guard(request)
            response = await route.endpoint(**params, **{route.ctx_name: ctx})
        except ApiError as exc:
            response = self.render(scope, exc.status, exc.body())
        await response(scope, receive, send)
