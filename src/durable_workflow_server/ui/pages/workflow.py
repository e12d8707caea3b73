"""One workflow: its summary, what it waits on, its runs, its history, and the actions on it.

Workflow ids may hold any character (slashes too), so the workflow is named in the query
(``/workflow?id=...&run=...``) and in the actions' hidden fields, never in the path.
Destructive actions (cancel, terminate) take a confirm step: the first POST renders what would
happen, only a POST with ``confirm=yes`` acts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote, urlencode

from pydantic import ValidationError
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.payload_storage import stored_reference
from durable_workflow.protocol.wire import Envelope

from ...engine.api import EngineAPI, UpdateRequest
from ...engine.errors import DomainError, WorkerRefusal
from ...engine.signals.receiving import SignalRequest
from ...http.errors import status_for_reason
from ...http.models.signals import SignalWorkflowBody
from ...http.operation_names import operation_name_errors
from ...http.queries import worker_refusal_status
from ...settings import Settings
from ..gantt import bars
from ..payloads import ExternalPayload, shown
from ..render import UiRequest
from .base import Handler, page

HISTORY_PAGE_SIZE = 200
# Refusals that mean the page itself has nothing to show: the error page, not an outcome panel.
_NOT_FOUND = frozenset({reasons.INSTANCE_NOT_FOUND, reasons.RUN_NOT_FOUND})
# Payloads longer than this (as pretty JSON) start collapsed on the timeline.
COLLAPSE_CHARS = 600


def workflow_url(workflow_id: str, run_id: str | None = None) -> str:
    params = {"id": workflow_id, **({"run": run_id} if run_id else {})}
    return "/workflow?" + urlencode(params)


@dataclass
class Outcome:
    """What a query or an update sent from the page answered, shown above the summary."""

    kind: str  # query | update
    name: str
    arguments: str  # as typed, so the form keeps it
    status: int  # the HTTP status the API would answer
    title: str
    value: Any = None  # the decoded result, when there is one
    message: str | None = None  # a failure or refusal, in words
    refs: list[ExternalPayload] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status < 400

    @classmethod
    def refusal(cls, kind: str, name: str, arguments: str, status: int, exc: DomainError) -> Outcome:
        """The engine's (or the worker's) refusal, shown with the status the API gives it."""
        return cls(kind, name, arguments, status, exc.reason, message=exc.message)


def _arguments(ui: UiRequest, kind: str) -> tuple[str, Envelope | None, list[str]]:
    """The form's operation name and JSON argument list as an envelope, or the problems with them."""
    name = ui.form.get("name", "").strip()
    problems: list[str] = []
    for messages in operation_name_errors(name, f"{kind}_name").values():
        problems.extend(messages)
    try:
        arguments = json.loads(ui.form.get("input") or "[]")
    except ValueError as exc:
        problems.append(f"The input is not JSON: {exc}.")
        return name, None, problems
    if problems:
        return name, None, problems
    try:
        body = SignalWorkflowBody.model_validate({"input": arguments})
    except ValidationError as exc:
        return name, None, [str(exc.errors()[0]["msg"])]
    return name, cast(Envelope, body.input), []


def _result_of(answer: Mapping[str, Any]) -> tuple[Any, list[ExternalPayload]]:
    """A query's or update's result, decoded (the envelope when there is one, it is exact)."""
    envelope = answer.get("result_envelope")
    return shown(envelope if envelope is not None else answer.get("result"))


def payload_url(payload: ExternalPayload, workflow_id: str, run_id: str | None) -> str:
    """The resolve link of one external payload (the run only names the way back)."""
    params = {"ref": payload.token, "id": workflow_id, **({"run": run_id} if run_id else {})}
    return "/workflow/payload?" + urlencode(params)


