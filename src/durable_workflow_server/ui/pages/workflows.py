"""The workflows list: the filters of ``list_workflows`` and its keyset pages."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ...engine.api import EngineAPI
from ...settings import Settings
from ..render import UiRequest
from .base import page

# The buckets `list_workflows` filters by (protocol.history.status_bucket): failed holds every
# unsuccessful close (failed, cancelled, terminated); the row itself shows the exact status.
STATUSES = ("running", "completed", "failed")
PAGE_SIZE = 50


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def workflow_list(ui: UiRequest) -> Response:
        params = ui.request.query_params
        status = params.get("status") or None
        workflow_type = params.get("type") or None
        task_queue = params.get("task_queue") or None
        query = params.get("query") or None
        listed = await ui.engine.list_workflows(
            ui.namespace,
            workflow_type=workflow_type,
            status=status,
            query=query,
            page_size=PAGE_SIZE,
            next_page_token=params.get("page") or None,
            task_queue=task_queue,
        )
        filters = {
            "status": status or "",
            "type": workflow_type or "",
            "task_queue": task_queue or "",
            "query": query or "",
        }
        return ui.render("workflows.html", listed=listed, filters=filters, statuses=STATUSES)

    return [page("/workflows", workflow_list, settings, engine)]
