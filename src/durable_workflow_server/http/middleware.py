"""Request guards, run after routing in the documented order (control-plane.md §4.4):

payload limits (413/415/400) → authentication (401/500) → role (403) → version header (400)
→ namespace (404). Each step raises :class:`~.errors.ApiError`; nothing reaches the engine
before every step has passed, so rejected requests write nothing.

They are FastAPI dependencies rather than ASGI middleware because each needs the matched
route (a 404/405 from routing must win over all of them) and per-route configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import traceback
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import versions

from ..engine.api import EngineAPI
from ..settings import Settings
from .errors import ApiError

logger = logging.getLogger("durable_workflow_server")

WORKER, OPERATOR, ADMIN = "worker", "operator", "admin"
ANY_ROLE = frozenset({WORKER, OPERATOR, ADMIN})
OPERATOR_ROLES = frozenset({OPERATOR, ADMIN})
WORKER_ROLES = frozenset({WORKER})
ADMIN_ROLES = frozenset({ADMIN})
_ROLE_ORDER = (WORKER, OPERATOR, ADMIN)

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACCEPTED_CONTENT_TYPES = ["application/json", "application/*+json"]


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``legacy_full_access`` passes every role gate (legacy single token / no auth)."""

    role: str | None
    legacy_full_access: bool = False


@dataclass(frozen=True)
class RequestContext:
    """What a route handler gets once every guard has passed."""

    request: Request
    engine: EngineAPI
    settings: Settings
    namespace: str
    principal: Principal | None
    body: Any  # parsed JSON body, or None when the body was empty


# ---------------------------------------------------------------------- 1. payload limits


async def read_json_body(request: Request, settings: Settings) -> tuple[bytes, Any]:
    """Enforce size, media type and JSON well-formedness; return the raw and parsed body (or None)."""
    limit = settings.max_payload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return raw, None
    if request.method in _BODY_METHODS and not _is_json_media_type(request.headers.get("content-type")):
        raise ApiError(
            415,
            reasons.UNSUPPORTED_MEDIA_TYPE,
            "Request bodies must be JSON (Content-Type: application/json).",
            accepted_content_types=list(ACCEPTED_CONTENT_TYPES),
        )
    try:
        return raw, json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, reasons.MALFORMED_JSON, "The request body is not valid JSON.", json_error=str(exc)
        ) from exc


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, reasons.PAYLOAD_TOO_LARGE, f"The request body exceeds the limit of {limit} bytes.", limit=limit
    )


def _is_json_media_type(value: str | None) -> bool:
    if not value:
        return False
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


# ---------------------------------------------------------------------- 2. authentication


def bearer_token(header: str | None) -> str | None:
    """The text after the last case-insensitive ``Bearer ``, cut at the first comma."""
    if not header:
        return None
    index = header.lower().rfind("bearer ")
    if index < 0:
        return None
    token = header[index + len("bearer ") :].split(",", 1)[0].strip()
    return token or None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authenticate(request: Request, raw_body: bytes, settings: Settings) -> Principal:
    """Resolve the caller per control-plane.md §4.2 (drivers ``none``, ``token``, ``signature``)."""
    driver = (settings.auth_driver or "token").strip().lower()
    if driver == "none":
        return Principal(ADMIN, legacy_full_access=True)
    if driver == "token":
        role_secrets = {
            WORKER: settings.worker_token,
            OPERATOR: settings.operator_token,
            ADMIN: settings.admin_token,
        }
        legacy = settings.auth_token if settings.auth_backward_compatible else None
        given = bearer_token(request.headers.get("authorization"))
        return _match(role_secrets, legacy, given, lambda secret: given is not None and _same(given, secret))
    if driver == "signature":
        # Signature keys are optional settings; a server without them is misconfigured (500).
        role_keys = {
            WORKER: getattr(settings, "worker_signature_key", None),
            OPERATOR: getattr(settings, "operator_signature_key", None),
            ADMIN: getattr(settings, "admin_signature_key", None),
        }
        legacy_key = getattr(settings, "signature_key", None) if settings.auth_backward_compatible else None
        signature = (request.headers.get("x-signature") or "").strip().lower() or None

        def verify(key: str) -> bool:
            if signature is None:
                return False
            digest = hmac.new(key.encode(), raw_body, hashlib.sha256).hexdigest()
            return hmac.compare_digest(digest, signature)

        return _match(role_keys, legacy_key, signature, verify)
    raise ApiError(
        500, reasons.SERVER_ERROR, f"Unknown auth driver {driver!r}; use none, token or signature."
    )


def _match(
    role_secrets: dict[str, str | None],
    legacy: str | None,
    given: str | None,
    matches: Callable[[str], bool],
) -> Principal:
    configured = {role: secret for role, secret in role_secrets.items() if secret}
    if not configured and not legacy:
        raise ApiError(
            500,
            reasons.SERVER_ERROR,
            "Authentication is enabled but no credential is configured (set DW_AUTH_TOKEN or a role token).",
        )
    if given is None:
        raise ApiError(401, reasons.UNAUTHORIZED, "Unauthorized: missing credentials.")
    for role in _ROLE_ORDER:
        secret = configured.get(role)
        if secret and matches(secret):
            return Principal(role)
    if legacy and matches(legacy):
        # The legacy single credential passes every gate only while no role credential exists.
        return Principal(ADMIN, legacy_full_access=not configured)
    raise ApiError(401, reasons.UNAUTHORIZED, "Unauthorized: invalid credentials.")


