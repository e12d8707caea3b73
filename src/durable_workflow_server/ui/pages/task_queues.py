"""Task queues and their workers: backlog and pollers per queue; one queue with its pollers,
build-id cohorts (drain and resume from the page) and current leases."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import BaseRoute

from ...engine.api import EngineAPI
from ...settings import Settings
from ..render import UiRequest
from .base import Handler, page


def queue_url(name: str) -> str:
    return "/task-queue?" + urlencode({"name": name})


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def queue_list(ui: UiRequest) -> Response:
        listed = await ui.engine.list_task_queues(ui.namespace)
        return ui.render("task_queues.html", queues=listed["task_queues"], url=queue_url)

    async def view(ui: UiRequest) -> Response:
        name = ui.request.query_params.get("name", "")
        if not name:
            return ui.render("error.html", 400, title="Bad request", message="Name a task queue: ?name=...")
        queue = await ui.engine.describe_task_queue(ui.namespace, name)
        cohorts = await ui.engine.list_task_queue_build_ids(ui.namespace, name)
        return ui.render("task_queue.html", queue=queue, cohorts=cohorts["build_ids"])

    def cohort(kind: str) -> Handler:
        async def handler(ui: UiRequest) -> Response:
            name = ui.form.get("name", "")
            build_id = ui.form.get("build_id") or None
            if kind == "drain":
                await ui.engine.drain_task_queue_build_id(ui.namespace, name, build_id)
            else:
                await ui.engine.resume_task_queue_build_id(ui.namespace, name, build_id)
            return ui.redirect(queue_url(name))

        return handler

    return [
        page("/task-queues", queue_list, settings, engine),
        page("/task-queue", view, settings, engine),
        page("/task-queue/drain", cohort("drain"), settings, engine, methods=("POST",)),
        page("/task-queue/resume", cohort("resume"), settings, engine, methods=("POST",)),
    ]