def routes(settings: Settings, engine: EngineAPI) -> list[BaseRoute]:
    async def show(
        ui: UiRequest,
        workflow_id: str,
        run_id: str | None,
        page_token: str | None = None,
        outcome: Outcome | None = None,
    ) -> Response:
        if run_id:
            described = await ui.engine.describe_run(ui.namespace, workflow_id, run_id)
        else:
            described = await ui.engine.describe_workflow(ui.namespace, workflow_id)
        history = await ui.engine.history_page(
            ui.namespace,
            workflow_id,
            described["run_id"],
            page_size=HISTORY_PAGE_SIZE,
            next_page_token=page_token,
            wait_new_event=False,
        )
        runs = await ui.engine.list_runs(ui.namespace, workflow_id)
        events = []
        for event in history["events"]:
            value, refs = shown(event.get("payload") or {})
            events.append({**event, "shown": value, "refs": refs})
        input_value, input_refs = shown(described.get("input_envelope") or described.get("input"))
        output_value, output_refs = shown(described.get("output_envelope") or described.get("output"))
        return ui.render(
            "workflow.html",
            outcome.status if outcome else 200,
            wf=described,
            input=input_value,
            input_refs=input_refs,
            output=output_value,
            output_refs=output_refs,
            events=events,
            next_page=history["next_page_token"],
            runs=runs["runs"],
            # describe's own block: each open activity's attempt, task, lease, heartbeat and the
            # failure a pending retry follows (no second read for it)
            pending=described["waiting_on"]["activities"],
            outcome=outcome,
            collapse_chars=COLLAPSE_CHARS,
            url=workflow_url,
            payload_url=payload_url,
        )

    async def view(ui: UiRequest) -> Response:
        params = ui.request.query_params
        workflow_id = params.get("id", "")
        if not workflow_id:
            return ui.render("error.html", 400, title="Bad request", message="Name a workflow: ?id=...")
        return await show(ui, workflow_id, params.get("run") or None, params.get("page") or None)

    async def query(ui: UiRequest) -> Response:
        workflow_id, run_id = ui.form.get("id", ""), ui.form.get("run") or None
        name, arguments, problems = _arguments(ui, "query")
        if problems:
            return ui.render("error.html", 422, title="validation_failed", message=" ".join(problems))
        typed = ui.form.get("input") or "[]"
        try:
            answer = await ui.engine.query_workflow(
                ui.namespace, workflow_id, name, run_id=run_id, arguments=arguments
            )
        except WorkerRefusal as exc:  # the worker's own refusal, with the API's status for it
            refused = Outcome.refusal("query", name, typed, worker_refusal_status(exc.reason), exc)
            return await show(ui, workflow_id, run_id, outcome=refused)
        except DomainError as exc:
            if exc.reason in _NOT_FOUND:
                raise  # no such workflow or run: the error page, as for the page itself
            refused = Outcome.refusal("query", name, typed, status_for_reason(exc.reason), exc)
            return await show(ui, workflow_id, run_id, outcome=refused)
        value, refs = _result_of(answer)
        answered = Outcome("query", name, typed, 200, "answered", value=value, refs=refs)
        return await show(ui, workflow_id, run_id, outcome=answered)

    async def update(ui: UiRequest) -> Response:
        workflow_id, run_id = ui.form.get("id", ""), ui.form.get("run") or None
        name, arguments, problems = _arguments(ui, "update")
        if problems or arguments is None:
            return ui.render("error.html", 422, title="validation_failed", message=" ".join(problems))
        typed = ui.form.get("input") or "[]"
        request = UpdateRequest(
            workflow_id=workflow_id,
            update_name=name,
            arguments=arguments,
            run_id=run_id,
            wait_for="completed",
        )
        try:
            answer = await ui.engine.update_workflow(ui.namespace, request)
        except DomainError as exc:
            if exc.reason in _NOT_FOUND:
                raise
            refused = Outcome.refusal("update", name, typed, status_for_reason(exc.reason), exc)
            return await show(ui, workflow_id, run_id, outcome=refused)
        status = str(answer.get("update_status"))
        if status == "completed":
            value, refs = _result_of(answer)
            done = Outcome("update", name, typed, 200, "completed", value=value, refs=refs)
        elif status == "failed":
            done = Outcome("update", name, typed, 422, "failed", message=answer.get("failure_message"))
        else:  # accepted, and the wait for its completion ran out
            waited = answer.get("wait_timeout_seconds")
            done = Outcome("update", name, typed, 202, status)
            done.message = f"Accepted; not completed within {waited} s. Its result will be in the history."
        return await show(ui, workflow_id, run_id, outcome=done)

    async def payload(ui: UiRequest) -> Response:
        """One external payload, fetched through the namespace's storage and decoded, on demand."""
        params = ui.request.query_params
        try:
            reference = stored_reference(params.get("ref", ""))
        except ValueError as exc:
            reference, problem = None, str(exc)
        else:
            problem = "Name a payload: ?ref=..."
        if reference is None:
            return ui.render("error.html", 422, title="validation_failed", message=problem)
        envelope = await ui.engine.resolve_external_payload(ui.namespace, reference.envelope())
        value, _ = shown(envelope)
        workflow_id, run_id = params.get("id", ""), params.get("run") or None
        return ui.render(
            "payload.html",
            value=value,
            reference=reference,
            workflow_id=workflow_id,
            run_id=run_id,
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
        page("/workflow/query", query, settings, engine, methods=("POST",)),
        page("/workflow/update", update, settings, engine, methods=("POST",)),
        page("/workflow/payload", payload, settings, engine),
        page("/workflow/cancel", closing("cancel"), settings, engine, methods=("POST",)),
        page("/workflow/terminate", closing("terminate"), settings, engine, methods=("POST",)),
    ]
