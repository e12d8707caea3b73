"""``dw debug workflow <workflow-id>`` (cli.md §3.1): the server's debug view of a run.

One call (``GET /workflows/{id}/debug``, or ``.../runs/{run}/debug`` with ``--run-id``). The
human view is the connection line, the status with its diagnostic status, type, queue, wait,
last and next events, the findings as ``[SEVERITY] code: message``, the queue's backlog and
pollers, then tables of pending workflow tasks, pending activities and recent failures. JSON is
the server body with the resolved ``namespace`` and the control-plane identity fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ..command import Invocation, command
from ..errors import invalid
from ..views import contract_fields, status, with_namespace

TARGET = "workflow"
USAGE = "dw debug workflow <workflow-id>"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def _event(inv: Invocation, event: Mapping[str, Any]) -> str | None:
    if not event:
        return None
    when = inv.out.moment(event.get("recorded_at"), short=True)
    return f"#{event.get('sequence')} {event.get('event_type')}" + (f" ({when})" if when else "")


def _next(inv: Invocation, event: Mapping[str, Any]) -> str | None:
    if not event:
        return None
    kind = event.get("timer_kind") or event.get("kind") or "timer"
    when = inv.out.moment(event.get("fire_at"), short=True)
    return f"{kind} {when}" if when else str(kind)


def _status(execution: Mapping[str, Any], diagnostic: Any) -> str:
    return f"{execution.get('status') or '-'} ({diagnostic or '-'})"


def _queue(queue: Mapping[str, Any]) -> str | None:
    stats = _mapping(queue.get("stats"))
    if not stats:
        return None
    pollers = _mapping(stats.get("pollers"))
    backlog = stats.get("approximate_backlog_count")
    age = stats.get("approximate_backlog_age")
    parts = [f"backlog {backlog if backlog is not None else '-'}" + (f" (oldest {age})" if age else "")]
    parts.append(
        f"{pollers.get('active_count') or 0} active pollers, {pollers.get('stale_count') or 0} stale"
    )
    return ", ".join(parts)


def _human(inv: Invocation, body: Mapping[str, Any]) -> None:
    out = inv.out
    execution = _mapping(body.get("execution"))
    out.title(f"Debug: {body.get('workflow_id')}")
    out.line(f"Server: {inv.settings.server}  Namespace: {body.get('namespace') or inv.namespace}")
    wait = execution.get("wait_reason") or execution.get("wait_kind")
    out.fields(
        [
            ("Run ID", body.get("run_id")),
            ("Status", _status(execution, body.get("diagnostic_status"))),
            ("Type", execution.get("workflow_type")),
            ("Task Queue", execution.get("task_queue")),
            ("Waiting On", wait),
            ("Liveness", execution.get("liveness_state")),
            ("Last Event", _event(inv, _mapping(execution.get("last_event")))),
            ("Next Event", _next(inv, _mapping(execution.get("next_scheduled_event")))),
            ("Queue", _queue(_mapping(body.get("task_queue")))),
        ]
    )
    findings = _rows(body.get("findings"))
    if findings:
        out.line()
        out.line("Findings:")
        for finding in findings:
            severity = str(finding.get("severity") or "info").upper()
            out.line(f"  [{severity}] {finding.get('code')}: {finding.get('message')}")
    out.line()
    out.table(
        ["Workflow Task", "Status", "Attempt", "Lease Owner", "Available"],
        (
            [
                task.get("task_id"),
                status(task.get("status")),
                task.get("attempt"),
                task.get("lease_owner"),
                out.moment(task.get("available_at"), short=True),
            ]
            for task in _rows(body.get("pending_workflow_tasks"))
        ),
        empty="No pending workflow tasks.",
    )
    out.line()
    out.table(
        ["Activity", "Status", "Attempt", "Task", "Lease Owner"],
        (
            [
                activity.get("activity_type"),
                status(activity.get("status")),
                activity.get("attempt"),
                activity.get("task_status"),
                activity.get("lease_owner"),
            ]
            for activity in _rows(body.get("pending_activities"))
        ),
        empty="No pending activities.",
    )
    out.line()
    out.table(
        ["When", "Source", "Attempt", "Failure"],
        (
            [
                out.moment(failure.get("recorded_at"), short=True),
                failure.get("activity_type") or failure.get("source"),
                failure.get("attempt"),
                failure.get("message") or failure.get("exception_class"),
            ]
            for failure in _rows(body.get("recent_failures"))
        ),
        empty="No recent failures.",
    )


@command(
    "debug",
    summary="Debug a workflow: why it waits, what is pending, recent failures.",
    example="dw debug workflow order-42",
)
@click.argument("target", metavar="workflow")
@click.argument("workflow_id")
@click.option("--run-id", "-r", help="Debug this run instead of the current one.")
@click.option("--include-last-event-payload", is_flag=True, help="Add the latest event's payload (JSON).")
def debug(
    inv: Invocation, target: str, workflow_id: str, run_id: str | None, include_last_event_payload: bool
) -> None:
    if target != TARGET:
        raise invalid(f"debug takes 'workflow <workflow-id>' (got {target!r}).", command=USAGE)
    view = inv.call(
        lambda client: client.debug_workflow(
            workflow_id, run_id=run_id, include_last_event_payload=include_last_event_payload
        )
    )
    body = with_namespace(contract_fields(view.raw), inv.namespace)
    if inv.json:
        inv.out.document(body)
        return
    _human(inv, body)


COMMANDS = (debug,)
