"""Worker registry: register, heartbeat, and the fleet summary (see docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from durable_workflow.protocol import errors as reasons

from ...store.rows import WorkerRow
from ...store.statuses import WorkerStatus, WorkflowTaskStatus
from ..api import RegisterWorkerRequest
from ..errors import DomainError
from ..shapes import RegisterWorkerResponse, WorkerFleet, WorkerHeartbeatResponse
from ..task_queues import cohorts
from ..transaction import Tx
from ..util import new_upper_id, rfc3339, seconds
from . import rows
from .liveness import stale_before


def is_fresh(worker: WorkerRow, now: datetime, stale_after: float) -> bool:
    return bool(worker["last_heartbeat_at"] + seconds(stale_after) > now)


async def register(
    tx: Tx, namespace: str, req: RegisterWorkerRequest, stale_after: float, interval: int
) -> RegisterWorkerResponse:
    worker_id = req.worker_id or new_upper_id()
    key = {"b_namespace": namespace, "b_worker_id": worker_id}
    existing = cast(WorkerRow | None, await tx.one(tx.store.lock(rows.WORKER), key))
    fingerprints = dict(req.workflow_definition_fingerprints or {})
    if existing is not None:
        stored = dict(existing["workflow_definition_fingerprints"] or {})
        live = existing["status"] in (WorkerStatus.ACTIVE, WorkerStatus.DRAINING)
        if live and is_fresh(existing, tx.now, stale_after):
            for wf_type, fingerprint in fingerprints.items():
                if wf_type in stored and stored[wf_type] != fingerprint:
                    raise DomainError(
                        reasons.WORKFLOW_DEFINITION_CHANGED,
                        f"Worker [{worker_id}] re-registered [{wf_type}] with a different definition.",
                        worker_id=worker_id,
                        workflow_type=wf_type,
                        remediation="Use a new worker_id, or wait until the old registration goes stale.",
                    )
        # Fingerprints of still-advertised types that the new registration omits are kept.
        for wf_type in req.supported_workflow_types:
            if wf_type not in fingerprints and wf_type in stored:
                fingerprints[wf_type] = stored[wf_type]
    values = {
        "task_queue": req.task_queue,
        "runtime": req.runtime,
        "sdk_version": req.sdk_version,
        "build_id": req.build_id,
        "supported_workflow_types": list(req.supported_workflow_types),
        "supported_activity_types": list(req.supported_activity_types),
        "workflow_definition_fingerprints": fingerprints,
        "max_concurrent_workflow_tasks": req.max_concurrent_workflow_tasks or 100,
        "max_concurrent_activity_tasks": req.max_concurrent_activity_tasks or 100,
        "capabilities": list(req.capabilities),
        "task_slots": req.task_slots,
        "process_metrics": req.process_metrics,
        # A worker of a drained cohort lands draining (issue 8: task queues and build ids).
        "status": await cohorts.registration_status(tx, namespace, req.task_queue, req.build_id),
        "last_heartbeat_at": tx.now,
    }
    if existing is None:
        await tx.conn.execute(
            rows.INSERT, {"namespace": namespace, "worker_id": worker_id, "registered_at": tx.now, **values}
        )
    else:
        await tx.conn.execute(rows.UPDATE, {**key, **values})
    return {
        "worker_id": worker_id,
        "registered": True,
        # ``Settings.worker_heartbeat_interval_seconds``: a third of the shorter of the stale and
        # liveness windows. Both SDKs adopt it (default 60 s otherwise); with a cadence as long
        # as a window, a live worker would look stale (or dead) before each heartbeat.
        "heartbeat_interval_seconds": interval,
        "stale_after_seconds": max(1, int(stale_after)),
    }


async def heartbeat(
    tx: Tx,
    namespace: str,
    worker_id: str,
    task_slots: dict[str, Any] | None,
    process_metrics: dict[str, Any] | None,
    interval: int,
) -> WorkerHeartbeatResponse:
    values: dict[str, Any] = {"last_heartbeat_at": tx.now}
    if task_slots is not None:
        values["task_slots"] = task_slots
    if process_metrics is not None:
        values["process_metrics"] = process_metrics
    result = await tx.conn.execute(
        rows.UPDATE, {"b_namespace": namespace, "b_worker_id": worker_id, **values}
    )
    if result.rowcount != 1:
        raise DomainError(
            reasons.WORKER_NOT_REGISTERED, f"Worker [{worker_id}] is not registered.", worker_id=worker_id
        )
    return {
        "worker_id": worker_id,
        "acknowledged": True,
        "heartbeat_interval_seconds": interval,
    }


async def registered_worker(
    tx: Tx, namespace: str, worker_id: str, task_queue: str, build_id: str | None
) -> WorkerRow:
    """The registration a poll must match (registered, same queue, same build id)."""
    worker = cast(
        WorkerRow | None, await tx.one(rows.WORKER, {"b_namespace": namespace, "b_worker_id": worker_id})
    )
    return _matching(worker, worker_id, task_queue, build_id)


async def registered_worker_and_poll(
    tx: Tx,
    namespace: str,
    worker_id: str,
    task_queue: str,
    build_id: str | None,
    poll_request_id: str,
    *,
    held_task_ids: Collection[str] = (),
    grace: float | None = None,
) -> tuple[WorkerRow, tuple[str, int] | None, bool]:
    """:func:`registered_worker`, ``(task id, attempt)`` of the lease an earlier try of the poll
    ``poll_request_id`` got while it holds (``None``: no such try, or its lease is over), and
    whether the worker holds a workflow-task lease the re-poll hand-back would hand back (one not
    in ``held_task_ids`` and not fresh for ``grace``, see ``liveness.fresh_lease``), in one read."""
    params = {
        "b_namespace": namespace,
        "b_worker_id": worker_id,
        "b_poll_request_id": poll_request_id,
        "b_held_task_ids": sorted(held_task_ids),
        "b_stale_before": stale_before(tx.now, grace),
    }
    found = await tx.all(rows.WORKER_AND_POLL, params)  # one row per task the id is on (or one)
    worker: dict[str, Any] | None = None
    cached = None
    holds_leases = False
    for row in found:
        polled = {
            key[len(rows.POLL_PREFIX) :]: row.pop(key)
            for key in list(row)
            if key.startswith(rows.POLL_PREFIX)
        }
        holds_leases = bool(row.pop("holds_leases"))
        worker = row
        if cached is None and poll_lease_holds(polled, tx.now):
            cached = (str(polled["task_id"]), int(polled["attempt_count"]))
    return _matching(cast(WorkerRow | None, worker), worker_id, task_queue, build_id), cached, holds_leases


def poll_lease_holds(polled: dict[str, Any], now: datetime) -> bool:
    """Whether a task the poll's id is on still holds the lease that poll got, in its retry window."""
    lease_expires_at, poll_expires_at = polled["lease_expires_at"], polled["poll_expires_at"]
    return (
        polled["task_id"] is not None
        and polled["status"] == WorkflowTaskStatus.LEASED
        and lease_expires_at is not None
        and lease_expires_at > now
        and poll_expires_at is not None
        and poll_expires_at > now
    )


