"""Request guards: plain calls, run per route in the documented order

payload limits (413/415/400) → authentication (401) → role (403) → tenancy of a
namespace-bound credential (403, :mod:`.tenancy`) → version header (400) → namespace (404).

They run for a route *after* routing has matched (:class:`~.routing.RoutePlan`, which decides
once per route which steps apply), so a 404/405 from routing wins over all of them, and nothing
reaches the engine before every step has passed (rejected requests write nothing). Each step
raises :class:`~.errors.ApiError`; the route's plan renders it with the route's envelope. What the
steps learn (the body, the caller, the namespace) is kept on :class:`RequestState` in the ASGI scope.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.types import Receive, Scope

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import versions

from ..engine.api import EngineAPI
from ..settings import Settings
from . import limits
from .errors import ApiError

WORKER, OPERATOR, ADMIN = "worker", "operator", "admin"
ANY_ROLE = frozenset({WORKER, OPERATOR, ADMIN})
OPERATOR_ROLES = frozenset({OPERATOR, ADMIN})
WORKER_ROLES = frozenset({WORKER})
ADMIN_ROLES = frozenset({ADMIN})
_ROLE_ORDER = (WORKER, OPERATOR, ADMIN)

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACCEPTED_CONTENT_TYPES = ["application/json", "application/*+json"]
STATE = "durable_workflow.request"  # the scope key holding the RequestState


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``legacy_full_access`` passes every role gate (legacy single token / no auth).

    ``namespaces`` is the set a namespace-bound credential may use (``DW_NAMESPACE_TOKENS``);
    ``None`` for every other credential, which may use any namespace.
    """

    role: str | None
    legacy_full_access: bool = False
    namespaces: frozenset[str] | None = None

    def may_use(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces


class RequestHeaders(Headers):
    """Starlette's ``Headers`` of one request, its single-value lookups answered from a dict.

    ``Headers`` scans the whole header list for every lookup, and each request looks up half a
    dozen (length, type, credentials, version, namespace): one dict built up front is cheaper.
    A name's value is its first one, as ``Headers`` answers; ``getlist`` is ``Headers``' own.
    """

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope=scope)
        # dict() keeps the last value it is given for a name: given the list last to first, it
        # keeps each name's first value.
        self._first: dict[bytes, bytes] = dict(reversed(self._list))

    def __getitem__(self, key: str) -> str:
        value = self._first.get(key.lower().encode("latin-1"))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def get(self, key: str, default: Any = None) -> Any:
        value = self._first.get(key.lower().encode("latin-1"))
        return default if value is None else value.decode("latin-1")

    def __contains__(self, key: Any) -> bool:
        return key.lower().encode("latin-1") in self._first

    def getlist(self, key: str) -> list[str]:
        if key.lower().encode("latin-1") not in self._first:
            return []
        return super().getlist(key)


@dataclass
class RequestState:
    """What the guards learnt about one request, for the steps after them."""

    headers: Headers
    raw: bytes = b""
    body: Any = None  # parsed JSON, or None for an empty body
    principal: Principal | None = None
    namespace: str = ""


def state_of(scope: Scope) -> RequestState:
    state: RequestState = scope[STATE]
    return state


# ---------------------------------------------------------------------- 1. payload limits


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, reasons.PAYLOAD_TOO_LARGE, f"The request body exceeds the limit of {limit} bytes.", limit=limit
    )


def _is_json_media_type(value: str | None) -> bool:
    if not value:
        return False
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_payload(scope: Scope, receive: Receive, state: RequestState, limit: int) -> bool:
    """Read the body into ``state`` under the size (413), media type (415) and JSON (400) rules.

    Returns ``False`` when the client went away (or the server closed a body that did not arrive
    in time): the body is incomplete, so nothing may act on it, and nobody is left to answer.
    """
    headers = state.headers
    declared = headers.get("content-length")
    declared_digits = declared.strip() if declared is not None else ""
    # isascii() too: isdigit() accepts digits int() refuses (superscripts, other scripts).
    if declared_digits.isascii() and declared_digits.isdigit() and int(declared_digits) > limit:
        raise _too_large(limit)
    message = await receive()
    if message["type"] != "http.request":
        return False
    raw: bytes = message.get("body", b"")
    if len(raw) > limit:
        raise _too_large(limit)
    if message.get("more_body", False):  # most bodies come in one message
        chunks = [raw]
        size = len(raw)
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            more = message.get("more_body", False)
        raw = b"".join(chunks)
    state.raw = raw
    if raw.strip():
        if scope["method"] in _BODY_METHODS and not _is_json_media_type(headers.get("content-type")):
            raise ApiError(
                415,
                reasons.UNSUPPORTED_MEDIA_TYPE,
                "Request bodies must be JSON (Content-Type: application/json).",
                accepted_content_types=list(ACCEPTED_CONTENT_TYPES),
            )
        try:
            state.body = limits.parse_json(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                400, reasons.MALFORMED_JSON, "The request body is not valid JSON.", json_error=str(exc)
            ) from exc
    return True


