"""Schedules: the list, one schedule with its next fires (the engine's plan, by the spec code the
fire loop uses), recent starts and audit history; pause / resume / trigger and backfill from the
page (named in the query and in hidden fields, like workflows). A backfill's form is checked by
the API's own request model and runs the engine's ``backfill_schedule``; its answer is shown."""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute

from ...engine.api import EngineAPI
from ...engine.schedules.api import OVERLAP_POLICIES
from ...http.models.schedules import BackfillScheduleBody
from ...settings import Settings
from ..payloads import decoded
from ..render import UiRequest
from .base import Handler, page

AUDIT_EVENTS = 100
UPCOMING_FIRES = 5


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
        upcoming = await ui.engine.upcoming_schedule_fires(ui.namespace, schedule_id, limit=UPCOMING_FIRES)
        audit = await ui.engine.schedule_history(
            ui.namespace, schedule_id, limit=AUDIT_EVENTS, after_sequence=0
        )
        return ui.render(
            "schedule.html",
            schedule=described,
            upcoming=upcoming,
            overlap_policies=OVERLAP_POLICIES,
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

    async def backfill(ui: UiRequest) -> Response:
        schedule_id = ui.form.get("id", "")
        try:
            body = BackfillScheduleBody.model_validate(
                {
                    "start_time": ui.form.get("start_time") or None,
                    "end_time": ui.form.get("end_time") or None,
                    "overlap_policy": ui.form.get("overlap_policy") or None,
                }
            )
        except ValidationError as exc:
            problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            return ui.render("error.html", 422, title="validation_failed", message=" ".join(problems))
        result = await ui.engine.backfill_schedule(
            ui.namespace, schedule_id, body.start_time, body.end_time, body.overlap_policy
        )
        return ui.render(
            "schedule_backfill.html",
            schedule_id=schedule_id,
            result=result,
            start_time=body.start_time,
            end_time=body.end_time,
            url=schedule_url,
        )

    return [
        page("/schedules", schedule_list, settings, engine),
        page("/schedule", view, settings, engine),
        page("/schedule/backfill", backfill, settings, engine, methods=("POST",)),
        *(
            page(f"/schedule/{kind}", command(kind), settings, engine, methods=("POST",))
            for kind in ("pause", "resume", "trigger")
        ),
    ]
