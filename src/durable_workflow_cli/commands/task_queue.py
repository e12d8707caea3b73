"""``dw task-queue:*``: task queues and their build-id rollout (cli.md §3.5).

``list`` and ``describe`` show backlog, pollers and admission; ``build-ids`` the cohorts of a
queue; ``promote``, ``drain`` and ``resume`` change one cohort (``--build-id`` or
``--unversioned``, exactly one). JSON is the server body with the resolved ``namespace``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..command import DwCommand, Invocation, command
from ..errors import invalid
from ..views import UNVERSIONED, status, with_namespace

if TYPE_CHECKING:
    from durable_workflow.client import (
        Client,
        TaskQueueQueryAdmission,
        TaskQueueTaskAdmission,
        TaskQueueTaskCounts,
    )


def _task_admission(admission: TaskQueueTaskAdmission | None) -> str | None:
    """``throttled: 0 leases, 12/min left``: the status and what is left of the tightest budgets."""
    if admission is None or admission.status is None:
        return None
    left = []
    leases = _least(
        admission.server_remaining_active_lease_capacity,
        admission.server_remaining_namespace_active_lease_capacity,
    )
    if leases is not None:
        left.append(f"{leases} leases")
    dispatches = _least(
        admission.server_remaining_dispatch_capacity,
        admission.server_remaining_namespace_dispatch_capacity,
        admission.server_remaining_budget_group_dispatch_capacity,
    )
    if dispatches is not None:
        left.append(f"{dispatches}/min")
    if admission.available_slot_count is not None:
        left.append(f"{admission.available_slot_count} slots")
    return f"{admission.status}: {', '.join(left)} left" if left else admission.status


def _query_admission(admission: TaskQueueQueryAdmission | None) -> str | None:
    if admission is None or admission.status is None:
        return None
    if admission.remaining_pending_capacity is None:
        return admission.status
    return f"{admission.status}: {admission.remaining_pending_capacity} pending left"


def _least(*values: int | None) -> int | None:
    known = [value for value in values if value is not None]
    return min(known) if known else None


@command("task-queue:list", summary="List the namespace's task queues.", example="dw task-queue:list")
def list_queues(inv: Invocation) -> None:
    answer = inv.call(lambda client: client.list_task_queues())
    body = with_namespace(answer.raw, inv.namespace, items="task_queues")
    if inv.json:
        inv.out.records(body, "task_queues")
        return
    inv.out.fields([("Namespace", inv.namespace)])
    inv.out.table(
        ["Task Queue", "Workflow Admission", "Activity Admission", "Query Admission"],
        (
            [
                queue.name,
                _task_admission(queue.admission.workflow_tasks),
                _task_admission(queue.admission.activity_tasks),
                _query_admission(queue.admission.query_tasks),
            ]
            for queue in answer.task_queues
        ),
        empty=f"No task queues in namespace {inv.namespace}.",
    )


def _counts(counts: TaskQueueTaskCounts) -> str | None:
    parts = [
        f"{value} {label}"
        for label, value in (
            ("ready", counts.ready_count),
            ("leased", counts.leased_count),
            ("expired", counts.expired_lease_count),
        )
        if value is not None
    ]
    return ", ".join(parts) or None


@command(
    "task-queue:describe",
    summary="Describe a task queue: backlog, admission, leases and pollers.",
    example="dw task-queue:describe orders",
)
@click.argument("task_queue")
def describe(inv: Invocation, task_queue: str) -> None:
    queue = inv.call(lambda client: client.describe_task_queue(task_queue))
    if inv.json:
        inv.out.document(with_namespace(queue.raw, inv.namespace))
        return
    out, stats = inv.out, queue.stats
    out.title(f"Task Queue: {queue.name}")
    out.fields(
        [
            ("Namespace", queue.namespace or inv.namespace),
            ("Backlog", stats.approximate_backlog_count),
            ("Backlog Age", stats.approximate_backlog_age),
            ("Workflow Tasks", _counts(stats.workflow_tasks)),
            ("Activity Tasks", _counts(stats.activity_tasks)),
            ("Pollers", f"{stats.active_pollers or 0} active, {stats.stale_pollers or 0} stale"),
        ]
    )
    out.line()
    admission = queue.admission
    out.table(
        ["Admission", "Status", "Budget Source"],
        [
            ["workflow tasks", _task_admission(admission.workflow_tasks), _source(admission.workflow_tasks)],
            ["activity tasks", _task_admission(admission.activity_tasks), _source(admission.activity_tasks)],
            [
                "query tasks",
                _query_admission(admission.query_tasks),
                admission.query_tasks.budget_source if admission.query_tasks else None,
            ],
        ],
        empty="No admission facts.",
    )
    out.line()
    out.table(
        ["Task ID", "Type", "Workflow ID", "Lease Owner", "Expires", "Attempt"],
        (
            [
                lease.task_id,
                lease.task_type,
                lease.workflow_id,
                lease.lease_owner,
                out.moment(lease.lease_expires_at, short=True),
                lease.workflow_task_attempt or lease.attempt_number,
            ]
            for lease in queue.current_leases
        ),
        empty="No current leases.",
    )
    out.line()
    out.table(
        ["Poller", "Runtime", "Build ID", "Status", "Last Heartbeat"],
        (
            [
                poller.worker_id,
                poller.runtime,
                poller.build_id or UNVERSIONED,
                status(poller.status),
                out.moment(poller.last_heartbeat_at, short=True),
            ]
            for poller in queue.pollers
        ),
        empty="No pollers.",
    )


def _source(admission: TaskQueueTaskAdmission | None) -> str | None:
    if admission is None:
        return None
    return admission.server_budget_source or admission.budget_source


@command(
    "task-queue:build-ids",
    summary="Show a task queue's build-id cohorts and their rollout state.",
    example="dw task-queue:build-ids orders",
)
@click.argument("task_queue")
def build_ids(inv: Invocation, task_queue: str) -> None:
    rollout = inv.call(lambda client: client.list_task_queue_build_ids(task_queue))
    if inv.json:
        body = with_namespace(rollout.raw, inv.namespace)
        body.setdefault("task_queue", task_queue)
        inv.out.document(body)
        return
    out = inv.out
    out.fields(
        [
            ("Task Queue", rollout.task_queue),
            ("Namespace", rollout.namespace or inv.namespace),
            ("Stale After", f"{rollout.stale_after_seconds}s" if rollout.stale_after_seconds else None),
        ]
    )
    if not rollout.build_ids:
        out.line(f"No build ids on task queue {task_queue}.")
    # One block per cohort: its thirteen facts do not fit an 80-column table.
    for cohort in rollout.build_ids:
        out.line()
        out.fields(
            [
                ("Build ID", cohort.build_id or UNVERSIONED),
                ("Rollout", status(cohort.rollout_status)),
                (
                    "Workers",
                    f"{cohort.active_worker_count} active, {cohort.draining_worker_count} draining, "
                    f"{cohort.stale_worker_count} stale ({cohort.total_worker_count} total)",
                ),
                ("New Starts", "selected" if cohort.new_start_selected else None),
                ("Promoted At", out.moment(cohort.promoted_at)),
                ("Definition Conflicts", _conflicts(cohort.raw.get("definition_conflicts"))),
                ("Runtimes", ", ".join(cohort.runtimes) or None),
                ("SDK Versions", ", ".join(cohort.sdk_versions) or None),
                ("Last Heartbeat", out.moment(cohort.last_heartbeat_at)),
                ("First Seen", out.moment(cohort.first_seen_at)),
            ]
        )


def _conflicts(value: Any) -> Any:
    if isinstance(value, list):
        return len(value) or None
    return value or None


def _rollout_command(verb: str, *, summary: str, title: str) -> DwCommand:
    """``task-queue:<verb> <task-queue> (--build-id=ID | --unversioned)``."""

    def change(inv: Invocation, task_queue: str, build_id: str | None, unversioned: bool) -> None:
        if (build_id is None) == (not unversioned):
            raise invalid(
                "Give exactly one of --build-id=<id> or --unversioned.",
                command=f"dw task-queue:{verb} {task_queue} --build-id=<id>",
            )

        def call(client: Client) -> Any:
            method = getattr(client, f"{verb}_task_queue_build_id")
            return method(task_queue, build_id)

        state = inv.call(call)
        body = with_namespace(state.raw, inv.namespace)
        body.setdefault("task_queue", task_queue)
        if inv.json:
            inv.out.document(body)
            return
        inv.out.title(title)
        inv.out.fields(
            [
                ("Task Queue", state.task_queue),
                ("Namespace", state.namespace or inv.namespace),
                ("Build ID", state.build_id or UNVERSIONED),
                ("Drain Intent", status(state.drain_intent)),
                ("Drained At", inv.out.moment(state.drained_at)),
                ("Promoted At", inv.out.moment(state.promoted_at)),
                ("New Starts", "selected" if state.new_start_selected else None),
            ]
        )

    change.__name__ = verb
    decorated: Any = click.option(
        "--unversioned", is_flag=True, help="The cohort of workers without a build id."
    )(change)
    decorated = click.option("--build-id", help="The build id of the cohort.")(decorated)
    decorated = click.argument("task_queue")(decorated)
    return command(
        f"task-queue:{verb}",
        summary=summary,
        example=f"dw task-queue:{verb} orders --build-id=build-2026.04.22",
    )(decorated)


promote = _rollout_command(
    "promote",
    summary="Pin new runs of a task queue to one build-id cohort.",
    title="Build ID promoted",
)
drain = _rollout_command(
    "drain",
    summary="Drain a build-id cohort: it claims no new tasks, held ones finish.",
    title="Build ID draining",
)
resume = _rollout_command(
    "resume",
    summary="Resume a drained build-id cohort.",
    title="Build ID resumed",
)


COMMANDS = (list_queues, describe, build_ids, promote, drain, resume)
