"""Leasing an activity task to a poller as a new attempt, and the task object the poll answers with."""

from __future__ import annotations

from typing import Any, cast

from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol.history import EventType
from durable_workflow.protocol.wire import ActivityTask

from ...store.rows import ActivityExecutionRow, ActivityTaskRow, RunRow
from ...store.statuses import ActivityAttemptStatus, ActivityExecutionStatus, ActivityTaskStatus
from ..external_storage.stored import wire_envelope
from ..history.rows import append
from ..queues import claim_first, claim_waiting
from ..runs.rows import is_paused, is_terminal_run
from ..shapes import RetryPolicySnapshot
from ..task_queues import cohorts
from ..transaction import Tx
from ..util import new_id, rfc3339, seconds
from . import deadlines, rows


def _run_id(candidate: ActivityTaskRow) -> str:
    return str(candidate["run_id"])


def activity_event_ids(
    execution: ActivityExecutionRow, attempt_id: str | None, attempt_number: int
) -> dict[str, Any]:
    """The keys naming the activity and its attempt in every activity history event."""
    return {
        "activity_execution_id": execution["activity_execution_id"],
        "activity_attempt_id": attempt_id,
        "activity_type": execution["activity_type"],
        "activity_class": execution["activity_type"],
        "sequence": execution["sequence"],
        "attempt_number": attempt_number,
    }


def task_object(
    task: ActivityTaskRow,
    run: RunRow,
    execution: ActivityExecutionRow,
    attempt_id: str,
    attempt_number: int,
) -> ActivityTask:
    """The task object a poll answers with for ``task``, just leased as attempt ``attempt_id``."""
    lease_owner, lease_expires_at = task["lease_owner"], task["lease_expires_at"]
    assert lease_owner is not None and lease_expires_at is not None  # the task is leased
    blob = execution["arguments_blob"]
    if blob is None:
        blob = payload_codec.encode([])
    answer: ActivityTask = {
        "task_id": task["task_id"],
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "activity_execution_id": execution["activity_execution_id"],
        "activity_attempt_id": attempt_id,
        "attempt_number": attempt_number,
        "activity_type": execution["activity_type"],
        "payload_codec": execution["payload_codec"],
        "arguments": wire_envelope(execution["payload_codec"], blob),
        "retry_policy": cast(RetryPolicySnapshot | None, execution["retry_policy"]),
        "task_queue": task["task_queue"],
        "lease_owner": lease_owner,
        "lease_expires_at": rfc3339(lease_expires_at),
        "deadlines": deadlines.wire(task) or None,
    }
    # Keys without a value are left out rather than sent as null.
    return cast(ActivityTask, {k: v for k, v in answer.items() if v is not None})


