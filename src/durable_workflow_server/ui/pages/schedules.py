"""Schedules: the list, one schedule with its next fire, recent starts and audit history, and
pause / resume / trigger from the page (named in the query and in hidden fields, like workflows)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import BaseRoute

from ...engine.api import EngineAPI
from ...settings import Settings
from ..payloads import decoded
from ..render import UiRequest
from .base import Handler, page

AUDIT_EVENTS = 100


def schedule_url(schedule_id: str) -> str:
    return "/schedule?" + urlencode({"id": schedule_id})


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def schedule_list(ui: UiRequest) -> Response:
        listed = await ui.engine.list_schedules(ui.namespace)
        return ui.render("schedules.html", schedules=listed["schedules"], url=schedule_url)

    async def view(ui: UiRequest) -> Response:
        schedule_id = ui.request.query_params.get("id", "")
        if not schedule_id:
            return ui.render("error.html", 400, title="Bad request", message="Name a schedule: ?id=...")
        described = await ui.engine.describe_schedule(ui.namespace, schedule_id)
        audit = await ui.engine.schedule_history(
            ui.namespace, schedule_id, limit=AUDIT_EVENTS, after_sequence=0
        )
        return ui.render(
            "schedule.html",
            schedule=described,
            action=decoded(described["action"]),
            audit=audit["events"],
            more_audit=audit["has_more"],
        )

    def command(kind: str) -> Handler:
        async def handler(ui: UiRequest) -> Response:
            schedule_id = ui.form.get("id", "")
            note = ui.form.get("note", "").strip() or None
            if kind == "pause":
                await ui.engine.pause_schedule(ui.namespace, schedule_id, note)
            elif kind == "resume":
                await ui.engine.resume_schedule(ui.namespace, schedule_id, note)
            else:
                await ui.engine.trigger_schedule(ui.namespace, schedule_id, None)
            return ui.redirect(schedule_url(schedule_id))

        return handler

    return [
        page("/schedules", schedule_list, settings, engine),
        page("/schedule", view, settings, engine),
        *(
            page(f"/schedule/{kind}", command(kind), settings, engine, methods=("POST",))
            for kind in ("pause", "resume", "trigger")
        ),
    ]
