"""``dw workflow:*`` messages and run commands: signal, query, update, cancel, terminate, repair,
archive, pause, resume."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .. import payloads
from ..command import DwCommand, Invocation, command
from ..views import backfill, contract_fields, status, with_namespace

if TYPE_CHECKING:
    from durable_workflow.client import Client

RUN_ID = click.option("--run-id", "-r", help="Target this run (it must be the open one).")


def _show(inv: Invocation, title: str, body: dict[str, Any], rows: list[tuple[str, Any]]) -> None:
    if inv.json:
        inv.out.document(with_namespace(contract_fields(body), inv.namespace))
        return
    inv.out.title(title)
    inv.out.fields(rows)


# ---------------------------------------------------------------------------- signal / query / update


@command(
    "workflow:signal",
    summary="Send a signal to a workflow.",
    example="dw workflow:signal order-42 approval.received --input='[{\"approved\":true}]'",
)
@click.argument("workflow_id")
@click.argument("signal_name")
@RUN_ID
@payloads.payload_options
def signal(
    inv: Invocation,
    workflow_id: str,
    signal_name: str,
    run_id: str | None,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
) -> None:
    arguments = payloads.arguments(input_text, input_file, input_encoding)
    result = inv.call(
        lambda client: client.signal_workflow(workflow_id, signal_name, arguments, run_id=run_id)
    )
    body = backfill(dict(result.raw), workflow_id=workflow_id, signal_name=signal_name, run_id=run_id)
    _show(
        inv,
        "Signal sent",
        body,
        [
            ("Workflow ID", body.get("workflow_id")),
            ("Namespace", inv.namespace),
            ("Signal", signal_name),
            ("Outcome", status(body.get("outcome"))),
            ("Command Status", status(body.get("command_status"))),
            ("Command ID", body.get("command_id")),
        ],
    )


@command(
    "workflow:query",
    summary="Run a query on a workflow and print its result.",
    example="dw workflow:query order-42 order.status",
)
@click.argument("workflow_id")
@click.argument("query_name")
@RUN_ID
@payloads.payload_options
def query(
    inv: Invocation,
    workflow_id: str,
    query_name: str,
    run_id: str | None,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
) -> None:
    arguments = payloads.arguments(input_text, input_file, input_encoding)
    answer = inv.call(
        lambda client: client.query_workflow_detailed(workflow_id, query_name, arguments, run_id=run_id)
    )
    body = backfill(dict(answer.raw), workflow_id=workflow_id, query_name=query_name, run_id=run_id)
    body["result"] = answer.result
    if inv.json:
        inv.out.document(with_namespace(contract_fields(body), inv.namespace))
        return
    inv.out.title("Query result")
    inv.out.fields([("Namespace", inv.namespace), ("Query", query_name)])
    import json

    inv.out.line(json.dumps(answer.result, indent=2, ensure_ascii=False))


def _update_state(body: dict[str, Any]) -> str | None:
    command_status = str(body.get("command_status") or "")
    outcome = str(body.get("outcome") or "")
    if command_status in ("rejected", "refused") or "rejected" in outcome or "refused" in outcome:
        return "refused"
    for key in ("update_status", "update_state", "state"):
        if body.get(key):
            return str(body[key])
    return command_status or (outcome.removeprefix("update_") or None)


def update_document(body: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The ``workflow:update --json`` document: the server body plus the CLI's diagnostics."""
    out = dict(body)
    for key in ("workflow_id", "update_name", "run_id", "request_id", "wait_for"):
        if out.get(key) is None and request.get(key) is not None:
            out[key] = request[key]
    state = _update_state(out)
    outcome = str(out.get("outcome") or "")
    if not outcome.startswith("update_"):
        outcome = f"update_{'refused' if state == 'refused' else state or 'accepted'}"
    out["outcome"] = outcome
    out.setdefault("state", state)
    out.setdefault("update_state", state)
    for key in ("update_id", "request_id", "reason", "rejection_reason", "rejection_category", "result"):
        out.setdefault(key, None)
    out.setdefault("result_envelope", None)
    out.setdefault("error_details", None)
    out["request"] = request
    out["payload"] = request.get("input")
    references = {
        key: out.get(key)
        for key in (
            "workflow_sequence",
            "command_sequence",
            "accepted_at",
            "applied_at",
            "rejected_at",
            "closed_at",
        )
    }
    out.setdefault("history_references", references)
    diagnostics_keys = (
        *("state", "update_state", "workflow_id", "run_id", "update_name", "update_id", "request_id"),
        *("outcome", "reason", "rejection_reason", "command_status", "command_id", "update_status"),
        *("wait_for", "result"),
    )
    out["update_diagnostics"] = {key: out.get(key) for key in diagnostics_keys} | {
        "request": request,
        "payload": out["payload"],
        "history_references": out["history_references"],
    }
    out["cli_fields"] = {
        "surface": "workflow:update --json",
        "fields_present": sorted(body),
        "state": state,
        "request_id": out.get("request_id"),
        "update_id": out.get("update_id"),
        "outcome": outcome,
        "reason": out.get("reason"),
        "payload": out["payload"],
        "result": out.get("result"),
        "error": out.get("error_details"),
        "history_references": out["history_references"],
    }
    return out


