"""The API's request path as one ASGI app: route, answer, catch, count and compress in one call.

A request an API route serves used to pass Starlette's error middleware, our catch-all, the
gzip middleware, the request counter, Starlette's exception middleware and its router, each an
ASGI layer wrapping ``send`` in a closure of its own, before the route's guards (themselves one
ASGI layer each). :class:`ApiDispatch` does what those layers did for such a request as plain
steps, with the same outcome to the byte:

* routing: a route with a literal path is found by one dict lookup on (method, path), any other
  by the planes' own matching (first full match in table order, as Starlette's router);
* the answer: the route's :class:`~.routing.RoutePlan` (guards, validation, handler, envelope);
* the catch-all: an exception becomes its ``500``/``503`` envelope (:class:`.CatchAllMiddleware`);
* counting: the request is counted once its status is known, by route template;
* compression: a body under the gzip minimum (nearly every API answer) is sent as is, since the
  gzip middleware would send it unchanged; a larger one goes through Starlette's gzip responder.

Everything else (``404``/``405``, redirects, ``/metrics``, the UI, reserved routes) takes the
Starlette stack as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from ..engine.maintenance.counters import REQUESTS, Labels, ProcessCounters
from ..settings import Settings
from .envelope import Prepared
from .middleware import CatchAllMiddleware
from .routing import PLANE_KEY, ROUTE_KEY, PlaneRoutes, RoutePlan, ServedRoute, send_prepared

HttpErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class _SendPrepared:
    """An ASGI app that sends one encoded answer (what the gzip responder wraps)."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_prepared(send, self.prepared)


class ApiDispatch:
    """Serves the requests an API route fully matches; :meth:`find` says which ones."""

    def __init__(
        self,
        groups: Sequence[PlaneRoutes],
        router: object,
        settings: Settings,
        counters: ProcessCounters,
        catch_all: CatchAllMiddleware,
        http_error: HttpErrorHandler,
        gzip_minimum: int | None,
    ) -> None:
        """``gzip_minimum``: the gzip middleware's minimum size, ``None`` when it is off."""
        self.groups = list(groups)
        self.router = router
        self.settings = settings
        self.counters = counters
        self.catch_all = catch_all
        self.http_error = http_error
        self.gzip_minimum = gzip_minimum
        # (method, route template, status) -> the request counter's key (its labels sorted by
        # name, as ProcessCounters.inc sorts them): built once per combination, not per request.
        self._count_keys: dict[tuple[str, str, int], tuple[str, Labels]] = {}
        # (method, path) -> (route, plane) for every literal path whose request the planes'
        # matching gives that route (so an earlier route that also matches keeps winning).
        self.literal: dict[tuple[str, str], tuple[ServedRoute, str]] = {}
        for group in self.groups:
            for route in group.routes:
                if not isinstance(route.app, RoutePlan) or "{" in route.path:
                    continue
                method = route.operation.method
                probe: Scope = {"type": "http", "method": method, "path": route.path, "root_path": ""}
                found = self._match(probe)
                if found is not None and found[0] is route:
                    self.literal[(method, route.path)] = (route, found[1][PLANE_KEY])

    def _match(self, scope: Scope) -> tuple[ServedRoute, Scope] | None:
        for group in self.groups:
            match, child = group.matches(scope)
            if match is Match.FULL:
                return child[ROUTE_KEY], child
        return None

    def find(self, scope: Scope) -> tuple[ServedRoute, Scope] | None:
        """The served route an ``http`` request fully matches, with its child scope; ``None`` for a
        request the Starlette stack answers."""
        if not scope.get("root_path"):
            hit = self.literal.get((scope["method"], scope["path"]))
            if hit is not None:
                route, plane = hit
                child = {"endpoint": route.endpoint, "path_params": {}, ROUTE_KEY: route, PLANE_KEY: plane}
                return route, child
        found = self._match(scope)
        if found is None or not isinstance(found[0].app, RoutePlan):
            return None
        return found

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, route: ServedRoute, child: Scope
    ) -> None:
        """Answer a request :meth:`find` matched, as the Starlette stack would."""
        if "router" not in scope:
            scope["router"] = self.router
        scope["route"] = route
        scope.update(child)
        plan = route.app
        assert isinstance(plan, RoutePlan)  # find() gives served routes only
        status = 500  # counted when nothing is answered (the client went away, cancelled)
        try:
            try:
                prepared = await plan.respond(scope, receive)
            except HTTPException as exc:
                response = await self.http_error(Request(scope, receive), exc)
                prepared = (response.status_code, response.raw_headers, bytes(response.body))
            except Exception as exc:
                code, body, headers = self.catch_all.failure(scope, exc)
                prepared = plan.envelope.encode(code, body, self.settings, scope.get("path_params"), headers)
            if prepared is None:
                return
            status = prepared[0]
            minimum = self.gzip_minimum
            if minimum is not None and len(prepared[2]) >= minimum:
                await GZipMiddleware(_SendPrepared(prepared), minimum_size=minimum)(scope, receive, send)
            else:
                await send_prepared(send, prepared)
        finally:
            method = scope["method"]
            key = self._count_keys.get((method, plan.template, status))
            if key is None:
                labels = (("method", method), ("route", plan.template), ("status", str(status)))
                key = self._count_keys[(method, plan.template, status)] = (REQUESTS, labels)
            self.counters.inc_key(key)
