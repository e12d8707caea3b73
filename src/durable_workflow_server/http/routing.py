"""The declarative route table: operations, planes, and the ASGI pieces that serve them.

Each route module (``workflows.py``, ``worker_plane.py``, ``health.py``, ``system.py``)
declares its :class:`Operation` s: method, path (a constant of
:mod:`durable_workflow.protocol.routes`), operation id, request model and handler. A
:class:`Plane` groups the operations of one plane with their guard chain and envelope;
:func:`build_planes` turns them into Starlette routes.

Why a :class:`PlaneRoutes` rather than Starlette's ``Mount``: every plane lives under ``/api``,
and a ``Mount`` claims its whole prefix, so the first plane would answer (404) for paths that
belong to the next, and trailing-slash redirects would fire for paths no route serves. A
``PlaneRoutes`` claims exactly the paths its routes match, so routing (404, 405, redirects)
behaves as one flat table while each plane keeps its own guards and envelope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import routes

from ..connections import answer_directly
from ..engine.api import EngineAPI
from ..engine.errors import DomainError
from ..settings import Settings
from . import guards, limits, tenancy
from .envelope import Envelope, PlaneName, Prepared
from .errors import ApiError, validation_error
from .problems import BODY_NOT_OBJECT, field_errors, render
from .tenancy import Tenancy

M = TypeVar("M", bound=BaseModel)
PLANE_KEY = "durable_workflow.plane"  # the scope key naming the plane of a routed request
ROUTE_KEY = "durable_workflow.route"  # the scope key holding the matched ServedRoute


@dataclass(frozen=True)
class Call(Generic[M]):
    """What a handler receives: the validated request and where it runs."""

    input: M
    path: Mapping[str, str]
    namespace: str
    engine: EngineAPI
    settings: Settings
    receive: Receive  # for long polls that watch for the caller hanging up
    principal: guards.Principal | None = None  # who is calling (None on unauthenticated routes)


@dataclass
class Reply:
    """A handler's answer: the body (before the envelope) and its status."""

    body: dict[str, Any]
    status: int = 200
    headers: Mapping[str, str] | None = None  # extra response headers (extensions advertised per route)


Handler = Callable[[Call[Any]], Awaitable[Reply]]


_Result = TypeVar("_Result")


async def engine_call(
    coro: Awaitable[_Result], *, status_overrides: Mapping[str, int] | None = None
) -> _Result:
    """Await an engine call; its refusal becomes the documented error (``status_overrides`` by reason)."""
    try:
        return await coro
    except DomainError as exc:
        status = (status_overrides or {}).get(exc.reason)
        raise ApiError.from_domain(exc, status) from exc


