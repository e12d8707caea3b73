"""Activity attempt outcomes: complete, fail (with retries) and heartbeat (worker-plane.md §2.10, §7.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.codec import SUPPORTED_CODECS
from durable_workflow.protocol.history import EventType, RunStatus

from ..store import tables as t
from . import deadlines
from . import history as h
from .dispatch import activity_event_ids
from .errors import DomainError, ValidationFailed
from .runs import Tx, after_step_resolved, append, is_terminal_run, run_of
from .util import new_id, rfc3339, seconds

_at, _aa, _ae = t.activity_tasks, t.activity_attempts, t.activity_executions
_TASK_IN = sa.select(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"), _at.c.namespace == sa.bindparam("b_namespace")
)
_ATTEMPT_IN = sa.select(_aa).where(
    _aa.c.attempt_id == sa.bindparam("b_attempt_id"), _aa.c.namespace == sa.bindparam("b_namespace")
)
_EXECUTION = sa.select(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
_RUN_OF_TASK_IN = run_of(_at, "task_id", in_namespace=True)
_UPDATE_TASK = sa.update(_at).where(_at.c.task_id == sa.bindparam("b_task_id"))
_UPDATE_ATTEMPT = sa.update(_aa).where(_aa.c.attempt_id == sa.bindparam("b_attempt_id"))
_UPDATE_EXECUTION = sa.update(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
_INSERT_TASK = sa.insert(_at)


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
    if isinstance(result, Mapping) and set(result) == {"codec", "external_storage"}:
        raise ValidationFailed({"result": ["External payload references are not supported by this server."]})
    if isinstance(result, str):
        return execution_codec, result
    return execution_codec, payload_codec.encode(result)


async def fence(
    tx: Tx, namespace: str, task_id: str, attempt_id: str, lease_owner: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Ownership fence for complete / fail / heartbeat; returns ``(task, attempt, run)``, locked.

    The run is locked before the task (the engine's lock order, see ``runs.run_of``).
    """
    params = {"b_task_id": task_id, "b_namespace": namespace}
    run = await tx.one(tx.store.lock(_RUN_OF_TASK_IN), params)
    task = await tx.one(tx.store.lock(_TASK_IN), params)
    if task is None or run is None:
        raise DomainError(
            reasons.TASK_NOT_FOUND, f"Activity task [{task_id}] was not found.", task_id=task_id
        )
    attempt = await tx.one(_ATTEMPT_IN, {"b_attempt_id": attempt_id, "b_namespace": namespace})
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
    return task, attempt, run


def _is_current(task: Mapping[str, Any], attempt: Mapping[str, Any]) -> bool:
    return bool(
        attempt["status"] == "running"
        and task["status"] == h.WORKFLOW_TASK_LEASED
        and task["current_attempt_id"] == attempt["attempt_id"]
    )