# ---------------------------------------------------------------------- 2. authentication


_BEARER = "bearer"
_MALFORMED = "Unauthorized: the Authorization header must be exactly 'Bearer <token>'."


# A token is one run of visible characters: no whitespace (``\s`` is str.isspace's set), no
# control character, no comma (a comma would make the header a list of credentials, which this
# server never accepts). One regex rather than a check per character: it runs on every request.
_TOKEN_TEXT = re.compile(r"[^\x00-\x20\x7f,\s]+")


def is_token_text(text: str) -> bool:
    return _TOKEN_TEXT.fullmatch(text) is not None


def bearer_token(headers: Headers) -> str | None:
    """The token of the request's one ``Authorization: Bearer <token>`` header, or ``None`` if absent.

    Parsed strictly: exactly one ``Authorization`` header, the scheme ``Bearer`` (any case, as
    RFC 7235 says schemes are), one space, then a non-empty token without whitespace or commas.
    ``XBearer t``, ``Basic x, Bearer t``, ``Bearer  t`` and two headers are all refused.

    Raises:
        ApiError: 401 ``unauthorized`` for a malformed or repeated header.
    """
    values = headers.getlist("authorization")
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(401, reasons.UNAUTHORIZED, "Unauthorized: more than one Authorization header.")
    scheme, space, token = values[0].partition(" ")
    if scheme.lower() != _BEARER or not space or not is_token_text(token):
        raise ApiError(401, reasons.UNAUTHORIZED, _MALFORMED)
    return token


def _digest(text: str) -> bytes:
    # Comparing fixed-length digests keeps compare_digest from leaking a secret's length; the
    # error handler lets any text (an environment value may hold surrogates) be compared.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _first_match(given: bytes, candidates: list[tuple[bytes, Principal]]) -> Principal | None:
    """The first candidate whose digest equals ``given``, comparing against every candidate.

    No early exit: the time taken does not tell which credential matched, or whether any did.
    """
    found: Principal | None = None
    for expected, principal in candidates:
        if hmac.compare_digest(given, expected) and found is None:
            found = principal
    return found


def _role_candidates(
    role_secrets: dict[str, str | None], legacy: str | None, digest: Callable[[str], bytes]
) -> list[tuple[bytes, Principal]]:
    configured = [(role, secret) for role, secret in role_secrets.items() if secret]
    candidates = [(digest(secret), Principal(role)) for role, secret in configured]
    if legacy:
        # The legacy single credential passes every gate only while no role credential exists.
        candidates.append((digest(legacy), Principal(ADMIN, legacy_full_access=not configured)))
    return candidates


# The token driver's candidates (digests of every configured token) for the last settings seen
# (a server has one): hashing each configured token again for every request cost more than the
# rest of authentication. Settings are frozen, so the candidates cannot go stale.
_token_cache: tuple[Settings, list[tuple[bytes, Principal]]] | None = None


def _token_candidates(settings: Settings) -> list[tuple[bytes, Principal]]:
    global _token_cache
    cached = _token_cache
    if cached is not None and cached[0] is settings:
        return cached[1]
    role_secrets = {
        WORKER: settings.worker_token,
        OPERATOR: settings.operator_token,
        ADMIN: settings.admin_token,
    }
    legacy = settings.auth_token if settings.auth_backward_compatible else None
    candidates = _role_candidates(role_secrets, legacy, _digest)
    candidates += [
        (_digest(entry.token), Principal(entry.role, namespaces=entry.namespaces))
        for entry in settings.namespace_tokens
    ]
    _token_cache = (settings, candidates)
    return candidates


_MISSING = "Unauthorized: missing credentials."
_INVALID = "Unauthorized: invalid credentials."


