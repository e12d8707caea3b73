"""Workflow-task outcomes: heartbeat (lease renewal), complete (apply commands) and fail.

Each passes the lease fence first (``leases.fence``: the run, then the task, locked; owner and
attempt must match the lease).
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import commands as c

from ...store.statuses import TERMINAL_RUN_STATUSES, WorkflowTaskStatus
from ..activities.eager import EagerActivities
from ..external_storage import offloading
from ..pausing import carry_pause
from ..search_attributes.checks import check_upserts
from ..shapes import WorkflowTaskCompletedResponse, WorkflowTaskFailedResponse, WorkflowTaskHeartbeatResponse
from ..signals import late as late_signals
from ..signals.rows import mark_applied
from ..transaction import Tx
from ..util import rfc3339, seconds
from ..validation import validate_commands
from . import rows, sticky
from .completion import apply_commands
from .leases import fence
from .rows import ensure_workflow_task


async def heartbeat(
    tx: Tx, namespace: str, task_id: str, lease_owner: str, attempt: int, lease_seconds: float
) -> WorkflowTaskHeartbeatResponse:
    """Renew the lease for another ``lease_seconds``."""
    task, run = await fence(tx, namespace, task_id, lease_owner, attempt)
    expires = tx.now + seconds(lease_seconds)
    await tx.conn.execute(
        rows.UPDATE, {"b_task_id": task_id, "lease_expires_at": expires, "updated_at": tx.now}
    )
    return {
        "task_id": task_id,
        "workflow_task_attempt": task["attempt_count"],
        "lease_owner": lease_owner,
        "renewed": True,
        "lease_expires_at": rfc3339(expires),
        "run_status": run["status"],
        "task_status": WorkflowTaskStatus.LEASED,
        "reason": None,
    }


async def complete(
    tx: Tx,
    namespace: str,
    task_id: str,
    lease_owner: str,
    attempt: int,
    commands: list[dict[str, Any]],
    sticky_requested: bool = False,
    eager_activities: EagerActivities | None = None,
) -> WorkflowTaskCompletedResponse:
    """Validate and apply the task's commands to its run, and close the task.

    ``sticky_requested``: the worker keeps the run's replay (see :mod:`.sticky`).
    ``eager_activities``: the completing worker's eager hand-out, decided as the activities are
    scheduled (``activities.eager``) unless a command closes the run: its claim would then
    find the run closed, and the hand-out is left to ``activities.eager.hand_scheduled``.
    """
    eager = eager_activities is not None
    task, run = await fence(tx, namespace, task_id, lease_owner, attempt, eager_worker=eager)
    normalized = validate_commands(commands, run["payload_codec"])
    await check_upserts(tx, run["namespace"], normalized)  # values against their registered types
    await offloading.accept_commands(tx, run["namespace"], run["run_id"], normalized)
    closing = next((cmd["type"] for cmd in normalized if cmd["type"] in c.TERMINAL_COMMANDS), None)
    unseen = await late_signals.unseen(tx, run, task) if closing is not None else []
    if unseen and closing != c.CONTINUE_AS_NEW:
        return await late_signals.refuse_close(tx, run, task, unseen)
    was_sticky = run["sticky_worker_id"] is not None
    tx.eager_activities = eager_activities if closing is None else None
    try:
        applied = await apply_commands(
            tx, run, task, normalized, sticky.run_values(run, task, sticky_requested)
        )
    finally:
        tx.eager_activities = None
    if applied.new_run is not None:
        await carry_pause(tx, run, applied.new_run)  # a paused workflow stays paused
        if unseen:
            await late_signals.carry_to(tx, unseen, applied.new_run)
    # The task is completed (apply_commands' first write). A task queued while it was leased
    # (a signal, a step's result) is claimable now.
    still_open = applied.new_run is None and run["status"] not in TERMINAL_RUN_STATUSES
    if applied.other_ready is not None:
        queued = still_open and applied.other_ready  # read with the run's steps, under its lock
    else:
        queued = still_open and await tx.one(rows.READY_OF_RUN, {"b_run_id": run["run_id"]}) is not None
    if queued:
        tx.wakes.add(("workflow", run["namespace"], run["task_queue"]))
    if queued and (was_sticky or run["sticky_worker_id"] is not None):
        await sticky.hold_queued(tx, run)
    upto = task.get("history_sequence")
    earliest = applied.earliest_signal
    if upto is not None and earliest is not None and earliest <= int(upto):
        await mark_applied(tx, run["run_id"], upto)  # none received before it: nothing to mark
    return {
        "task_id": task_id,
        "workflow_task_attempt": task["attempt_count"],
        "outcome": "completed",
        "recorded": True,
        "run_id": run["run_id"],
        "run_status": applied.run_status,
        "created_task_ids": applied.created_task_ids,
        "reason": None,
    }


async def fail(
    tx: Tx,
    namespace: str,
    task_id: str,
    lease_owner: str,
    attempt: int,
    failure: dict[str, Any],
    *,
    retry_delay_seconds: float,
) -> WorkflowTaskFailedResponse:
    """Record a task (not workflow) failure and queue the task again after ``retry_delay_seconds``."""
    task, run = await fence(tx, namespace, task_id, lease_owner, attempt)
    await tx.conn.execute(
        rows.UPDATE,
        {
            "b_task_id": task_id,
            "status": WorkflowTaskStatus.FAILED,
            "lease_expires_at": None,
            "updated_at": tx.now,
            "last_error": str(failure.get("message") or "")[:4000],
        },
    )
    await sticky.on_failure(tx, run)  # before the retry is queued: it is for any worker
    # Redeliver after a short delay so a crashing replay does not spin the worker.
    # A task delivering an update is redelivered as such, or the update would never be answered.
    next_task_id = await ensure_workflow_task(
        tx,
        run,
        available_at=tx.now + seconds(retry_delay_seconds),
        update_id=task.get("workflow_update_id"),
    )
    return {
        "task_id": task_id,
        "workflow_task_attempt": task["attempt_count"],
        "outcome": "failed",
        "recorded": True,
        "reason": None,
        "next_task_id": next_task_id,
    }
