"""Signing in and out: the credential the API takes, kept in an HTTP-only cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...engine.api import EngineAPI
from ...settings import Settings
from ..render import UiRequest, render_bare
from ..session import CSRF_FIELD, Csrf, clear_session, may_use_ui, principal_for, set_session
from .base import page, read_form


def _safe_next(target: str | None) -> str:
    # Only a path of this site: never "//evil.example" or "https://...", an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/workflows"


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def login(request: Request) -> Response:
        csrf = Csrf.of(request)
        target = _safe_next(request.query_params.get("next"))
        if settings.auth_driver_name == "none":
            return RedirectResponse(target, status_code=303)
        if request.method == "GET":
            return render_bare(request, "login.html", 200, csrf, next=target, error=None)
        form = await read_form(request)
        if form is None or not csrf.matches(form.get(CSRF_FIELD)):
            return render_bare(
                request, "login.html", 403, csrf, next=target, error="The form expired; try again."
            )
        target = _safe_next(form.get("next"))
        secret = form.get("token", "").strip()
        principal = principal_for(secret, settings)
        if principal is None:
            return render_bare(
                request, "login.html", 401, csrf, next=target, error="That token is not valid."
            )
        if not may_use_ui(principal):
            error = f"A {principal.role} token may not use the UI; use an operator or admin token."
            return render_bare(request, "login.html", 403, csrf, next=target, error=error)
        response = RedirectResponse(target, status_code=303)
        set_session(response, request, secret)
        return response

    async def logout(ui: UiRequest) -> Response:
        response = ui.redirect("/login")
        clear_session(response)
        return response

    async def home(_request: Request) -> Response:
        return RedirectResponse("/workflows", status_code=303)

    return [
        Route("/", home, methods=["GET"]),
        Route("/login", login, methods=["GET", "POST"]),
        page("/logout", logout, settings, engine, methods=("POST",)),
    ]
