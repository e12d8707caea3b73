"""``dw workflow-task:*`` and ``dw query-task:*``: worker-protocol diagnostics (cli.md §3.7).

These act as a worker would, through the SDK Client's worker-plane methods, so an SDK author
can poll, complete or fail one task by hand. The preflight also checks the worker protocol.
JSON is the server's answer as it is (no ``namespace`` added, cli.md §2.7).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import click

from ..command import Invocation, command
from ..errors import invalid
from ..options import FAILURE_TYPE, LEASE_OWNER, STACK_TRACE
from ..payloads import json_value
from ..views import settled, status

if TYPE_CHECKING:
    from durable_workflow.protocol.wire import CommandBody

ATTEMPT = click.IntRange(min=1)
TASK_QUEUE = click.option("--task-queue", default="default", show_default=True, help="Task queue to poll.")


def _envelope(value: Any) -> dict[str, Any]:
    """``value`` as the ``{codec, blob}`` envelope worker commands carry (the server takes plain
    JSON for caller payloads only, not inside workflow-task commands)."""
    from durable_workflow.errors import PayloadError
    from durable_workflow.protocol import codec

    try:
        return dict(codec.envelope(value))
    except codec.PayloadCodecError as exc:
        raise PayloadError(f"cannot encode --complete-result: {exc}", exc.reason) from exc


def _outcome(inv: Invocation, title: str, body: Mapping[str, Any], rows: list[tuple[str, Any]]) -> None:
    settled(inv.out, title, body, rows, [("Run Status", status(body.get("run_status")))])


# ---------------------------------------------------------------------------- workflow tasks


@command(
    "workflow-task:poll",
    summary="Poll for one workflow task as a worker would (diagnostics).",
    example="dw workflow-task:poll cli-worker --task-queue=orders",
    worker_plane=True,
)
@click.argument("worker_id")
@TASK_QUEUE
@click.option("--build-id", help="The worker's build id.")
@click.option("--poll-request-id", help="Idempotency key of this poll.")
@click.option("--history-page-size", type=click.IntRange(min=1), help="Events in the first history page.")
@click.option("--accept-history-encoding", help="A compressed history encoding to accept (e.g. gzip).")
def workflow_task_poll(
    inv: Invocation,
    worker_id: str,
    task_queue: str,
    build_id: str | None,
    poll_request_id: str | None,
    history_page_size: int | None,
    accept_history_encoding: str | None,
) -> None:
    task = inv.call(
        lambda client: client.poll_workflow_task(
            worker_id=worker_id,
            task_queue=task_queue,
            build_id=build_id,
            poll_request_id=poll_request_id,
            history_page_size=history_page_size,
            accept_history_encoding=accept_history_encoding,
        )
    )
    found: dict[str, Any] | None = dict(task) if task is not None else None
    if inv.json:
        inv.out.document({"task": found})
        return
    if found is None:
        inv.out.line("No workflow task available.")
        return
    events = found.get("history_events")
    inv.out.title("Workflow task leased")
    inv.out.fields(
        [
            ("Task ID", found.get("task_id")),
            ("Workflow ID", found.get("workflow_id")),
            ("Run ID", found.get("run_id")),
            ("Workflow Type", found.get("workflow_type")),
            ("Attempt", found.get("workflow_task_attempt")),
            ("Lease Owner", found.get("lease_owner")),
            ("Lease Expires", inv.out.moment(found.get("lease_expires_at"))),
            ("History Events", len(events) if isinstance(events, list) else None),
            ("Total Events", found.get("total_history_events")),
            ("Next History Page", found.get("next_history_page_token")),
        ]
    )


@command(
    "workflow-task:complete",
    summary="Complete a leased workflow task with commands (diagnostics).",
    example="dw workflow-task:complete wt-1 1 --complete-result='{\"ok\":true}'",
    worker_plane=True,
)
@click.argument("task_id")
@click.argument("attempt", type=ATTEMPT)
@LEASE_OWNER
@click.option(
    "--command",
    "commands",
    multiple=True,
    metavar="JSON",
    help="A command object in wire form, payloads as {codec, blob} (repeatable).",
)
@click.option("--complete-result", metavar="JSON", help="Result of the default complete_workflow command.")
def workflow_task_complete(
    inv: Invocation,
    task_id: str,
    attempt: int,
    lease_owner: str,
    commands: tuple[str, ...],
    complete_result: str | None,
) -> None:
    if commands and complete_result is not None:
        raise invalid("--command and --complete-result cannot be used together.")
    sent: list[dict[str, Any]] = []
    for text in commands:
        value = json_value(text, "--command")
        if not isinstance(value, dict):
            raise invalid("--command must be a JSON object.")
        sent.append(value)
    if not sent:
        result = None if complete_result is None else json_value(complete_result, "--complete-result")
        sent = [{"type": "complete_workflow", "result": _envelope(result)}]
    body = inv.call(
        lambda client: client.complete_workflow_task(
            task_id=task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=attempt,
            # The user's objects go as written; the server validates each command.
            commands=cast("list[CommandBody]", sent),
        )
    )
    _outcome(inv, "Workflow task completed", body, [("Task ID", task_id), ("Attempt", attempt)])


@command(
    "workflow-task:fail",
    summary="Fail a leased workflow task (diagnostics).",
    example="dw workflow-task:fail wt-1 1 --message='replay mismatch' --type=NonDeterminism",
    worker_plane=True,
)
@click.argument("task_id")
@click.argument("attempt", type=ATTEMPT)
@LEASE_OWNER
@click.option("--message", "-m", required=True, help="Failure message.")
@FAILURE_TYPE
@STACK_TRACE
def workflow_task_fail(
    inv: Invocation,
    task_id: str,
    attempt: int,
    lease_owner: str,
    message: str,
    failure_type: str | None,
    stack_trace: str | None,
) -> None:
    body = inv.call(
        lambda client: client.fail_workflow_task(
            task_id=task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=attempt,
            message=message,
            failure_type=failure_type,
            stack_trace=stack_trace,
        )
    )
    _outcome(inv, "Workflow task failed", body, [("Task ID", task_id), ("Attempt", attempt)])


@command(
    "workflow-task:history",
    summary="Fetch the next history page of a leased workflow task (diagnostics).",
    example="dw workflow-task:history wt-1 page-2 --attempt=1 --lease-owner=cli-worker",
    worker_plane=True,
)
@click.argument("task_id")
@click.argument("page_token")
@LEASE_OWNER
@click.option("--attempt", type=ATTEMPT, required=True, help="The task's workflow_task_attempt.")
def workflow_task_history(
    inv: Invocation, task_id: str, page_token: str, lease_owner: str, attempt: int
) -> None:
    page = inv.call(
        lambda client: client.workflow_task_history(
            task_id=task_id,
            next_history_page_token=page_token,
            lease_owner=lease_owner,
            workflow_task_attempt=attempt,
        )
    )
    body: dict[str, Any] = dict(page)
    if inv.json:
        inv.out.document(body)
        return
    events = body.get("history_events") or []
    inv.out.fields(
        [
            ("Task ID", task_id),
            ("Total Events", body.get("total_history_events")),
            ("Next History Page", body.get("next_history_page_token")),
        ]
    )
    inv.out.table(
        ["Event", "Type", "Details"],
        (
            [
                event.get("event_id") or event.get("sequence"),
                event.get("event_type"),
                json.dumps(event.get("payload"), ensure_ascii=False) if event.get("payload") else None,
            ]
            for event in events
            if isinstance(event, Mapping)
        ),
        empty="No events on this page.",
    )


# ---------------------------------------------------------------------------- query tasks


@command(
    "query-task:poll",
    summary="Poll for one query task as a worker would (diagnostics).",
    example="dw query-task:poll cli-worker --task-queue=orders",
    worker_plane=True,
)
@click.argument("worker_id")
@TASK_QUEUE
def query_task_poll(inv: Invocation, worker_id: str, task_queue: str) -> None:
    task = inv.call(lambda client: client.poll_query_task(worker_id=worker_id, task_queue=task_queue))
    found: dict[str, Any] | None = dict(task) if task is not None else None
    if inv.json:
        inv.out.document({"task": found})
        return
    if found is None:
        inv.out.line("No query task available.")
        return
    inv.out.title("Query task leased")
    inv.out.fields(
        [
            ("Query Task ID", found.get("query_task_id")),
            ("Workflow ID", found.get("workflow_id")),
            ("Run ID", found.get("run_id")),
            ("Query", found.get("query_name")),
            ("Attempt", found.get("query_task_attempt")),
            ("Lease Owner", found.get("lease_owner")),
            ("Lease Expires", inv.out.moment(found.get("lease_expires_at"))),
        ]
    )


@command(
    "query-task:complete",
    summary="Answer a leased query task (diagnostics).",
    example='dw query-task:complete qt-1 1 --result=\'{"status":"ready"}\'',
    worker_plane=True,
)
@click.argument("query_task_id")
@click.argument("attempt", type=ATTEMPT)
@LEASE_OWNER
@click.option("--result", "result_text", required=True, metavar="JSON", help="The query's result.")
def query_task_complete(
    inv: Invocation, query_task_id: str, attempt: int, lease_owner: str, result_text: str
) -> None:
    result = json_value(result_text, "--result")
    body = inv.call(
        lambda client: client.complete_query_task(
            query_task_id=query_task_id, lease_owner=lease_owner, query_task_attempt=attempt, result=result
        )
    )
    _outcome(inv, "Query task completed", body, [("Query Task ID", query_task_id), ("Attempt", attempt)])


@command(
    "query-task:fail",
    summary="Fail a leased query task; the caller gets the reason (diagnostics).",
    example="dw query-task:fail qt-1 1 --message='unknown query' --reason=rejected_unknown_query",
    worker_plane=True,
)
@click.argument("query_task_id")
@click.argument("attempt", type=ATTEMPT)
@LEASE_OWNER
@click.option("--message", "-m", required=True, help="Failure message.")
@click.option("--reason", default="query_rejected", show_default=True, help="Reason code for the caller.")
@FAILURE_TYPE
@STACK_TRACE
def query_task_fail(
    inv: Invocation,
    query_task_id: str,
    attempt: int,
    lease_owner: str,
    message: str,
    reason: str,
    failure_type: str | None,
    stack_trace: str | None,
) -> None:
    body = inv.call(
        lambda client: client.fail_query_task(
            query_task_id=query_task_id,
            lease_owner=lease_owner,
            query_task_attempt=attempt,
            message=message,
            reason=reason,
            failure_type=failure_type,
            stack_trace=stack_trace,
        )
    )
    _outcome(inv, "Query task failed", body, [("Query Task ID", query_task_id), ("Attempt", attempt)])


COMMANDS = (
    workflow_task_poll,
    workflow_task_complete,
    workflow_task_fail,
    workflow_task_history,
    query_task_poll,
    query_task_complete,
    query_task_fail,
)
