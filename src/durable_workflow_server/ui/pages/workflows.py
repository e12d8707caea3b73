"""The workflows list: the filters of ``list_workflows`` (status, type, task queue, query, start
and close time windows), its keyset pages, and the count of each status bucket under the other
filters: two reads a view, the page and one grouped ``count_workflows``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

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
# The counts stop at this many runs of each status ("10000+"): the list refreshes every 5 s, and
# a bounded count keeps each refresh a bounded read of the status index however big the namespace.
COUNT_LIMIT = 10_000
_WINDOWS = ("started_after", "started_before", "closed_after", "closed_before")
_TEXT_FILTERS = ("status", "type", "task_queue", "query", *_WINDOWS)


def _moment(text: str, name: str) -> datetime:
    """A ``datetime-local`` input (``2026-12-01T10:30``), read as UTC; ISO 8601 with a zone too."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} must be a date and time such as 2026-12-01T10:30 (UTC).") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def workflow_list(ui: UiRequest) -> Response:
        params = ui.request.query_params
        filters = {name: params.get(name, "").strip() for name in _TEXT_FILTERS}
        try:
            window = {
                name: _moment(filters[name], name.replace("_", " ")) for name in _WINDOWS if filters[name]
            }
        except ValueError as exc:
            return ui.render("error.html", 422, title="validation_failed", message=str(exc))
        common: dict[str, Any] = {
            "workflow_type": filters["type"] or None,
            "query": filters["query"] or None,
            "task_queue": filters["task_queue"] or None,
            **window,
        }
        listed = await ui.engine.list_workflows(
            ui.namespace,
            status=filters["status"] or None,
            page_size=PAGE_SIZE,
            next_page_token=params.get("page") or None,
            **common,
        )
        counted = await ui.engine.count_workflows(ui.namespace, limit=COUNT_LIMIT, **common)
        more = set(counted["at_least"])
        counts = {bucket: f"{n}+" if bucket in more else str(n) for bucket, n in counted["by_status"].items()}
        if filters["status"]:
            matching = counts[filters["status"]]
        else:
            matching = f"{counted['workflow_count']}+" if more else str(counted["workflow_count"])
        return ui.render(
            "workflows.html",
            listed=listed,
            filters=filters,
            statuses=STATUSES,
            counts=counts,
            matching=matching,
        )

    return [page("/workflows", workflow_list, settings, engine)]
