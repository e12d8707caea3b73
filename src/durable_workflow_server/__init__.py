"""The Durable Workflow server: ASGI app, engine and storage.

``create_app(settings)`` builds the ASGI app; ``serve(settings, host, port)`` runs it with uvicorn.
"""

from __future__ import annotations

from .app import create_app, serve
from .settings import Settings

__all__ = ["Settings", "create_app", "serve"]
