"""Namespaces: the ones this credential may see, and one with its retention and its external
payload storage policy (values of secret-looking keys never shown)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import BaseRoute

from ...engine.api import EngineAPI
from ...settings import Settings
from ..render import UiRequest
from .base import page

# A storage policy's config may carry credentials beside bucket names; the page never shows them.
_SECRET_WORDS = ("secret", "password", "token", "credential", "key", "sas", "signature")
HIDDEN = "•••• (hidden)"


def redacted(value: Any, key: str = "") -> Any:
    """``value`` with the values of secret-looking keys (at any depth) replaced by :data:`HIDDEN`."""
    if key and any(word in key.lower() for word in _SECRET_WORDS) and not isinstance(value, (dict, list)):
        return HIDDEN
    if isinstance(value, dict):
        return {name: redacted(item, str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [redacted(item, key) for item in value]
    return value


def namespace_url(name: str) -> str:
    return "/namespace?" + urlencode({"name": name, "namespace": name})


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def namespace_list(ui: UiRequest) -> Response:
        listed = await ui.engine.list_namespaces(ui.principal.namespaces)
        return ui.render("namespaces.html", namespaces=listed["namespaces"], url=namespace_url)

    async def view(ui: UiRequest) -> Response:
        name = (ui.request.query_params.get("name") or ui.namespace).strip().lower()
        if not ui.principal.may_use(name):
            return ui.render(
                "error.html",
                403,
                title="Forbidden",
                message=f"This credential may not use namespace '{name}'.",
            )
        described = await ui.engine.describe_namespace(name)
        policy = described.get("external_payload_storage")
        return ui.render("namespace.html", ns=described, policy=redacted(policy) if policy else None)

    return [
        page("/namespaces", namespace_list, settings, engine),
        page("/namespace", view, settings, engine),
    ]