async def claim_activity_task(
    tx: Tx,
    *,
    namespace: str,
    queue: str,
    worker_id: str,
    activity_types: list[str],
    lease_seconds: float,
    build_id: str | None = None,
    busy: list[ActivityTaskRow] | None = None,
    task_ids: list[str] | None = None,
    held_run: RunRow | None = None,
    executions: dict[str, ActivityExecutionRow] | None = None,
) -> tuple[ActivityTask | None, list[ActivityTaskRow]]:
    """Lease the next due activity task as a new attempt: ``(poll task object or None, busy)``.

    Without ``busy`` this is the fast pass over the queue; with it, the waiting pass over those
    candidates (in a fresh transaction; see :mod:`..queues`). A drained cohort (``build_id``,
    the claimer's registered build) claims nothing; activities are never pinned to a build.
    ``task_ids`` restricts the candidates to those tasks (an eager dispatch, see :mod:`.eager`):
    tasks this transaction scheduled, so none has been leased yet, ``held_run`` is their run
    (locked by this transaction) and ``executions`` their execution rows as written, by id.
    """

    async def attempt(candidate: ActivityTaskRow, run: RunRow | None) -> ActivityTask | None:
        if run is None or is_terminal_run(run):
            await tx.conn.execute(rows.CANCEL_TASK, {"b_task_id": candidate["task_id"]})
            return None
        if is_paused(run):
            if candidate["status"] == ActivityTaskStatus.READY:
                params = {"b_task_id": candidate["task_id"], "status": ActivityTaskStatus.PAUSED}
                await tx.conn.execute(rows.UPDATE_TASK, {**params, "updated_at": tx.now})
            return None  # no new dispatch while the run is paused
        execution = (executions or {}).get(candidate["activity_execution_id"])
        if execution is None:
            execution = cast(
                ActivityExecutionRow | None,
                await tx.one(rows.EXECUTION, {"b_execution_id": candidate["activity_execution_id"]}),
            )
        assert execution is not None
        snapshot = execution["retry_policy"]
        attempt_id = new_id()
        timing = deadlines.claimed(snapshot, candidate, tx.now)
        lease_expires_at = deadlines.lease_until(tx.now + seconds(lease_seconds), timing)
        result = await tx.conn.execute(
            rows.LEASE_TASK,
            {
                "b_task_id": candidate["task_id"],
                "b_status": candidate["status"],
                "b_current_attempt_id": candidate["current_attempt_id"] or "",
                "b_now": tx.now,
                "status": ActivityTaskStatus.LEASED,
                "lease_owner": worker_id,
                "lease_expires_at": lease_expires_at,
                "current_attempt_id": attempt_id,
                "updated_at": tx.now,
                **timing,
            },
        )
        if result.rowcount != 1:
            return None
        tx.due(timing["timeout_at"])
        if candidate["status"] == ActivityTaskStatus.LEASED and candidate["current_attempt_id"]:
            # The previous holder's lease ran out: its attempt is over, late outcomes are stale.
            await rows.expire_attempt(tx, candidate["current_attempt_id"])
        attempt_number = int(execution["attempt_count"]) + 1
        await tx.conn.execute(
            rows.INSERT_ATTEMPT,
            {
                "attempt_id": attempt_id,
                "task_id": candidate["task_id"],
                "activity_execution_id": execution["activity_execution_id"],
                "namespace": namespace,
                "attempt_number": attempt_number,
                "status": ActivityAttemptStatus.RUNNING,
                "lease_owner": worker_id,
                "started_at": tx.now,
            },
        )
        await tx.conn.execute(
            rows.UPDATE_EXECUTION,
            {
                "b_execution_id": execution["activity_execution_id"],
                "status": ActivityExecutionStatus.RUNNING,
                "attempt_count": attempt_number,
                "current_attempt_id": attempt_id,
            },
        )
        await append(
            tx, run, [(EventType.ACTIVITY_STARTED, activity_event_ids(execution, attempt_id, attempt_number))]
        )
        leased = {**candidate, **timing, "lease_owner": worker_id, "lease_expires_at": lease_expires_at}
        return task_object(cast(ActivityTaskRow, leased), run, execution, attempt_id, attempt_number)

    if busy is not None:

        async def relock(candidate: ActivityTaskRow) -> ActivityTaskRow | None:
            fresh = cast(
                ActivityTaskRow | None,
                await tx.one(tx.store.lock(rows.OPEN_TASK), {"b_task_id": candidate["task_id"]}),
            )
            return fresh if fresh is not None and deadlines.fired(fresh, tx.now) is None else None

        if await cohorts.cohort_draining(tx, namespace, queue, build_id):
            return None, []
        return await claim_waiting(tx, busy, _run_id, relock, attempt), []
    # None for a drained cohort (its leases run on).
    claimer = cohorts.build_key(build_id)
    if task_ids is None:
        due = await rows.CANDIDATES.due(tx, namespace, queue, activity_types, b_build_key=claimer)
    else:
        due = await rows.CANDIDATES_OF_TASKS.due(
            tx, namespace, queue, activity_types, leased=False, b_build_key=claimer, b_task_ids=task_ids
        )
    candidates = [
        candidate
        for candidate in cast(list[ActivityTaskRow], due)
        # Timed out: the background loop records it (it is due now), nobody runs it.
        if deadlines.fired(candidate, tx.now) is None
    ]
    return await claim_first(tx, candidates, _run_id, attempt, held=held_run)
