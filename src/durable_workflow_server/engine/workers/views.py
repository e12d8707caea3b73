"""The operator's view of the worker registry: list, describe, deregister, and pruning old rows.

``status`` is what the registry stores (``active``, or ``draining`` while the worker's build-id
cohort is drained) unless the last heartbeat is older than the stale window, in which case it is
``stale``. The ``status`` filter of ``GET /workers`` matches that *reported* status, so
``status=stale`` lists exactly the workers shown as stale (the reference server filters on the
stored value, where ``stale`` finds nothing).

Deregistering deletes the registration; a second call finds nothing and answers
``already_absent`` (200 too: the product documents the call as idempotent, where the reference
server answers 404). Leases the worker holds are untouched: completions and heartbeats are
fenced on the lease owner and attempt, not on the registration, so its in-flight tasks finish.
A worker still running re-registers on its next poll or heartbeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from durable_workflow.protocol import errors as reasons

from ...store import Store
from ...store import tables as t
from ...store.rows import WorkerRow
from ...store.statuses import WorkerStatus
from ..errors import DomainError
from ..task_queues import rows as queue_rows
from ..task_queues.shapes import WorkerBody, WorkerDeregisteredBody, WorkerDescriptionBody, WorkerListBody
from ..transaction import OpenTx, Tx
from ..util import rfc3339, seconds
from . import rows
from .registry import is_fresh

_wk = t.workers
STALE = "stale"
REPORTED_STATUSES = (WorkerStatus.ACTIVE.value, WorkerStatus.DRAINING.value, STALE)


def _item(worker: WorkerRow, now: datetime, stale_after: float) -> WorkerBody:
    stale = not is_fresh(worker, now, stale_after)
    return {
        "worker_id": worker["worker_id"],
        "namespace": worker["namespace"],
        "task_queue": worker["task_queue"],
        "runtime": worker["runtime"],
        "sdk_version": worker["sdk_version"],
        "build_id": worker["build_id"],
        "supported_workflow_types": list(worker["supported_workflow_types"] or []),
        "workflow_definition_fingerprints": dict(worker["workflow_definition_fingerprints"] or {}),
        "supported_activity_types": list(worker["supported_activity_types"] or []),
        "max_concurrent_workflow_tasks": worker["max_concurrent_workflow_tasks"],
        "max_concurrent_activity_tasks": worker["max_concurrent_activity_tasks"],
        "status": STALE if stale else worker["status"],
        "is_stale": stale,
        "last_heartbeat_at": rfc3339(worker["last_heartbeat_at"]),
        "heartbeat_expires_at": rfc3339(worker["last_heartbeat_at"] + seconds(stale_after)),
        "registered_at": rfc3339(worker["registered_at"]),
    }


def _list_statement(task_queue: str | None, status: str | None) -> sa.Select[Any]:
    stmt = sa.select(_wk).where(_wk.c.namespace == sa.bindparam("b_namespace"))
    if task_queue is not None:
        stmt = stmt.where(_wk.c.task_queue == sa.bindparam("b_queue"))
    fresh = _wk.c.last_heartbeat_at > sa.bindparam("b_stale_before")
    if status == STALE:
        stmt = stmt.where(sa.not_(fresh))
    elif status is not None:
        stmt = stmt.where(_wk.c.status == sa.bindparam("b_status"), fresh)
    return stmt.order_by(_wk.c.last_heartbeat_at.desc(), _wk.c.worker_id)


async def list_workers(
    tx: Tx, namespace: str, *, task_queue: str | None, status: str | None, stale_after: float
) -> WorkerListBody:
    params = {
        "b_namespace": namespace,
        "b_queue": task_queue,
        "b_status": status,
        "b_stale_before": tx.now - seconds(stale_after),
    }
    found = cast(list[WorkerRow], await tx.all(_list_statement(task_queue, status), params))
    return {
        "namespace": namespace,
        "stale_after_seconds": max(1, int(stale_after)),
        "workers": [_item(w, tx.now, stale_after) for w in found],
    }


async def describe_worker(
    tx: Tx, namespace: str, worker_id: str, stale_after: float, interval: int
) -> WorkerDescriptionBody:
    worker = cast(
        WorkerRow | None, await tx.one(rows.WORKER, {"b_namespace": namespace, "b_worker_id": worker_id})
    )
    if worker is None:
        raise DomainError(
            reasons.WORKER_NOT_FOUND, f"Worker [{worker_id}] is not registered.", worker_id=worker_id
        )
    params = {
        "b_namespace": namespace,
        "b_queue": worker["task_queue"],
        "b_worker_id": worker_id,
        "b_now": tx.now,
    }
    workflow_leases = int((await tx.conn.execute(queue_rows.WORKER_WORKFLOW_LEASES, params)).scalar() or 0)
    activity_leases = int((await tx.conn.execute(queue_rows.WORKER_ACTIVITY_LEASES, params)).scalar() or 0)
    wf_max, act_max = worker["max_concurrent_workflow_tasks"], worker["max_concurrent_activity_tasks"]
    return {
        **_item(worker, tx.now, stale_after),
        # The registry has no separate change time: every write to a row is a registration or a
        # heartbeat, which both set last_heartbeat_at.
        "updated_at": rfc3339(worker["last_heartbeat_at"]),
        "capabilities": list(worker["capabilities"] or []),
        "task_slots": worker["task_slots"],
        "process_metrics": worker["process_metrics"],
        "heartbeat_interval_seconds": interval,
        "stale_after_seconds": max(1, int(stale_after)),
        "admission": {
            "workflow_tasks": {
                "max_concurrent": wf_max,
                "leased_count": workflow_leases,
                "available_slot_count": max(0, wf_max - workflow_leases),
            },
            "activity_tasks": {
                "max_concurrent": act_max,
                "leased_count": activity_leases,
                "available_slot_count": max(0, act_max - activity_leases),
            },
        },
    }


async def deregister_worker(tx: Tx, namespace: str, worker_id: str) -> WorkerDeregisteredBody:
    result = await tx.conn.execute(rows.DELETE, {"b_namespace": namespace, "b_worker_id": worker_id})
    return {"worker_id": worker_id, "outcome": "deregistered" if result.rowcount == 1 else "already_absent"}


async def prune_stale(open_tx: OpenTx, store: Store, now: datetime, prune_after: float) -> int:
    """Delete registrations not heard from for ``prune_after`` seconds (one loop pass).

    A read probe over ``ix_workers_heartbeat`` first, so the common pass (nothing that old)
    opens no write transaction at all.
    """
    before = {"b_before": now - seconds(prune_after)}
    async with store.read() as conn:
        if (await conn.execute(rows.LONG_STALE, before)).first() is None:
            return 0
    async for txn in open_tx():
        async with txn as tx:
            result = await tx.conn.execute(rows.PRUNE, before)
            return int(result.rowcount or 0)
    raise AssertionError("unreachable: every attempt returns or raises")