def copy_reply(body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    """Answer ``body`` as is; a copy, because the response envelope adds its keys to the body it gets."""
    return Reply(dict(body), status, headers)


@dataclass(frozen=True)
class Operation:
    """One route of the table.

    Attributes:
        method: the HTTP method.
        path: the path below ``/api`` (a constant of ``durable_workflow.protocol.routes``).
        operation_id: a stable name (OpenAPI ``operationId``).
        handler: the coroutine serving it; ``None`` for a *reserved* route the contract names
            but this server does not serve yet (answered 404 before any guard, as routing would).
        body: the pydantic model of the JSON body.
        query: the pydantic model of the query string.
        envelope: the workflow operation named in the ``control_plane`` block, if any.
        summary: one line for the OpenAPI document.
        responses: the success statuses it answers.
        roles: the roles allowed to call it, when they differ from its plane's (admin-only
            routes of the control plane).
        namespace_must_exist: overrides the plane's rule (``False`` for the namespace routes,
            which name their namespace in the path, not in ``X-Namespace``).
        tenancy: where the route names the namespace it acts in, which a namespace-bound
            credential must be allowed to use (:data:`.tenancy.Tenancy`; ``X-Namespace`` unless
            said otherwise).
    """

    method: str
    path: str
    operation_id: str
    handler: Handler | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    envelope: str | None = None
    summary: str = ""
    responses: tuple[int, ...] = (200,)
    roles: frozenset[str] | None = None
    namespace_must_exist: bool | None = None
    tenancy: Tenancy = "header"

    @property
    def served(self) -> bool:
        return self.handler is not None


@dataclass(frozen=True)
class Plane:
    """A group of operations sharing one guard chain and one envelope."""

    name: PlaneName
    operations: Sequence[Operation]
    roles: frozenset[str] | None = None  # None: no authentication
    version: Callable[..., None] | None = None  # the version-header check
    namespace_must_exist: bool = False
    resolve_namespace: bool = True
    title: str = ""


# ---------------------------------------------------------------------- the endpoint


def _body_of(state: guards.RequestState) -> tuple[Any, dict[str, list[str]]]:
    if state.body is None:
        return {}, {}
    if not isinstance(state.body, dict):
        return {}, {"body": [BODY_NOT_OBJECT]}
    return state.body, {}


def _unstorable(
    model: type[BaseModel] | None, value: Any, prefix: tuple[str | int, ...] = ()
) -> dict[str, list[str]]:
    found = [{"loc": loc, "type": kind} for loc, kind in limits.bad_strings(value, prefix)]
    return field_errors(model, found)


class Endpoint:
    """The innermost step of a route: validate into the model and call the handler."""

    def __init__(self, operation: Operation, engine: EngineAPI, settings: Settings) -> None:
        assert operation.handler is not None
        self.operation = operation
        self.handler = operation.handler
        self.model = operation.body or operation.query
        self.engine = engine
        self.settings = settings
        self.context = {"settings": settings}

    async def answer(self, scope: Scope, receive: Receive, state: guards.RequestState) -> Reply:
        path: dict[str, str] = scope.get("path_params", {})
        operation, model = self.operation, self.model
        data: Any = {}
        prefix: dict[str, list[str]] = {}
        if operation.body is not None:
            data, prefix = _body_of(state)
        elif operation.query is not None:
            data = dict(QueryParams(scope.get("query_string", b"")))
        # Text that could not be stored and read back is refused wherever it is (path ids too).
        # In a UTF-8 JSON body such text can only be spelled as a \u escape, so most bodies skip
        # the walk; UTF-16/32 bodies (which json accepts) always hold NUL bytes and are walked.
        raw = state.raw
        scan_body = operation.body is None or b"\\u" in raw or b"\x00" in raw
        unstorable = _unstorable(None, path) if path else {}
        if scan_body:
            unstorable = {**unstorable, **_unstorable(model, data)}
        if unstorable:
            raise validation_error(unstorable)
        validated: Any = None
        if model is not None:
            try:
                validated = model.model_validate(data, context=self.context)
            except ValidationError as exc:
                raise render(model, exc, prefix) from exc
            if prefix:
                raise validation_error(prefix)
        call = Call(validated, path, state.namespace, self.engine, self.settings, receive, state.principal)
        return await self.handler(call)


async def send_prepared(send: Send, prepared: Prepared) -> None:
    """Send an encoded answer: its start, then its whole body."""
    status, headers, body = prepared
    if answer_directly(send, status, headers, body):
        return
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RoutePlan:
    """A served route's answer: its guards as plain calls, what each decides fixed per route.

    The documented order: payload limits, then (on a plane with roles) authentication, role and
    the tenancy of a namespace-bound credential, then the version header, then the namespace,
    then the endpoint. A guard's refusal is answered in the route's envelope.
    """

    def __init__(self, operation: Operation, plane: Plane, settings: Settings, engine: EngineAPI) -> None:
        self.endpoint = Endpoint(operation, engine, settings)
        self.envelope = Envelope(plane.name, operation.envelope)
        self.template = routes.API_PREFIX + operation.path  # the route label of its request count
        self.settings = settings
        self.engine = engine
        self.limit = settings.max_payload_bytes
        self.roles = (operation.roles or plane.roles) if plane.roles is not None else None
        self.tenancy: Tenancy = operation.tenancy
        self.version = plane.version
        self.resolve_namespace = plane.resolve_namespace
        must_exist = operation.namespace_must_exist
        self.must_exist = plane.namespace_must_exist if must_exist is None else must_exist

    async def respond(self, scope: Scope, receive: Receive) -> Prepared | None:
        """The route's encoded answer; ``None`` when the client went away before its body arrived
        (nobody is left to answer, and nothing acted on the incomplete body)."""
        state = guards.RequestState(guards.RequestHeaders(scope))
        scope[guards.STATE] = state
        settings = self.settings
        try:
            if not await guards.read_payload(scope, receive, state, self.limit):
                return None
            roles = self.roles
            if roles is not None:
                principal = guards.authenticate(state.headers, state.raw, settings)
                state.principal = principal
                guards.authorize(principal, roles)
                if principal.namespaces is not None:
                    named = tenancy.target_namespace(scope, self.tenancy, settings)
                    tenancy.authorize_namespace(principal, named)
            if self.version is not None:
                self.version(state.headers)
            if self.resolve_namespace:
                state.namespace = await guards.namespace_of(
                    scope, settings, self.engine, must_exist=self.must_exist
                )
            reply = await self.endpoint.answer(scope, receive, state)
            return self.envelope.encode(
                reply.status, reply.body, settings, scope.get("path_params", {}), reply.headers
            )
        except ApiError as exc:
            return self.envelope.encode(exc.status, exc.body(), settings, scope.get("path_params"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prepared = await self.respond(scope, receive)
        if prepared is not None:
            await send_prepared(send, prepared)


class Reserved:
    """A contract route this server does not serve yet: the routing 404, in the route's envelope."""

    def __init__(self, operation: Operation, plane: Plane, settings: Settings) -> None:
        self.method = operation.method
        self.envelope = Envelope(plane.name, operation.envelope)
        self.plain = Envelope(plane.name)
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        envelope = self.envelope if scope["method"] == self.method else self.plain
        body = {"message": "Not Found", "reason": reasons.NOT_FOUND}
        await envelope.render(404, body, self.settings, scope.get("path_params"))(scope, receive, send)


class ServedRoute(Route):
    """A Starlette route that keeps its :class:`Operation` and answers exactly its method.

    Starlette adds ``HEAD`` to every ``GET`` route; this API has never answered ``HEAD``.
    """

    def __init__(self, operation: Operation, app: ASGIApp, methods: list[str] | None) -> None:
        # A signal/query/update name may contain slashes: the whole rest of the path.
        path = routes.API_PREFIX + operation.path.replace("{name}", "{name:path}")
        super().__init__(path, app, methods=methods, name=operation.operation_id)
        self.operation = operation
        if self.methods is not None:
            self.methods.discard("HEAD")


def _common_prefix(texts: Sequence[str]) -> str:
    """The longest string every one of ``texts`` starts with (character by character)."""
    if not texts:
        return ""
    first, last = min(texts), max(texts)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _first_segment(rest: str) -> str:
    return rest.split("/", 1)[0]


class PlaneRoutes(BaseRoute):
    """The routes of one plane; claims a request only when one of them matches it.

    Matching is Starlette's (first full match wins; otherwise the first path-only match, which
    answers 405), narrowed for speed, since the app's router asks every plane in turn: a plane
    whose paths share a prefix skips other requests at once, and the routes tried are only those
    that can match the request's first path segment after that prefix (its literal, or a
    parameter there), the ones of its method first, each in table order. A worker-plane request
    used to try every control-plane path (two regular expressions each) before reaching its own.
    """

    def __init__(self, plane: Plane, served: Sequence[ServedRoute]) -> None:
        self.plane = plane
        self.routes = list(served)
        self.prefix = _common_prefix([route.path.split("{", 1)[0] for route in self.routes])
        # Each route under the literal first segment of its path after the prefix; a route with
        # a parameter in that segment may match any request segment.
        literal: dict[str, str | None] = {}
        for route in self.routes:
            segment = _first_segment(route.path[len(self.prefix) :])
            literal[route.path] = None if "{" in segment else segment
        segments = {segment for segment in literal.values() if segment is not None}
        methods = {m for route in self.routes for m in (route.methods or ())}

        def candidates(segment: str | None) -> list[ServedRoute]:
            return [r for r in self.routes if literal[r.path] in (None, segment)]

        # (method, segment) -> (routes that may match fully, then routes that may match the path
        # only); segment None: a request segment no route names literally.
        self._tried: dict[tuple[str | None, str | None], tuple[list[ServedRoute], list[ServedRoute]]] = {}
        keys: list[str | None] = [*segments, None]
        for key in keys:
            found = candidates(key)
            for method in [*methods, None]:
                full = [r for r in found if r.methods is None or (method is not None and method in r.methods)]
                self._tried[(method, key)] = (full, [r for r in found if r not in full])

    def tried(self, method: str, segment: str) -> tuple[list[ServedRoute], list[ServedRoute]]:
        """The routes a ``method`` request whose path goes on with ``segment`` may match: fully,
        then by path only (a 405)."""
        tried = self._tried
        found = tried.get((method, segment))
        if found is not None:
            return found
        known: str | None = method if (method, None) in tried else None
        return tried.get((known, segment)) or tried[(known, None)]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = _route_path(scope) if scope["type"] == "http" else ""
        prefix = self.prefix
        if not path.startswith(prefix):
            return Match.NONE, {}
        for candidates in self.tried(scope["method"], _first_segment(path[len(prefix) :])):
            for route in candidates:
                if route.path_regex.match(path) is None:
                    continue
                match, child = route.matches(scope)
                if match is not Match.NONE:
                    return match, {**child, ROUTE_KEY: route, PLANE_KEY: self.plane.name}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: ServedRoute = scope[ROUTE_KEY]
        scope["route"] = route
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            if route.name == name:
                return route.url_path_for(name, **path_params)
        raise NoMatchFound(name, path_params)


def _serve(operation: Operation, plane: Plane, settings: Settings, engine: EngineAPI) -> ServedRoute:
    if not operation.served:
        return ServedRoute(operation, Reserved(operation, plane, settings), methods=None)
    return ServedRoute(operation, RoutePlan(operation, plane, settings, engine), methods=[operation.method])


def build_planes(planes: Sequence[Plane], settings: Settings, engine: EngineAPI) -> list[PlaneRoutes]:
    """Starlette routes for ``planes``, in order (served routes before reserved ones)."""
    built = []
    for plane in planes:
        served = [_serve(op, plane, settings, engine) for op in plane.operations if op.served]
        reserved = [_serve(op, plane, settings, engine) for op in plane.operations if not op.served]
        built.append(PlaneRoutes(plane, served + reserved))
    return built
