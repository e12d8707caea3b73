"""Enforcing activity timeouts from the background loop (see docs/protocol.md).

The loop scans ``activity_tasks`` by ``(status, timeout_at)`` for tasks with a deadline due and
times each one out in its own transaction. The run and then the task row are locked (``FOR
UPDATE`` on PostgreSQL, the process-wide write lock on SQLite) and the task is then closed with
an update fenced on the status and current attempt it was read with, so two server processes
sharing a database never time out the same attempt twice, and an attempt that completed in the
meantime is left alone.

With attempts left and a kind other than ``schedule_to_close``, the timeout is a retry
(``ActivityRetryScheduled{timeout_kind}`` and a new task after the backoff); otherwise the
execution fails with ``ActivityTimedOut`` and the workflow resumes under the usual wake rule.
A ``schedule_to_start`` timeout counts the try that never started toward ``max_attempts`` (a
queue nobody serves must not retry forever).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from durable_workflow.protocol.history import EventType

from ...store import Store
from ...store.rows import ActivityAttemptRow, ActivityExecutionRow, ActivityTaskRow
from ...store.statuses import ActivityExecutionStatus, ActivityTaskStatus
from ..history import events as h
from ..history.rows import append
from ..runs.rows import is_terminal_run, lock_run_of
from ..runs.steps import after_step_resolved
from ..transaction import OpenTx, Tx
from ..util import new_id
from . import deadlines, rows
from . import leases as activity_leases
from . import liveness as liveness_rule
from .claims import activity_event_ids
from .retries import retry_decision, schedule_retry

BATCH = 100
Outcome = Literal["retried", "timed_out", "lost", "pending"]
# The exception class the protocol names for activity timeouts (see docs/protocol.md).
TIMEOUT_EXCEPTION_CLASS = "Workflow\\V2\\Exceptions\\ActivityTimeoutException"


async def enforce(
    open_tx: OpenTx,
    store: Store,
    now: datetime,
    liveness: float | None = None,
    observed_since: datetime | None = None,
) -> int:
    """Decide every activity task with a deadline due at ``now``; returns how many were decided.

    ``liveness`` / ``observed_since``: the worker-death rule's window (see :func:`time_out`).
    """
    async with store.read() as conn:
        due = (await conn.execute(rows.DUE_TIMEOUTS, {"b_now": now, "b_limit": BATCH})).scalars().all()
    count = 0
    for task_id in due:
        async for txn in open_tx():
            async with txn as tx:
                if await time_out(tx, task_id, liveness, observed_since) not in (None, "pending"):
                    count += 1
    return count


def _message(activity_type: str, kind: str, attempt_number: int) -> str:
    return f"Activity [{activity_type}] timed out ({kind}) on attempt {attempt_number}."


async def time_out(
    tx: Tx, task_id: str, liveness: float | None = None, observed_since: datetime | None = None
) -> Outcome | None:
    """Time out ``task_id`` if one of its deadlines has passed; ``None`` if nothing was due.

    Answers ``"retried"`` when the timeout scheduled another try, ``"timed_out"`` when the
    execution failed with ``ActivityTimedOut``, ``"lost"`` when the worker-death rule found the
    attempt's worker gone (:mod:`.liveness`: the attempt ends ``expired`` and the task is
    redelivered, not counted), ``None`` too while that rule waits for a sign of life. The
    background loop and the system activity-timeout pass both come here, with the same rule.
    """
    # Wait for (rather than skip) a row another transaction holds: once that one commits, the
    # task is seen closed or re-timed, and a sweep that returns has left nothing due behind it.
    # The run before the task: the engine's lock order (see runs.rows).
    run = await lock_run_of(tx, rows.RUN_OF_TASK, {"b_task_id": task_id})
    task = cast(ActivityTaskRow | None, await tx.one(tx.store.lock(rows.OPEN_TASK), {"b_task_id": task_id}))
    if task is None:
        return None  # closed meanwhile
    kind = deadlines.fired(task, tx.now)
    if kind is None:
        return None  # e.g. a heartbeat moved the deadline after the scan
    if run is not None and not is_terminal_run(run):
        verdict = await liveness_rule.decide(tx, task, kind, liveness, observed_since)
        if verdict.outcome == "pending":
            assert verdict.recheck_at is not None
            await liveness_rule.wait_for_sign(tx, task, verdict.recheck_at)
            return "pending"
        if verdict.outcome == "lost":
            await activity_leases.requeue_lost(tx, task)
            return "lost"
    closed = await tx.conn.execute(
        rows.CLOSE_TASK,
        {
            "b_task_id": task_id,
            "b_status": task["status"],
            "b_attempt_id": task["current_attempt_id"] or "",
            "b_new_status": ActivityTaskStatus.FAILED,
            "b_now": tx.now,
        },
    )
    if closed.rowcount != 1:
        return None  # another process got there first
    execution = cast(
        ActivityExecutionRow | None,
        await tx.one(rows.EXECUTION, {"b_execution_id": task["activity_execution_id"]}),
    )
    if (
        run is None
        or execution is None
        or is_terminal_run(run)
        or execution["status"] not in rows.OPEN_EXECUTION_STATUSES
    ):
        await tx.conn.execute(rows.CANCEL_TASK, {"b_task_id": task_id})
        return None
    attempt_id: str | None = None
    if task["status"] == ActivityTaskStatus.LEASED and task["current_attempt_id"]:
        attempt_id = task["current_attempt_id"]
        attempt = cast(ActivityAttemptRow | None, await tx.one(rows.ATTEMPT, {"b_attempt_id": attempt_id}))
        assert attempt is not None
        number = int(attempt["attempt_number"])
        # The attempt failed by its timeout: its late complete / fail / heartbeat meets the
        # stale-attempt fence.
        await rows.fail_attempt(tx, attempt_id)
    else:
        number = int(execution["attempt_count"]) + 1
        await tx.conn.execute(
            rows.UPDATE_EXECUTION,
            {"b_execution_id": execution["activity_execution_id"], "attempt_count": number},
        )
    message = _message(execution["activity_type"], kind, number)
    failure = {"message": message, "exception_class": TIMEOUT_EXCEPTION_CLASS}
    retry, delay = (False, 0)
    if kind != deadlines.SCHEDULE_TO_CLOSE:
        counted = await rows.counted_attempts(tx, execution["activity_execution_id"], number)
        retry, delay = retry_decision(execution["retry_policy"], counted, failure)
    ids = activity_event_ids(execution, attempt_id, number)
    if retry:
        event = {**ids, **h.failure_fields(failure, "timeout"), "timeout_kind": kind}
        await schedule_retry(tx, run, execution, task, delay=delay, event=event)
        return "retried"
    await tx.conn.execute(
        rows.UPDATE_EXECUTION,
        {
            "b_execution_id": execution["activity_execution_id"],
            "status": ActivityExecutionStatus.FAILED,
            "closed_at": tx.now,
        },
    )
    payload: dict[str, Any] = {
        **ids,
        "failure_id": new_id(),
        "failure_category": "timeout",
        "timeout_kind": kind,
        "message": message,
        "exception_class": TIMEOUT_EXCEPTION_CLASS,
        **deadlines.event_fields(task),
    }
    await append(tx, run, [(EventType.ACTIVITY_TIMED_OUT, payload)], write_run=False)
    await after_step_resolved(tx, run, execution["batch_id"])
    return "timed_out"
