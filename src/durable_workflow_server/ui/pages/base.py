"""The checks every UI page runs before its handler: session, role, namespace, CSRF."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...engine.api import EngineAPI
from ...engine.errors import DomainError
from ...http import limits
from ...http.errors import status_for_reason
from ...http.guards import Principal
from ...settings import Settings
from ..render import UiRequest, render_bare
from ..session import CSRF_FIELD, NAMESPACE_COOKIE, SESSION_COOKIE, Csrf, may_use_ui, principal_for

Handler = Callable[[UiRequest], Awaitable[Response]]
MAX_FORM_BYTES = 256 * 1024  # a signal's JSON input typed into a form, with room to spare


async def read_form(request: Request) -> dict[str, str] | None:
    """The URL-encoded form of a POST (last value of each name), ``None`` when unreadable."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def _landing(principal: Principal, settings: Settings) -> str:
    """The namespace a page opens in when none was chosen: the default one, unless the
    credential is bound to namespaces that exclude it (then the first of those)."""
    if principal.namespaces and settings.default_namespace.lower() not in principal.namespaces:
        return sorted(principal.namespaces)[0]
    return settings.default_namespace


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def page(
    path: str, handler: Handler, settings: Settings, engine: EngineAPI, *, methods: tuple[str, ...] = ("GET",)
) -> Route:
    """A UI route: ``handler`` runs only for a signed-in operator in a namespace they may use,
    and, for a POST, only with the form's CSRF token. Engine refusals render the error page."""
    return Route(path, guarded(handler, settings, engine), methods=list(methods))


def not_found(settings: Settings, engine: EngineAPI) -> Callable[[Request], Awaitable[Response]]:
    """The answer for a path outside ``/api`` that no route serves: the 404 page.

    A ``GET`` (or ``HEAD``) passes the same checks as every page first, so without a session it
    redirects to the login page and the 404 is shown once signed in, inside the layout — as
    Temporal's and Grafana's UIs do: a signed-out visitor learns nothing about which paths
    exist, and a link opened before signing in still lands where it pointed. Any other method,
    and a missing file under ``/static``, is the bare 404 page at once (nothing to come back to).
    """

    async def missing(ui: UiRequest) -> Response:
        return ui.render("error.html", 404, title="Not found", message=_no_page(ui.request))

    guarded_missing = guarded(missing, settings, engine)

    async def endpoint(request: Request) -> Response:
        if request.method in ("GET", "HEAD") and not request.url.path.startswith("/static/"):
            return await guarded_missing(request)
        return render_bare(
            request, "error.html", 404, Csrf.of(request), title="Not found", message=_no_page(request)
        )

    return endpoint


def wrong_method(request: Request, headers: Mapping[str, str] | None) -> Response:
    """A UI path asked with a method it does not take (a ``GET`` of a form's action, say): the
    405 page, with the route's ``Allow`` header."""
    message = (
        f"{request.url.path} does not answer {request.method}: it is where a form is sent."
        " Open the page the form is on."
    )
    response = render_bare(
        request, "error.html", 405, Csrf.of(request), title="Method not allowed", message=message
    )
    response.headers.update(headers or {})
    return response


def _no_page(request: Request) -> str:
    return f"There is no page at {request.url.path}."


def guarded(
    handler: Handler, settings: Settings, engine: EngineAPI
) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` behind the checks of :func:`page` (session, role, namespace, CSRF)."""

    async def endpoint(request: Request) -> Response:
        csrf = Csrf.of(request)
        principal = principal_for(request.cookies.get(SESSION_COOKIE), settings)
        if principal is None:
            return login_redirect(request)
        if not may_use_ui(principal):
            message = (
                f"A {principal.role} credential may not use the UI; sign in with an operator or admin token."
            )
            return render_bare(request, "error.html", 403, csrf, title="Forbidden", message=message)
        asked = (request.query_params.get("namespace") or "").strip().lower()
        remembered = (request.cookies.get(NAMESPACE_COOKIE) or "").strip().lower()
        if not asked and remembered and not principal.may_use(remembered):
            remembered = ""  # another credential's choice: this one starts where it may
        chosen = asked or remembered or _landing(principal, settings).lower()
        ui = UiRequest(request, settings, engine, principal, chosen, csrf)
        if not principal.may_use(chosen):
            return ui.render(
                "error.html",
                403,
                title="Forbidden",
                message=f"This credential may not use namespace '{chosen}'.",
            )
        # A name that could not be stored names no namespace: answered without asking the database.
        storable = len(chosen) <= limits.NAMESPACE_LENGTH and limits.text_problem(chosen) is None
        if not storable or not await engine.namespace_exists(chosen):
            return ui.render(
                "error.html", 404, title="Not found", message=f"Namespace '{chosen}' does not exist."
            )
        ui.remember_namespace = bool(asked)  # only a namespace that exists and may be used
        if request.method == "POST":
            form = await read_form(request)
            if form is None or not csrf.matches(form.get(CSRF_FIELD)):
                return ui.render(
                    "error.html",
                    403,
                    title="Forbidden",
                    message="The form's CSRF token is missing or stale; reload the page and try again.",
                )
            ui.form = form
        try:
            return await handler(ui)
        except DomainError as exc:
            return ui.render(
                "error.html", status_for_reason(exc.reason), title=exc.reason, message=exc.message
            )

    return endpoint