def authenticate(headers: Headers, raw_body: bytes, settings: Settings) -> Principal:
    """Resolve the caller (drivers ``none``, ``token``, ``signature``).

    The configuration itself was validated when the app was built (``Settings.check_auth``),
    so every driver here has at least one credential.
    """
    driver = settings.auth_driver_name
    legacy_on = settings.auth_backward_compatible
    if driver == "none":
        return Principal(ADMIN, legacy_full_access=True)
    if driver == "token":
        given = bearer_token(headers)
        if given is None:
            raise ApiError(401, reasons.UNAUTHORIZED, _MISSING)
        principal = _first_match(_digest(given), _token_candidates(settings))
        if principal is None:
            raise ApiError(401, reasons.UNAUTHORIZED, _INVALID)
        return principal
    if driver == "signature":
        role_keys = {
            WORKER: settings.worker_signature_key,
            OPERATOR: settings.operator_signature_key,
            ADMIN: settings.admin_signature_key,
        }
        values = headers.getlist("x-signature")
        if len(values) > 1:
            raise ApiError(401, reasons.UNAUTHORIZED, "Unauthorized: more than one X-Signature header.")
        signature = (values[0] if values else "").strip().lower()
        if not signature:
            raise ApiError(401, reasons.UNAUTHORIZED, _MISSING)

        def signed_with(key: str) -> bytes:
            # The digest the caller should have sent for this key, as bytes to compare.
            mac = hmac.new(key.encode("utf-8", "surrogatepass"), raw_body, hashlib.sha256)
            return mac.hexdigest().encode()

        candidates = _role_candidates(role_keys, settings.signature_key if legacy_on else None, signed_with)
        principal = _first_match(signature.encode("utf-8", "surrogatepass"), candidates)
        if principal is None:
            raise ApiError(401, reasons.UNAUTHORIZED, _INVALID)
        return principal
    # Unreachable through create_app, which refuses an unknown driver; never run open.
    raise ApiError(500, reasons.SERVER_ERROR, f"Unknown auth driver {driver!r}; use none, token or signature")


# ---------------------------------------------------------------------- 3. role


def authorize(principal: Principal, allowed: frozenset[str]) -> None:
    if principal.legacy_full_access or principal.role in allowed:
        return
    extra: dict[str, Any] = {"allowed_roles": [role for role in _ROLE_ORDER if role in allowed]}
    if principal.role is not None:
        extra = {"role": principal.role, **extra}
    raise ApiError(
        403, reasons.FORBIDDEN, "Forbidden: this credential's role may not call this route.", **extra
    )


# ---------------------------------------------------------------------- 4. version headers


def check_control_plane_version(headers: Headers) -> None:
    requested = (headers.get(versions.CONTROL_PLANE_HEADER) or "").strip()
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


def check_worker_protocol_version(headers: Headers) -> None:
    requested = (headers.get(versions.WORKER_PROTOCOL_HEADER) or "").strip()
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
    # Only ASCII digits are a version: "¹.¹" passes str.isdigit() but is not a number int() reads.
    if not requested.isascii() or not versions.accepts_worker_protocol(requested, supported):
        raise ApiError(
            400,
            reasons.UNSUPPORTED_PROTOCOL_VERSION,
            f"Unsupported worker protocol version {requested!r}; this server speaks {supported}.",
            supported_version=supported,
            requested_version=requested,
            remediation=remediation,
        )


# ---------------------------------------------------------------------- 5. namespace


def resolve_namespace(scope: Scope, settings: Settings) -> str:
    """``X-Namespace``, else ``?namespace=``, else the configured default; lower-cased."""
    header = state_of(scope).headers.get(versions.NAMESPACE_HEADER)
    if header is not None and header.strip():
        return header.strip().lower()
    # The query string is parsed only when the header does not name one (workers always send it).
    query = QueryParams(scope.get("query_string", b"")).get("namespace")
    if query is not None and query.strip():
        return query.strip().lower()
    return settings.default_namespace.lower()


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(
        404,
        reasons.NAMESPACE_NOT_FOUND,
        f"Namespace '{namespace}' does not exist.",
        namespace=namespace,
        remediation="Create the namespace first (dw namespace:create) or send an existing X-Namespace.",
    )


async def namespace_of(scope: Scope, settings: Settings, engine: EngineAPI, *, must_exist: bool) -> str:
    """The request's namespace; with ``must_exist``, 404 unless it exists.

    A name that could not be stored (too long for its column, NUL, unpaired surrogate) cannot
    name a namespace: it is answered as unknown without asking the database.
    """
    namespace = resolve_namespace(scope, settings)
    if len(namespace) > limits.NAMESPACE_LENGTH or limits.text_problem(namespace) is not None:
        raise namespace_not_found(namespace)
    if must_exist and not await engine.namespace_exists(namespace):
        raise namespace_not_found(namespace)
    return namespace
