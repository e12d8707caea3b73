"""Scheduling an activity: its execution row, its first task and the frozen retry policy."""

from __future__ import annotations

from typing import Any, cast

from durable_workflow.protocol.history import EventType

from ...store.rows import RunRow
from ...store.statuses import ActivityExecutionStatus, ActivityTaskStatus
from ..runs.rows import is_paused
from ..runs.steps import STEP_ACTIVITY, Step
from ..transaction import Tx
from ..util import new_id
from ..validation import ACTIVITY_TIMEOUTS
from . import deadlines, rows


def retry_snapshot(command: dict[str, Any]) -> dict[str, Any] | None:
    """The policy frozen at schedule time; ``None`` means one attempt."""
    policy = command.get("retry_policy")
    timeouts = {name: command.get(name) for name in ACTIVITY_TIMEOUTS}
    if policy is None and not any(timeouts.values()):
        return None
    policy = policy or {}
    return {
        "snapshot_version": 1,
        "max_attempts": policy.get("max_attempts", 1),
        "backoff_seconds": policy.get("backoff_seconds", []),
        "non_retryable_error_types": policy.get("non_retryable_error_types", []),
        **timeouts,
    }


async def schedule(
    tx: Tx, run: RunRow, cmd: dict[str, Any], seq: int, batch: str, steps: list[Step]
) -> tuple[tuple[str, dict[str, Any]], str]:
    """A ``schedule_activity`` command: the execution, its first task and ``ActivityScheduled``.

    The new step is added to ``steps``; returns the event and the new task id.
    """
    execution_id, task_id = new_id(), new_id()
    queue = cmd["queue"] or run["task_queue"]
    codec, blob = cmd["arguments"] or (run["payload_codec"], None)
    snapshot = retry_snapshot(cmd)
    waiting = deadlines.scheduled(snapshot, tx.now)
    execution = {
        "activity_execution_id": execution_id,
        "run_id": run["run_id"],
        "workflow_id": run["workflow_id"],
        "namespace": run["namespace"],
        "sequence": seq,
        "batch_id": batch,
        "activity_type": cmd["activity_type"],
        "task_queue": queue,
        "payload_codec": codec,
        "arguments_blob": blob,
        "retry_policy": snapshot,
        "status": ActivityExecutionStatus.PENDING,
        "attempt_count": 0,
        "scheduled_at": tx.now,
    }
    task: dict[str, Any] = {
        "task_id": task_id,
        "activity_execution_id": execution_id,
        "run_id": run["run_id"],
        "namespace": run["namespace"],
        "task_queue": queue,
        "activity_type": cmd["activity_type"],
        "status": ActivityTaskStatus.PAUSED if is_paused(run) else ActivityTaskStatus.READY,
        "available_at": tx.now,
        "created_at": tx.now,
        "updated_at": tx.now,
        **waiting,
    }
    tx.due(waiting["timeout_at"])
    # An eager hand-out decided now goes in leased: the claim's columns, attempt and start.
    attempt = await tx.eager_activities.lease(tx, run, execution, task) if tx.eager_activities else None
    await tx.conn.execute(rows.INSERT_EXECUTION, execution)
    tx.scheduled[task_id] = (cast(dict[str, Any], run), execution)
    await tx.conn.execute(rows.INSERT_TASK, task)
    if attempt is not None:
        await tx.conn.execute(rows.INSERT_ATTEMPT, attempt)
    steps.append(Step(STEP_ACTIVITY, execution_id, seq, batch, False, activity_type=cmd["activity_type"]))
    tx.wakes.add(("activity", run["namespace"], queue))
    payload = {
        "activity_execution_id": execution_id,
        "activity_type": cmd["activity_type"],
        "activity_class": cmd["activity_type"],
        "sequence": seq,
        "task_queue": queue,
        "activity": {
            "id": execution_id,
            "activity_type": cmd["activity_type"],
            "queue": queue,
            "status": ActivityExecutionStatus.PENDING,
            "attempt_count": 0,
            "retry_policy": snapshot,
            "payload_codec": codec,
        },
    }
    return (EventType.ACTIVITY_SCHEDULED, payload), task_id