def _stale(
    task: Mapping[str, Any], attempt: Mapping[str, Any], timeout_kind: str | None = None
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


def _check_current(task: Mapping[str, Any], attempt: Mapping[str, Any], now: Any) -> None:
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


async def _execution(tx: Tx, task: Mapping[str, Any]) -> dict[str, Any]:
    execution = await tx.one(_EXECUTION, {"b_execution_id": task["activity_execution_id"]})
    assert execution is not None
    return execution


async def _close_attempt(tx: Tx, task: Mapping[str, Any], attempt: Mapping[str, Any], status: str) -> None:
    await tx.conn.execute(
        _UPDATE_ATTEMPT, {"b_attempt_id": attempt["attempt_id"], "status": status, "closed_at": tx.now}
    )
    await tx.conn.execute(
        _UPDATE_TASK,
        {
            "b_task_id": task["task_id"],
            "status": h.TASK_COMPLETED if status == "completed" else h.TASK_FAILED,
            "lease_owner": None,
            "lease_expires_at": None,
            "timeout_at": None,
            "updated_at": tx.now,
        },
    )


async def schedule_retry(
    tx: Tx,
    run: dict[str, Any],
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
        _INSERT_TASK,
        {
            "task_id": next_task_id,
            "activity_execution_id": execution["activity_execution_id"],
            "run_id": run["run_id"],
            "namespace": run["namespace"],
            "task_queue": task["task_queue"],
            "activity_type": execution["activity_type"],
            "status": h.WORKFLOW_TASK_READY,
            "available_at": available_at,
            "created_at": tx.now,
            "updated_at": tx.now,
            **waiting,
        },
    )
    await tx.conn.execute(
        _UPDATE_EXECUTION,
        {
            "b_execution_id": execution["activity_execution_id"],
            "status": "pending",
            "current_attempt_id": None,
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


async def complete(
    tx: Tx, namespace: str, task_id: str, attempt_id: str, lease_owner: str, result: Any
) -> dict[str, Any]:
    task, attempt, run = await fence(tx, namespace, task_id, attempt_id, lease_owner)
    _check_current(task, attempt, tx.now)
    execution = await _execution(tx, task)
    codec, blob = normalize_result(result, execution["payload_codec"])
    if is_terminal_run(run):
        raise _stale(task, attempt)
    await _close_attempt(tx, task, attempt, "completed")
    await tx.conn.execute(
        _UPDATE_EXECUTION,
        {
            "b_execution_id": execution["activity_execution_id"],
            "status": "completed",
            "result_blob": blob,
            "closed_at": tx.now,
        },
    )
    payload = {
        **activity_event_ids(execution, attempt_id, attempt["attempt_number"]),
        "result": blob,
        "payload_codec": codec,
    }
    # after_step_resolved writes the run (wait kind and the progress append deferred).
    await append(tx, run, [(EventType.ACTIVITY_COMPLETED, payload)], write_run=False)
    await after_step_resolved(tx, run, execution["batch_id"])
    return {
        "task_id": task_id,
        "activity_attempt_id": attempt_id,
        "outcome": "completed",
        "recorded": True,
        "reason": None,
        "next_task_id": None,
    }


async def fail(
    tx: Tx, namespace: str, task_id: str, attempt_id: str, lease_owner: str, failure: Mapping[str, Any]
) -> dict[str, Any]:
    task, attempt, run = await fence(tx, namespace, task_id, attempt_id, lease_owner)
    _check_current(task, attempt, tx.now)
    execution = await _execution(tx, task)
    if is_terminal_run(run):
        raise _stale(task, attempt)
    number = int(attempt["attempt_number"])
    snapshot = execution["retry_policy"]
    retry, delay = retry_decision(snapshot, number, failure)
    await _close_attempt(tx, task, attempt, "failed")
    ids = activity_event_ids(execution, attempt_id, number)
    fields = h.failure_fields(failure, "activity")
    next_task_id = None
    if retry:
        next_task_id = await schedule_retry(tx, run, execution, task, delay=delay, event={**ids, **fields})
    else:
        await tx.conn.execute(
            _UPDATE_EXECUTION,
            {"b_execution_id": execution["activity_execution_id"], "status": "failed", "closed_at": tx.now},
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
) -> dict[str, Any]:
    task, attempt, run = await fence(tx, namespace, task_id, attempt_id, lease_owner)
    execution = await _execution(tx, task)
    body: dict[str, Any] = {
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
    if run["status"] in (RunStatus.CANCELLED, RunStatus.TERMINATED) or execution["status"] == "cancelled":
        reason = {RunStatus.CANCELLED: "run_cancelled", RunStatus.TERMINATED: "run_terminated"}.get(
            run["status"], "activity_cancelled"
        )
        return {**body, "cancel_requested": True, "can_continue": False, "reason": reason}
    if is_terminal_run(run):
        return {**body, "can_continue": False, "reason": "run_closed"}
    if not _is_current(task, attempt) or deadlines.fired(task, tx.now) is not None:
        # Too late: a heartbeat cannot revive an attempt whose deadline has passed.
        return {**body, "can_continue": False, "reason": "stale_attempt"}
    lease_expires_at = deadlines.lease_until(tx.now + seconds(lease_seconds), task)
    renewed = deadlines.heartbeat(execution["retry_policy"], task, tx.now)
    clean = {
        k: progress.get(k)
        for k in ("message", "current", "total", "unit", "details")
        if progress.get(k) is not None
    }
    await tx.conn.execute(
        _UPDATE_TASK,
        {"b_task_id": task_id, "lease_expires_at": lease_expires_at, "updated_at": tx.now, **renewed},
    )
    await tx.conn.execute(
        _UPDATE_ATTEMPT, {"b_attempt_id": attempt_id, "last_heartbeat_at": tx.now, "progress": clean or None}
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
