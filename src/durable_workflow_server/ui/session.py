"""Who is looking at the UI, in which namespace, and the CSRF token of their forms.

The login form takes the same credential the API takes (a bearer token; with the signature
driver, the signing key). It is kept in an HTTP-only, ``SameSite=Strict`` cookie and checked on
every request by the API's own :func:`~durable_workflow_server.http.guards.authenticate`, so a
credential revoked in the server's configuration stops working in the UI at once, and the UI
grants exactly what the API would. With ``DW_AUTH_DRIVER=none`` there is no login.

CSRF: a random per-browser value in a second HTTP-only, SameSite cookie, repeated in a hidden
field of every form (double submit); a POST whose field does not match is refused 403. Another
site can neither read the cookie nor make the browser send it (SameSite=Strict).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from ..http import guards
from ..http.errors import ApiError
from ..settings import Settings

SESSION_COOKIE = "dw_session"
CSRF_COOKIE = "dw_csrf"
NAMESPACE_COOKIE = "dw_namespace"
CSRF_FIELD = "csrf"
# The UI is an operator's tool: a worker credential may poll tasks but not read workflows.
UI_ROLES = guards.OPERATOR_ROLES


def principal_for(secret: str | None, settings: Settings) -> guards.Principal | None:
    """The principal the API would see for ``secret``, or ``None`` when it names nobody.

    The secret is presented to :func:`guards.authenticate` exactly as an API caller would: as
    ``Authorization: Bearer`` for the token driver, as the signature of an empty body for the
    signature driver. ``DW_AUTH_DRIVER=none`` needs no secret.
    """
    driver = settings.auth_driver_name
    if driver == "none":
        return guards.authenticate(Headers({}), b"", settings)
    if not secret:
        return None
    if driver == "signature":
        signature = hmac.new(secret.encode("utf-8", "surrogatepass"), b"", hashlib.sha256).hexdigest()
        headers = Headers({"x-signature": signature})
    else:
        if not guards.is_token_text(secret):
            return None
        headers = Headers({"authorization": f"Bearer {secret}"})
    try:
        return guards.authenticate(headers, b"", settings)
    except ApiError:
        return None


def may_use_ui(principal: guards.Principal) -> bool:
    """Whether this principal's role may open the UI (operator, admin, or the legacy token)."""
    return principal.legacy_full_access or principal.role in UI_ROLES


def is_admin(principal: guards.Principal) -> bool:
    return principal.legacy_full_access or principal.role == guards.ADMIN


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


@dataclass
class Csrf:
    """The browser's CSRF value; ``fresh`` when it was made for this response (set the cookie)."""

    value: str
    fresh: bool

    @classmethod
    def of(cls, request: Request) -> Csrf:
        value = request.cookies.get(CSRF_COOKIE, "")
        if len(value) == 43 and guards.is_token_text(value):
            return cls(value, fresh=False)
        return cls(secrets.token_urlsafe(32), fresh=True)

    def matches(self, submitted: str | None) -> bool:
        return not self.fresh and submitted is not None and hmac.compare_digest(submitted, self.value)

    def persist(self, response: Response, request: Request) -> None:
        if self.fresh:
            response.set_cookie(
                CSRF_COOKIE, self.value, httponly=True, samesite="strict", secure=_secure(request), path="/"
            )
