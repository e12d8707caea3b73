"""Workers: every registered worker of the namespace across its task queues (``list_workers``,
filtered by queue and reported status, as ``GET /workers``), and one worker with its admission
(the leases it holds and its free slots), capabilities, task slots and process metrics
(``describe_worker``, as ``GET /workers/{id}``); an admin may deregister it from there
(``deregister_worker``, as ``DELETE /workers/{id}``: its leases run on, and a worker still running
registers again at its next poll). Worker ids may hold any character, so a worker is named in
the query (``/worker?id=...``) and in the form's hidden field."""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute

from ...engine.api import EngineAPI
from ...engine.workers.views import REPORTED_STATUSES
from ...http.models.task_queues import ListWorkersQuery
from ...settings import Settings
from ..render import UiRequest
from ..session import is_admin
from .base import page
from .task_queues import queue_url


def worker_url(worker_id: str) -> str:
    return "/worker?" + urlencode({"id": worker_id})


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def worker_list(ui: UiRequest) -> Response:
        params = ui.request.query_params
        filters = {name: params.get(name, "").strip() for name in ("task_queue", "status")}
        try:
            query = ListWorkersQuery.model_validate({name: value or None for name, value in filters.items()})
        except ValidationError as exc:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            return ui.render("error.html", 422, title="validation_failed", message=" ".join(problems))
        listed = await ui.engine.list_workers(ui.namespace, task_queue=query.task_queue, status=query.status)
        return ui.render(
            "workers.html",
            listed=listed,
            filters=filters,
            statuses=REPORTED_STATUSES,
            url=worker_url,
            queue_url=queue_url,
        )

    async def view(ui: UiRequest) -> Response:
        worker_id = ui.request.query_params.get("id", "")
        if not worker_id:
            return ui.render("error.html", 400, title="Bad request", message="Name a worker: ?id=...")
        described = await ui.engine.describe_worker(ui.namespace, worker_id)
        return ui.render(
            "worker.html", worker=described, queue_url=queue_url, may_deregister=is_admin(ui.principal)
        )

    async def deregister(ui: UiRequest) -> Response:
        if not is_admin(ui.principal):
            # The API's role for DELETE /workers/{id}: an operator may look, not remove.
            message = "Deregistering a worker takes an admin credential."
            return ui.render("error.html", 403, title="Forbidden", message=message)
        await ui.engine.deregister_worker(ui.namespace, ui.form.get("id", ""))
        return ui.redirect("/workers")

    return [
        page("/workers", worker_list, settings, engine),
        page("/worker", view, settings, engine),
        page("/worker/deregister", deregister, settings, engine, methods=("POST",)),
    ]
