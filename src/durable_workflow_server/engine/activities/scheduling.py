"""Scheduling an activity: its execution row, its first task and the frozen retry policy."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Scheduled:
    """The rows of a batch's scheduled activities, inserted together by :meth:`insert`.

    One multi-row ``INSERT`` per table (executions, tasks, then attempts: each row's parents go
    in first) rather than three statements per activity. Nothing reads these rows before the
    batch's commands are all applied, so :func:`~durable_workflow_server.engine.workflow_tasks.
    completion.apply_commands` inserts them then, before anything that does (closing the run, an
    eager claim after the completion).
    """

    executions: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)

    async def insert(self, tx: Tx) -> None:
        """Insert the rows collected so far, and forget them."""
        for stmt, pending in (
            (rows.INSERT_EXECUTION, self.executions),
            (rows.INSERT_TASK, self.tasks),
            (rows.INSERT_ATTEMPT, self.attempts),
        ):
            # A multi-row INSERT takes one set of columns: a leased row has more than a ready one.
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in pending:
                groups.setdefault(tuple(row), []).append(row)
            for group in groups.values():
                await tx.conn.execute(stmt, group if len(group) > 1 else group[0])
            pending.clear()


async def schedule(
    tx: Tx, run: RunRow, cmd: dict[str, Any], seq: int, batch: str, steps: list[Step], scheduled: Scheduled
) -> tuple[tuple[str, dict[str, Any]], str]:
    """A ``schedule_activity`` command: the execution, its first task and ``ActivityScheduled``.

    The new step is added to ``steps`` and the rows to ``scheduled`` (for the caller to insert);
    returns the event and the new task id.
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
    scheduled.executions.append(execution)
    tx.scheduled[task_id] = (cast(dict[str, Any], run), execution)
    scheduled.tasks.append(task)
    if attempt is not None:
        scheduled.attempts.append(attempt)
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