def authorize(principal: Principal, allowed: frozenset[str]) -> None:
    if principal.legacy_full_access or principal.role in allowed:
        return
    extra: dict[str, Any] = {"allowed_roles": [role for role in _ROLE_ORDER if role in allowed]}
    if principal.role is not None:
        extra = {"role": principal.role, **extra}
    raise ApiError(
        403, reasons.FORBIDDEN, "Forbidden: this credential's role may not call this route.", **extra
    )


# ---------------------------------------------------------------------- 3. version headers


def check_control_plane_version(request: Request) -> None:
    requested = (request.headers.get(versions.CONTROL_PLANE_HEADER) or "").strip()
    supported = versions.CONTROL_PLANE_VERSION
    remediation = (
        f"Send the header {versions.CONTROL_PLANE_HEADER}: {supported} on every control-plane request."
    )
    if not requested:
        raise ApiError(
            400,
            reasons.MISSING_CONTROL_PLANE_VERSION,
            f"Missing {versions.CONTROL_PLANE_HEADER} header.",
            supported_version=supported,
            requested_version=None,
            remediation=remediation,
        )
    if requested != supported:
        raise ApiError(
            400,
            reasons.UNSUPPORTED_CONTROL_PLANE_VERSION,
            f"Unsupported control-plane version {requested!r}; this server speaks {supported}.",
            supported_version=supported,
            requested_version=requested,
            remediation=remediation,
        )


def check_worker_protocol_version(request: Request) -> None:
    requested = (request.headers.get(versions.WORKER_PROTOCOL_HEADER) or "").strip()
    supported = versions.WORKER_PROTOCOL_VERSION
    remediation = (
        f"Send the header {versions.WORKER_PROTOCOL_HEADER} with a version 1.x where x <= 1 "
        f"(this server speaks {supported})."
    )
    if not requested:
        raise ApiError(
            400,
            reasons.MISSING_PROTOCOL_VERSION,
            f"Missing {versions.WORKER_PROTOCOL_HEADER} header.",
            supported_version=supported,
            requested_version=None,
            remediation=remediation,
        )
    if not versions.accepts_worker_protocol(requested, supported):
        raise ApiError(
            400,
            reasons.UNSUPPORTED_PROTOCOL_VERSION,
            f"Unsupported worker protocol version {requested!r}; this server speaks {supported}.",
            supported_version=supported,
            requested_version=requested,
            remediation=remediation,
        )


# ---------------------------------------------------------------------- 4. namespace


def resolve_namespace(request: Request, settings: Settings) -> str:
    """``X-Namespace``, else ``?namespace=``, else the configured default; lower-cased."""
    for candidate in (request.headers.get(versions.NAMESPACE_HEADER), request.query_params.get("namespace")):
        if candidate is not None and candidate.strip():
            return candidate.strip().lower()
    return settings.default_namespace.lower()


async def check_namespace(engine: EngineAPI, namespace: str) -> None:
    if not await engine.namespace_exists(namespace):
        raise ApiError(
            404,
            reasons.NAMESPACE_NOT_FOUND,
            f"Namespace '{namespace}' does not exist.",
            namespace=namespace,
            remediation="Create the namespace first (dw namespace:create) or send an existing X-Namespace.",
        )


# ---------------------------------------------------------------------- the guard


class Guard:
    """One route group's guard chain, used as a FastAPI dependency returning :class:`RequestContext`.

    Args:
        roles: roles allowed past the role gate, or ``None`` for routes without authentication.
        version: which version header to require: ``"control"``, ``"worker"`` or ``None``.
        namespace: whether the resolved namespace must exist.
    """

    def __init__(self, *, roles: frozenset[str] | None, version: str | None, namespace: bool) -> None:
        self.roles = roles
        self.version = version
        self.namespace = namespace

    async def __call__(self, request: Request) -> RequestContext:
        settings: Settings = request.app.state.settings
        engine: EngineAPI = request.app.state.engine
        raw, body = await read_json_body(request, settings)
        principal: Principal | None = None
        if self.roles is not None:
            principal = authenticate(request, raw, settings)
            authorize(principal, self.roles)
        if self.version == "control":
            check_control_plane_version(request)
        elif self.version == "worker":
            check_worker_protocol_version(request)
        namespace = resolve_namespace(request, settings)
        if self.namespace:
            await check_namespace(engine, namespace)
        return RequestContext(request, engine, settings, namespace, principal, body)


PUBLIC = Guard(roles=None, version=None, namespace=False)
CLUSTER_INFO = Guard(roles=ANY_ROLE, version=None, namespace=False)
CONTROL_PLANE = Guard(roles=OPERATOR_ROLES, version="control", namespace=True)
WORKER_PLANE = Guard(roles=WORKER_ROLES, version="worker", namespace=True)


# ---------------------------------------------------------------------- unhandled errors


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
