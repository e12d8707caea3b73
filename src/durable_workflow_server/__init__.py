"""The Durable Workflow server: ASGI app, engine and storage.

``create_app(settings)`` builds the ASGI app; ``serve(settings, host, port)`` runs it with uvicorn;
``embedded(database_url)`` runs it in this process and yields a ``durable_workflow.Client`` of it
(imported on first use: it is the one part of the server that loads the SDK's client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import create_app, serve
from .settings import Settings

if TYPE_CHECKING:
    from .in_process import embedded

__all__ = ["Settings", "create_app", "embedded", "serve"]


def __getattr__(name: str) -> Any:
    if name == "embedded":
        from .in_process import embedded

        return embedded
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