@command(
    "workflow:update",
    summary="Send an update to a workflow (waits for acceptance, or --wait=completed).",
    example="dw workflow:update order-42 quota.adjust --wait=completed --input='[{\"quota\":50}]'",
)
@click.argument("workflow_id")
@click.argument("update_name")
@RUN_ID
@click.option("--wait", "wait_for", default="accepted", show_default=True, help="accepted or completed.")
@click.option("--request-id", help="Caller correlation id.")
@payloads.payload_options
def update(
    inv: Invocation,
    workflow_id: str,
    update_name: str,
    run_id: str | None,
    wait_for: str,
    request_id: str | None,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
) -> None:
    arguments = payloads.arguments(input_text, input_file, input_encoding)
    answer = inv.call(
        lambda client: client.update_workflow_detailed(
            workflow_id, update_name, arguments, wait_for=wait_for, request_id=request_id, run_id=run_id
        )
    )
    body = dict(answer.raw)
    body["result"] = answer.result
    request = {
        "workflow_id": workflow_id,
        "run_id": run_id,
        "update_name": update_name,
        "request_id": request_id,
        "wait_for": wait_for,
        "input": arguments,
    }
    document = update_document(body, request)
    if inv.json:
        inv.out.document(with_namespace(contract_fields(document), inv.namespace))
        return
    inv.out.title("Update sent")
    inv.out.fields(
        [
            ("Workflow ID", workflow_id),
            ("Namespace", inv.namespace),
            ("Update", update_name),
            ("Update ID", document.get("update_id")),
            ("Outcome", status(document.get("outcome"))),
            ("Command Status", status(document.get("command_status"))),
            ("Update Status", status(document.get("update_status"))),
            ("Wait For", wait_for),
            ("Result", answer.result),
        ]
    )


# ---------------------------------------------------------------------------- run commands


def _run_command(
    name: str,
    *,
    summary: str,
    example: str,
    title: str,
    call: Callable[..., Any],
    run_option: bool = True,
    reason_option: bool = True,
) -> DwCommand:
    """A ``workflow:<verb> <workflow-id>`` command printing the command result."""

    def run(inv: Invocation, workflow_id: str, **options: Any) -> None:
        result = inv.call(lambda client: call(client, workflow_id, **options))
        body = backfill(dict(result.raw), workflow_id=workflow_id, run_id=options.get("run_id"))
        _show(
            inv,
            title,
            body,
            [
                ("Workflow ID", workflow_id),
                ("Namespace", inv.namespace),
                ("Run ID", body.get("run_id")),
                ("Outcome", status(body.get("outcome"))),
                ("Command Status", status(body.get("command_status"))),
                ("Command ID", body.get("command_id")),
            ],
        )

    run.__name__ = name.split(":")[1].replace("-", "_")
    decorated: Callable[..., None] = run
    if reason_option:
        decorated = click.option("--reason", help="Why (recorded in the history).")(decorated)
    if run_option:
        decorated = RUN_ID(decorated)
    decorated = click.argument("workflow_id")(decorated)
    return command(name, summary=summary, example=example)(decorated)


def _cancel(client: Client, workflow_id: str, reason: str | None, run_id: str | None) -> Any:
    return client.cancel_workflow(workflow_id, reason, run_id=run_id)


def _terminate(client: Client, workflow_id: str, reason: str | None, run_id: str | None) -> Any:
    return client.terminate_workflow(workflow_id, reason, run_id=run_id)


cancel = _run_command(
    "workflow:cancel",
    summary="Cancel a workflow (cooperative: activities are told through their heartbeats).",
    example="dw workflow:cancel order-42 --reason='customer request'",
    title="Cancellation requested",
    call=_cancel,
)
terminate = _run_command(
    "workflow:terminate",
    summary="Terminate a workflow at once.",
    example="dw workflow:terminate order-42 --reason='stuck'",
    title="Workflow terminated",
    call=_terminate,
)
repair = _run_command(
    "workflow:repair",
    summary="Ask the server to re-dispatch a workflow's lost work.",
    example="dw workflow:repair order-42",
    title="Repair requested",
    call=lambda client, workflow_id: client.repair_workflow(workflow_id),
    run_option=False,
    reason_option=False,
)
archive = _run_command(
    "workflow:archive",
    summary="Archive a closed workflow.",
    example="dw workflow:archive order-42 --reason='retention'",
    title="Archive requested",
    call=lambda client, workflow_id, reason: client.archive_workflow(workflow_id, reason),
    run_option=False,
)
pause = _run_command(
    "workflow:pause",
    summary="Pause a workflow: no new tasks are dispatched until it is resumed.",
    example="dw workflow:pause order-42 --reason='maintenance'",
    title="Pause requested",
    call=lambda client, workflow_id, reason: client.pause_workflow(workflow_id, reason),
    run_option=False,
)
resume = _run_command(
    "workflow:resume",
    summary="Resume a paused workflow.",
    example="dw workflow:resume order-42",
    title="Resume requested",
    call=lambda client, workflow_id: client.resume_workflow(workflow_id),
    run_option=False,
    reason_option=False,
)

COMMANDS = (signal, query, update, cancel, terminate, repair, archive, pause, resume)
