"""Activity retries: whether a failed or timed-out try is retried, and queuing the next try.

The policy is the snapshot frozen when the activity was scheduled (``scheduling.retry_snapshot``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from durable_workflow.protocol.history import EventType

from ...store.rows import RunRow
from ...store.statuses import ActivityExecutionStatus, ActivityTaskStatus
from ..history.rows import append
from ..runs.rows import is_paused
from ..transaction import Tx
from ..util import new_id, rfc3339, seconds
from . import deadlines, rows


def retry_decision(
    snapshot: Mapping[str, Any] | None, attempt_number: int, failure: Mapping[str, Any]
) -> tuple[bool, int]:
    """``(retry?, delay_seconds)`` after attempt ``attempt_number`` failed with ``failure``."""
    if not snapshot:
        return False, 0
    listed = set(snapshot.get("non_retryable_error_types") or [])
    names = {
        failure.get("type"),
        failure.get("class"),
        failure.get("exception_type"),
        failure.get("exception_class"),
    }
    if failure.get("non_retryable") is True or failure.get("retryable") is False or listed & names:
        return False, 0
    if attempt_number >= int(snapshot.get("max_attempts") or 1):
        return False, 0
    backoff = list(snapshot.get("backoff_seconds") or [])
    delay = int(backoff[min(attempt_number - 1, len(backoff) - 1)]) if backoff else 0
    return True, delay


def last_failure(event: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """What the execution keeps of the failure its retry follows (describe's ``last_failure``)."""
    attempt, non_retryable = event.get("attempt_number"), event.get("non_retryable")
    return {
        "attempt": attempt if isinstance(attempt, int) else None,
        "exception_class": event.get("exception_class"),
        "message": event.get("message"),
        "non_retryable": non_retryable if isinstance(non_retryable, bool) else None,
        "recorded_at": rfc3339(at),
    }


async def schedule_retry(
    tx: Tx,
    run: RunRow,
    execution: Mapping[str, Any],
    task: Mapping[str, Any],
    *,
    delay: int,
    event: Mapping[str, Any],
) -> str:
    """Queue the next attempt of ``execution`` in ``delay`` seconds; append ``ActivityRetryScheduled``.

    ``event`` holds the ids and failure keys of the event (an attempt failure or a timeout); the
    retry keys are added here. The new task is a new row with its own schedule-to-start deadline;
    the execution's schedule-to-close deadline carries over. Returns the new task id.
    """
    next_task_id = new_id()
    available_at = tx.now + seconds(delay)
    snapshot = execution["retry_policy"]
    waiting = deadlines.waiting(snapshot, available_at=available_at, schedule_to_close_at=task[deadlines.S2C])
    await tx.conn.execute(
        rows.INSERT_TASK,
        {
            "task_id": next_task_id,
            "activity_execution_id": execution["activity_execution_id"],
            "run_id": run["run_id"],
            "namespace": run["namespace"],
            "task_queue": task["task_queue"],
            "activity_type": execution["activity_type"],
            "status": ActivityTaskStatus.PAUSED if is_paused(run) else ActivityTaskStatus.READY,
            "available_at": available_at,
            "created_at": tx.now,
            "updated_at": tx.now,
            **waiting,
        },
    )
    await tx.conn.execute(
        rows.UPDATE_EXECUTION,
        {
            "b_execution_id": execution["activity_execution_id"],
            "status": ActivityExecutionStatus.PENDING,
            "current_attempt_id": None,
            "last_failure": last_failure(event, tx.now),
        },
    )
    payload = {
        **event,
        "retry_task_id": next_task_id,
        "retry_of_task_id": task["task_id"],
        "retry_available_at": rfc3339(available_at),
        "retry_backoff_seconds": delay,
        "retry_after_attempt_id": event.get("activity_attempt_id"),
        "retry_after_attempt": event.get("attempt_number"),
        "max_attempts": (snapshot or {}).get("max_attempts", 1),
        "retry_policy": snapshot,
    }
    await append(tx, run, [(EventType.ACTIVITY_RETRY_SCHEDULED, payload)])
    tx.wakes.add(("activity", run["namespace"], task["task_queue"]))
    tx.due(waiting["timeout_at"])
    return next_task_id
