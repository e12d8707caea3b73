"""The web UI, served by the server at ``/`` beside the API under ``/api``.

Server-rendered HTML (Jinja2 templates in ``templates/``) with a little plain JavaScript
(``static/ui.js``); no build step, no CDN, everything shipped in the wheel. Every page reads and
acts through the same :class:`~durable_workflow_server.engine.api.EngineAPI` the HTTP routes
call, so there is no second query path.

Modules:

- ``session.py``: the login cookie (the credential, HTTP-only, SameSite=Strict), who a cookie
  names (the API's own ``authenticate``), the chosen namespace, the CSRF token of every form;
- ``render.py``: the Jinja2 environment, its filters, and :class:`UiPage` rendering;
- ``pages/``: one module per noun (``login.py``, ``workflows.py``, ...), each with its ``ROUTES``;
- ``routes.py``: the one list of UI routes the app serves.
"""

from __future__ import annotations

from .pages.base import not_found, wrong_method
from .routes import ui_routes

__all__ = ["not_found", "ui_routes", "wrong_method"]