def _matching(worker: WorkerRow | None, worker_id: str, task_queue: str, build_id: str | None) -> WorkerRow:
    if worker is None:
        raise DomainError(
            reasons.WORKER_NOT_REGISTERED,
            f"Worker [{worker_id}] must register before polling.",
            worker_id=worker_id,
            remediation="POST /api/worker/register first.",
        )
    if worker["task_queue"] != task_queue:
        raise DomainError(
            reasons.TASK_QUEUE_MISMATCH,
            f"Worker [{worker_id}] is registered on task queue [{worker['task_queue']}], not [{task_queue}].",
            worker_id=worker_id,
            registered_task_queue=worker["task_queue"],
            requested_task_queue=task_queue,
        )
    if build_id and worker["build_id"] and build_id != worker["build_id"]:
        raise DomainError(
            reasons.BUILD_ID_MISMATCH,
            f"Worker [{worker_id}] is registered with build id [{worker['build_id']}].",
            worker_id=worker_id,
            registered_build_id=worker["build_id"],
            requested_build_id=build_id,
        )
    return worker


async def live_registration(tx: Tx, namespace: str, worker_id: str, window: float) -> WorkerRow | None:
    """``worker_id``'s registration if it was heard from within ``window`` seconds, else ``None``.

    What an eager hand-out asks of the worker it leases to (see docs/protocol.md, "Fewer round
    trips"): registered, so liveness can release what it holds should it die, and alive now.
    """
    worker = cast(
        WorkerRow | None, await tx.one(rows.WORKER, {"b_namespace": namespace, "b_worker_id": worker_id})
    )
    if worker is None or not is_fresh(worker, tx.now, window):
        return None
    return worker


async def eager_registration(
    tx: Tx, namespace: str, worker_id: str, window: float
) -> tuple[WorkerRow | None, bool | None]:
    """:func:`live_registration`, and whether the worker's cohort is drained (``None``: not known).

    An eager hand-out that leases a task in the statement creating it reads the drain here,
    where a claim's candidate query would (``task_queues.rows.CLAIMER_NOT_DRAINED``). A fence
    that read the registration with its task (``tx.eager_workers``) saves the read here.
    """
    key = (namespace, worker_id)
    if key in tx.eager_workers:
        found = tx.eager_workers.pop(key)  # read with the completion's fence
    else:
        found = await tx.one(rows.EAGER_WORKER, {"b_namespace": namespace, "b_worker_id": worker_id})
    if found is None:
        return None, None
    row = dict(found)
    draining = bool(row.pop("cohort_draining"))
    worker = cast(WorkerRow, row)
    if not is_fresh(worker, tx.now, window):
        return None, None
    build_id = worker["build_id"]
    if build_id is not None and not build_id.strip() and build_id.strip(" "):
        return worker, None  # blank to Python, not to SQL's trim: the drain read is not this cohort's
    return worker, draining


def fleet(namespace: str, workers: list[WorkerRow], now: datetime, stale_after: float) -> WorkerFleet:
    live = [w for w in workers if w["status"] == WorkerStatus.ACTIVE and is_fresh(w, now, stale_after)]
    queues = sorted({w["task_queue"] for w in live})
    build_ids = sorted({w["build_id"] for w in live if w["build_id"]})
    return {
        "namespace": namespace,
        "active_workers": len(live),
        "active_worker_scopes": len({(w["task_queue"], w["build_id"]) for w in live}),
        "queues": queues,
        "build_ids": build_ids,
        "workers": [
            {
                "worker_id": w["worker_id"],
                "queues": [w["task_queue"]],
                "build_ids": [w["build_id"]] if w["build_id"] else [],
                "recorded_at": rfc3339(w["last_heartbeat_at"]),
                "expires_at": rfc3339(w["last_heartbeat_at"] + seconds(stale_after)),
            }
            for w in live
        ],
    }


async def has_capability(tx: Tx, namespace: str, worker_id: str | None, capability: str) -> bool:
    """Whether worker ``worker_id`` registered ``capability`` (an unknown worker has none)."""
    if worker_id is None:
        return False
    row = await tx.one(rows.WORKER, {"b_namespace": namespace, "b_worker_id": worker_id})
    return row is not None and capability in (row.get("capabilities") or [])
