"""The Jinja2 environment and :class:`UiRequest`, what every page handler receives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..engine.api import EngineAPI
from ..http import guards
from ..settings import Settings
from .session import CSRF_FIELD, NAMESPACE_COOKIE, Csrf


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


ENVIRONMENT = Environment(
    loader=PackageLoader("durable_workflow_server.ui", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["pretty_json"] = _pretty_json


@dataclass
class UiRequest:
    """One UI request that passed the session, role, namespace and CSRF checks."""

    request: Request
    settings: Settings
    engine: EngineAPI
    principal: guards.Principal
    namespace: str
    csrf: Csrf
    form: dict[str, str] = field(default_factory=dict)
    remember_namespace: bool = False

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        """Render ``template`` inside the layout, with the session's globals."""
        page = ENVIRONMENT.get_template(template).render(
            namespace=self.namespace,
            csrf_field=CSRF_FIELD,
            csrf_token=self.csrf.value,
            auth_enabled=self.settings.auth_driver_name != "none",
            path=self.request.url.path,
            **context,
        )
        return self.finish(HTMLResponse(page, status_code=status))

    def redirect(self, url: str) -> Response:
        """303 to ``url`` (after a POST, so a reload does not repeat the action)."""
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: Response) -> Response:
        self.csrf.persist(response, self.request)
        if self.remember_namespace:
            response.set_cookie(NAMESPACE_COOKIE, self.namespace, httponly=True, samesite="strict", path="/")
        response.headers["cache-control"] = "no-store"
        return response


def render_bare(request: Request, template: str, status: int, csrf: Csrf, **context: Any) -> Response:
    """A page outside a session (login, errors before a session exists)."""
    page = ENVIRONMENT.get_template(template).render(
        csrf_field=CSRF_FIELD, csrf_token=csrf.value, namespace=None, auth_enabled=True, **context
    )
    response = HTMLResponse(page, status_code=status)
    csrf.persist(response, request)
    response.headers["cache-control"] = "no-store"
    return response
