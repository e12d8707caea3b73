"""Activity attempt outcomes: complete, fail (with retries) and heartbeat.

Every outcome passes the ownership fence (:func:`fence`: the run, then the task, locked) and
the currency check (the attempt is the task's current one and no deadline has passed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, cast

from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.codec import SUPPORTED_CODECS
from durable_workflow.protocol.history import EventType
from durable_workflow.protocol.payload_storage import is_external_storage_envelope

from ...store.rows import ActivityAttemptRow, ActivityExecutionRow, ActivityTaskRow, RunRow
from ...store.statuses import (
    ActivityAttemptStatus,
    ActivityExecutionStatus,
    ActivityTaskStatus,
)
from ..errors import DomainError, ValidationFailed
from ..external_storage import offloading
from ..external_storage.stored import stored_envelope
from ..history import events as h
from ..history.rows import append
from ..runs.rows import is_terminal_run
from ..runs.steps import OtherSteps, after_step_resolved
from ..shapes import ActivityHeartbeatResponse, ActivityOutcomeResponse
from ..transaction import Tx
from ..util import new_id, rfc3339, seconds
from ..workers.rows import registered
from . import deadlines, rows
from .claims import activity_event_ids
from .retries import retry_decision, schedule_retry


def normalize_result(result: Any, execution_codec: str) -> tuple[str, str]:
    """An activity result as ``(codec, blob)``: envelope kept, bare blob kept, other JSON encoded."""
    if isinstance(result, Mapping) and set(result) == {"codec", "blob"}:
        if result["codec"] not in SUPPORTED_CODECS:
            raise ValidationFailed(
                {"result.codec": [f"Unknown payload codec [{result['codec']}]; use avro."]}
            )
        if not isinstance(result["blob"], str):
            raise ValidationFailed({"result.blob": ["The envelope blob must be a string."]})
        return str(result["codec"]), result["blob"]
    if is_external_storage_envelope(result):
        try:
            return stored_envelope(result)
        except ValueError as exc:
            raise ValidationFailed({"result.external_storage": [str(exc)]}) from exc
    if isinstance(result, str):
        return execution_codec, result
    return execution_codec, payload_codec.encode(result)


async def fence(
    tx: Tx, namespace: str, task_id: str, attempt_id: str, lease_owner: str
) -> tuple[ActivityTaskRow, ActivityAttemptRow, RunRow]:
    """Ownership fence for complete / fail / heartbeat; returns ``(task, attempt, run)``, locked.

    The run is locked before the task (the engine's lock order, see ``runs.rows``).
    """
    task, attempt, run, _ = await fence_execution(tx, namespace, task_id, attempt_id, lease_owner)
    return task, attempt, run


async def fence_execution(
    tx: Tx,
    namespace: str,
    task_id: str,
    attempt_id: str,
    lease_owner: str,
    *,
    eager_worker: bool = False,
) -> tuple[ActivityTaskRow, ActivityAttemptRow, RunRow, ActivityExecutionRow]:
    """:func:`fence`, and the task's execution: the task, attempt and execution in one read.

    ``eager_worker``: the completion asks for an eager hand-out; ``lease_owner``'s registration
    is read in the same statement, for ``workers.registry.eager_registration`` (``tx.eager_workers``).
    """
    # One read, locking the run before the task: the engine's lock order (see runs.rows).
    params = {"b_task_id": task_id, "b_namespace": namespace, "b_attempt_id": attempt_id}
    if eager_worker:
        found = await tx.one(rows.RUN_TASK_ATTEMPT_EXECUTION_WORKER, {**params, "b_worker_id": lease_owner})
    else:
        found = await tx.one(rows.RUN_TASK_ATTEMPT_EXECUTION, params)
    if found is None:
        raise DomainError(
            reasons.TASK_NOT_FOUND, f"Activity task [{task_id}] was not found.", task_id=task_id
        )
    # One pass over the joined row (the worker's part is empty unless ``eager_worker``).
    task_row, attempt_row, execution_row, run_row, worker_row = rows.SPLIT_FENCE_WORKER(found)
    if eager_worker:
        tx.eager_workers[(namespace, lease_owner)] = registered(worker_row)
    run = cast(RunRow, run_row)
    task = cast(ActivityTaskRow, task_row)
    attempt = cast(ActivityAttemptRow | None, attempt_row if attempt_row["attempt_id"] is not None else None)
    execution = cast(ActivityExecutionRow, execution_row)
    if attempt is None:
        raise DomainError(
            reasons.ATTEMPT_NOT_FOUND,
            f"Activity attempt [{attempt_id}] was not found.",
            task_id=task_id,
            activity_attempt_id=attempt_id,
        )
    if attempt["task_id"] != task_id:
        raise DomainError(
            reasons.TASK_MISMATCH,
            "The activity attempt does not belong to this task.",
            task_id=task_id,
            activity_attempt_id=attempt_id,
        )
    if attempt["lease_owner"] != lease_owner:
        raise DomainError(
            reasons.LEASE_OWNER_MISMATCH,
            "The activity attempt is leased to another worker.",
            task_id=task_id,
            activity_attempt_id=attempt_id,
            lease_owner=attempt["lease_owner"],
        )
    return task, attempt, run, execution


def _is_current(task: ActivityTaskRow, attempt: ActivityAttemptRow) -> bool:
    return bool(
        attempt["status"] == ActivityAttemptStatus.RUNNING
        and task["status"] == ActivityTaskStatus.LEASED
        and task["current_attempt_id"] == attempt["attempt_id"]
    )


def _stale(
    task: ActivityTaskRow, attempt: ActivityAttemptRow, timeout_kind: str | None = None
) -> DomainError:
    extra = {"timeout_kind": timeout_kind} if timeout_kind else {}
    return DomainError(
        reasons.STALE_ATTEMPT,
        "This activity attempt is no longer current; its outcome was not recorded."
        if timeout_kind is None
        else f"This activity attempt timed out ({timeout_kind}); its outcome was not recorded.",
        task_id=task["task_id"],
        activity_attempt_id=attempt["attempt_id"],
        outcome="rejected",
        recorded=False,
        attempt_status=attempt["status"],
        task_status=task["status"],
        **extra,
    )


def _ignored_if_cancelled(
    task: ActivityTaskRow, attempt: ActivityAttemptRow, run: RunRow, execution: ActivityExecutionRow
) -> None:
    """A late outcome of an attempt whose run was cancelled or terminated: ``ignored``, not stale.

    The attempt was closed by the cancel; the worker is told why (409, outcome ``ignored``,
    reason ``run_cancelled`` / ``run_terminated``) so it can drop the outcome quietly.
    """
    reason = h.command_stop_reason(run["status"])
    # An attempt that had already finished is a duplicate outcome: stale, as for any run.
    if reason is None or attempt["status"] not in (
        ActivityAttemptStatus.CANCELLED,
        ActivityAttemptStatus.RUNNING,
    ):
        return
    raise DomainError(
        reason,
        f"The workflow run was {run['status']}; this activity outcome was ignored.",
        task_id=task["task_id"],
        activity_attempt_id=attempt["attempt_id"],
        outcome="ignored",
        recorded=False,
        error=reason,
        cancel_requested=True,
        can_continue=False,
        run_status=run["status"],
        run_closed_reason=run["closed_reason"],
        run_closed_at=rfc3339(run["closed_at"]),
        activity_status=execution["status"],
        attempt_status=attempt["status"],
        task_status=task["status"],
        lease_owner=attempt["lease_owner"],
        lease_expires_at=rfc3339(task["lease_expires_at"]),
        next_task_id=None,
    )


def _check_current(task: ActivityTaskRow, attempt: ActivityAttemptRow, now: datetime) -> None:
    """Refuse an outcome of an attempt that is over, or whose deadline has already passed.

    Past a deadline the attempt has timed out even if the background loop has not recorded it
    yet (it will, at once): accepting a late result would contradict the timeout it is about to
    record.
    """
    if not _is_current(task, attempt):
        raise _stale(task, attempt)
    kind = deadlines.fired(task, now)
    if kind is not None:
        raise _stale(task, attempt, kind)


async def _close_attempt(
    tx: Tx, task: ActivityTaskRow, attempt: ActivityAttemptRow, status: ActivityAttemptStatus
) -> None:
    await tx.conn.execute(
        rows.UPDATE_ATTEMPT, {"b_attempt_id": attempt["attempt_id"], "status": status, "closed_at": tx.now}
    )
    await tx.conn.execute(
        rows.UPDATE_TASK,
        {
            "b_task_id": task["task_id"],
            "status": ActivityTaskStatus.COMPLETED
            if status == ActivityAttemptStatus.COMPLETED
            else ActivityTaskStatus.FAILED,
            "lease_owner": None,
            "lease_expires_at": None,
            "timeout_at": None,
            "updated_at": tx.now,
        },
    )


async def complete(
    tx: Tx, namespace: str, task_id: str, attempt_id: str, lease_owner: str, result: Any
) -> ActivityOutcomeResponse:
    """Record the attempt's result (see :func:`complete_waking`)."""
    answer, _, _ = await complete_waking(tx, namespace, task_id, attempt_id, lease_owner, result)
    return answer


async def complete_waking(
    tx: Tx,
    namespace: str,
    task_id: str,
    attempt_id: str,
    lease_owner: str,
    result: Any,
    *,
    queue: Callable[[Tx, RunRow], Awaitable[str | None]] | None = None,
    eager_worker: bool = False,
) -> tuple[ActivityOutcomeResponse, RunRow, str | None]:
    """Record the attempt's result: the answer, the run, and the workflow task it queued (if any).

    The queued task is what an activity completion may hand straight back to its worker;
    ``queue`` queues it (``runs.steps.after_step_resolved``'s, an eager hand-out's);
    ``eager_worker``: the fence reads the worker's registration for that hand-out too.
    """
    task, attempt, run, execution = await fence_execution(
        tx, namespace, task_id, attempt_id, lease_owner, eager_worker=eager_worker
    )
    _ignored_if_cancelled(task, attempt, run, execution)
    _check_current(task, attempt, tx.now)
    codec, blob = normalize_result(result, execution["payload_codec"])
    if is_terminal_run(run):
        raise _stale(task, attempt)
    blob = await offloading.accept(tx, run["namespace"], run["run_id"], codec, blob, field="result")
    await _close_attempt(tx, task, attempt, ActivityAttemptStatus.COMPLETED)
    execution_id = execution["activity_execution_id"]
    values = {
        "b_execution_id": execution_id,
        "status": ActivityExecutionStatus.COMPLETED,
        "result_blob": blob,
        "closed_at": tx.now,
    }
    others = None
    if tx.store.supports_returning:
        # The wake rule's facts of the run's other steps, read by the same statement (the run
        # is locked since the fence: they are what a read after it would find).
        step_keys = {
            "b_run_id": run["run_id"],
            "b_resolving_id": execution_id,
            "b_batch_id": execution["batch_id"],
        }
        found = await tx.one(rows.UPDATE_EXECUTION_WITH_OTHER_STEPS, {**values, **step_keys})
        others = OtherSteps.of(found) if found is not None else None
    else:
        await tx.conn.execute(rows.UPDATE_EXECUTION, values)
    payload = {
        **activity_event_ids(execution, attempt_id, attempt["attempt_number"]),
        "result": blob,
        "payload_codec": codec,
    }
    # after_step_resolved writes the run (wait kind and the progress append deferred); deferred
    # again, so an eager claim of the task it queues writes the run once (statuses, progress).
    await append(tx, run, [(EventType.ACTIVITY_COMPLETED, payload)], write_run=False)
    queued = await after_step_resolved(tx, run, execution["batch_id"], defer=True, queue=queue, others=others)
    answer: ActivityOutcomeResponse = {
        "task_id": task_id,
        "activity_attempt_id": attempt_id,
        "outcome": "completed",
        "recorded": True,
        "reason": None,
        "next_task_id": None,
    }
    return answer, run, queued


async def fail(
    tx: Tx, namespace: str, task_id: str, attempt_id: str, lease_owner: str, failure: Mapping[str, Any]
) -> ActivityOutcomeResponse:
    task, attempt, run, execution = await fence_execution(tx, namespace, task_id, attempt_id, lease_owner)
    _ignored_if_cancelled(task, attempt, run, execution)
    _check_current(task, attempt, tx.now)
    if is_terminal_run(run):
        raise _stale(task, attempt)
    number = int(attempt["attempt_number"])
    snapshot = execution["retry_policy"]
    counted = await rows.counted_attempts(tx, execution["activity_execution_id"], number)
    retry, delay = retry_decision(snapshot, counted, failure)
    await _close_attempt(tx, task, attempt, ActivityAttemptStatus.FAILED)
    ids = activity_event_ids(execution, attempt_id, number)
    fields = h.failure_fields(failure, "activity")
    next_task_id = None
    if retry:
        next_task_id = await schedule_retry(tx, run, execution, task, delay=delay, event={**ids, **fields})
    else:
        await tx.conn.execute(
            rows.UPDATE_EXECUTION,
            {
                "b_execution_id": execution["activity_execution_id"],
                "status": ActivityExecutionStatus.FAILED,
                "closed_at": tx.now,
            },
        )
        payload = {**ids, "failure_id": new_id(), **fields}
        await append(tx, run, [(EventType.ACTIVITY_FAILED, payload)], write_run=False)
        await after_step_resolved(tx, run, execution["batch_id"])
    return {
        "task_id": task_id,
        "activity_attempt_id": attempt_id,
        "outcome": "failed",
        "recorded": True,
        "reason": None,
        "next_task_id": next_task_id,
    }


async def heartbeat(
    tx: Tx,
    namespace: str,
    task_id: str,
    attempt_id: str,
    lease_owner: str,
    progress: Mapping[str, Any],
    lease_seconds: float,
) -> ActivityHeartbeatResponse:
    task, attempt, run, execution = await fence_execution(tx, namespace, task_id, attempt_id, lease_owner)
    body: ActivityHeartbeatResponse = {
        "task_id": task_id,
        "activity_attempt_id": attempt_id,
        "lease_owner": lease_owner,
        "cancel_requested": False,
        "can_continue": True,
        "reason": None,
        "run_closed_reason": run["closed_reason"],
        "run_closed_at": rfc3339(run["closed_at"]),
        "heartbeat_recorded": False,
        "lease_expires_at": rfc3339(task["lease_expires_at"]),
        "last_heartbeat_at": rfc3339(attempt["last_heartbeat_at"]),
    }
    stopped = h.command_stop_reason(run["status"])
    if stopped is not None or execution["status"] == ActivityExecutionStatus.CANCELLED:
        reason = stopped or "activity_cancelled"
        return {**body, "cancel_requested": True, "can_continue": False, "reason": reason}
    if is_terminal_run(run):
        return {**body, "can_continue": False, "reason": "run_closed"}
    if not _is_current(task, attempt):
        return {**body, "can_continue": False, "reason": "stale_attempt"}
    if deadlines.fired(task, tx.now) is not None:
        # Too late: a heartbeat cannot revive an attempt whose deadline has passed. It is a
        # sign of life of the attempt's worker, though: the timeout counts, decided now.
        await tx.conn.execute(rows.UPDATE_ATTEMPT, {"b_attempt_id": attempt_id, "last_heartbeat_at": tx.now})
        await tx.conn.execute(rows.UPDATE_TASK, {"b_task_id": task_id, "timeout_at": tx.now})
        tx.due(tx.now)
        return {**body, "can_continue": False, "reason": "stale_attempt"}
    lease_expires_at = deadlines.lease_until(tx.now + seconds(lease_seconds), task)
    renewed = deadlines.heartbeat(execution["retry_policy"], task, tx.now)
    clean = {
        k: progress.get(k)
        for k in ("message", "current", "total", "unit", "details")
        if progress.get(k) is not None
    }
    await tx.conn.execute(
        rows.UPDATE_TASK,
        {"b_task_id": task_id, "lease_expires_at": lease_expires_at, "updated_at": tx.now, **renewed},
    )
    await tx.conn.execute(
        rows.UPDATE_ATTEMPT,
        {"b_attempt_id": attempt_id, "last_heartbeat_at": tx.now, "progress": clean or None},
    )
    payload = {
        **activity_event_ids(execution, attempt_id, attempt["attempt_number"]),
        "heartbeat_at": rfc3339(tx.now),
        "lease_expires_at": rfc3339(lease_expires_at),
        "progress": clean,
    }
    await append(tx, run, [(EventType.ACTIVITY_HEARTBEAT_RECORDED, payload)])
    return {
        **body,
        "heartbeat_recorded": True,
        "lease_expires_at": rfc3339(lease_expires_at),
        "last_heartbeat_at": rfc3339(tx.now),
    }
