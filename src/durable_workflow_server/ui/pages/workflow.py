"""One workflow: its summary, what it waits on, its runs, its history, and the actions on it.

Workflow ids may hold any character (slashes too), so the workflow is named in the query
(``/workflow?id=...&run=...``) and in the actions' hidden fields, never in the path.
Destructive actions (cancel, terminate) take a confirm step: the first POST renders what would
happen, only a POST with ``confirm=yes`` acts.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from pydantic import ValidationError
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ...engine.api import EngineAPI
from ...engine.signals.receiving import SignalRequest
from ...http.models.signals import SignalWorkflowBody
from ...settings import Settings
from ..gantt import bars
from ..payloads import decoded
from ..render import UiRequest
from .base import Handler, page

HISTORY_PAGE_SIZE = 200
# Payloads longer than this (as pretty JSON) start collapsed on the timeline.
COLLAPSE_CHARS = 600


def workflow_url(workflow_id: str, run_id: str | None = None) -> str:
    params = {"id": workflow_id, **({"run": run_id} if run_id else {})}
    return "/workflow?" + urlencode(params)


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def view(ui: UiRequest) -> Response:
        params = ui.request.query_params
        workflow_id = params.get("id", "")
        run_id = params.get("run") or None
        if not workflow_id:
            return ui.render("error.html", 400, title="Bad request", message="Name a workflow: ?id=...")
        if run_id:
            described = await ui.engine.describe_run(ui.namespace, workflow_id, run_id)
        else:
            described = await ui.engine.describe_workflow(ui.namespace, workflow_id)
        history = await ui.engine.history_page(
            ui.namespace,
            workflow_id,
            described["run_id"],
            page_size=HISTORY_PAGE_SIZE,
            next_page_token=params.get("page") or None,
            wait_new_event=False,
        )
        runs = await ui.engine.list_runs(ui.namespace, workflow_id)
        pending: list[dict[str, object]] = []
        if not described.get("is_terminal"):
            # The debug view's snapshot of the open activities: attempt, lease holder, last
            # heartbeat, and each one's latest failure (a retry waiting after it, say).
            debug = await ui.engine.debug_run(ui.namespace, workflow_id, described["run_id"])
            failures = {
                failure["activity_execution_id"]: failure
                for failure in reversed(debug["recent_failures"])
                if failure["activity_execution_id"]
            }
            pending = [
                {**activity, "last_failure": failures.get(activity["activity_execution_id"])}
                for activity in debug["pending_activities"]
            ]
        events = [{**event, "shown": decoded(event.get("payload") or {})} for event in history["events"]]
        return ui.render(
            "workflow.html",
            wf=described,
            input=decoded(described.get("input")),
            output=decoded(described.get("output")),
            events=events,
            next_page=history["next_page_token"],
            runs=runs["runs"],
            pending=pending,
            collapse_chars=COLLAPSE_CHARS,
            url=workflow_url,
        )

    async def signal(ui: UiRequest) -> Response:
        workflow_id, run_id = ui.form.get("id", ""), ui.form.get("run") or None
        name = ui.form.get("name", "").strip()
        problems: list[str] = []
        try:
            arguments = json.loads(ui.form.get("input") or "[]")
        except ValueError as exc:
            problems.append(f"The input is not JSON: {exc}.")
        if not name:
            problems.append("Name the signal.")
        if not problems:
            try:
                body = SignalWorkflowBody.model_validate({"input": arguments})
            except ValidationError as exc:
                problems.append(exc.errors()[0]["msg"])
        if problems:
            return ui.render("error.html", 422, title="validation_failed", message=" ".join(problems))
        request = SignalRequest(
            workflow_id=workflow_id,
            signal_name=name,
            codec=body.input["codec"],
            blob=body.input["blob"],
            run_id=run_id,
        )
        await ui.engine.signal_workflow(ui.namespace, request)
        return ui.redirect(workflow_url(workflow_id, run_id))

    def closing(action: str) -> Handler:
        async def handler(ui: UiRequest) -> Response:
            workflow_id, run_id = ui.form.get("id", ""), ui.form.get("run") or None
            reason = ui.form.get("reason", "").strip() or None
            if ui.form.get("confirm") != "yes":
                return ui.render(
                    "confirm.html", action=action, workflow_id=workflow_id, run_id=run_id, reason=reason
                )
            command = ui.engine.cancel_workflow if action == "cancel" else ui.engine.terminate_workflow
            await command(ui.namespace, workflow_id, run_id=run_id, reason=reason)
            return ui.redirect(workflow_url(workflow_id, run_id))

        return handler

    async def pause(ui: UiRequest) -> Response:
        workflow_id, run_id = ui.form.get("id", ""), ui.form.get("run") or None
        if ui.form.get("action") == "resume":
            await ui.engine.resume_workflow(ui.namespace, workflow_id)
        else:
            await ui.engine.pause_workflow(ui.namespace, workflow_id, reason=ui.form.get("reason") or None)
        return ui.redirect(workflow_url(workflow_id, run_id))

    async def export(ui: UiRequest) -> Response:
        params = ui.request.query_params
        workflow_id, run_id = params.get("id", ""), params.get("run", "")
        bundle = await ui.engine.export_history(ui.namespace, workflow_id, run_id)
        filename = quote(f"{workflow_id}-{run_id}-history.json", safe="")
        disposition = f"attachment; filename*=UTF-8''{filename}"
        return ui.finish(JSONResponse(bundle, headers={"content-disposition": disposition}))

    async def gantt(ui: UiRequest) -> Response:
        params = ui.request.query_params
        workflow_id, run_id = params.get("id", ""), params.get("run", "")
        bundle = await ui.engine.export_history(ui.namespace, workflow_id, run_id)
        return ui.render(
            "gantt.html",
            workflow_id=workflow_id,
            run_id=run_id,
            bars=bars(bundle),
            failures=bundle["failures"],
            url=workflow_url,
        )

    return [
        page("/workflow", view, settings, engine),
        page("/workflow/gantt", gantt, settings, engine),
        page("/workflow/pause", pause, settings, engine, methods=("POST",)),
        page("/workflow/export", export, settings, engine),
        page("/workflow/signal", signal, settings, engine, methods=("POST",)),
        page("/workflow/cancel", closing("cancel"), settings, engine, methods=("POST",)),
        page("/workflow/terminate", closing("terminate"), settings, engine, methods=("POST",)),
    ]
