"""The one list of the UI's routes, in routing order (after the API's)."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from ..engine.api import EngineAPI
from ..settings import Settings
from .pages import login, namespaces, schedules, task_queues, workers, workflow, workflows

STATIC = Path(__file__).with_name("static")


def ui_routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    """Every UI route: the pages of each noun, then the static assets under ``/static``."""
    return [
        *login.routes(settings, engine),
        *workflows.routes(settings, engine),
        *workflow.routes(settings, engine),
        *schedules.routes(settings, engine),
        *task_queues.routes(settings, engine),
        *workers.routes(settings, engine),
        *namespaces.routes(settings, engine),
        Mount("/static", app=StaticFiles(directory=STATIC), name="ui-static"),
    ]
