"""Activity-task leases: handing a lease back unseen, and recovering leases whose worker is gone.

A release is fenced on the exact attempt and owner handed out; the attempt closes as
``expired`` (it never ran) and the next claim is a new attempt, which fences out anything the
vanished holder might still send.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import cast

from ...store.rows import ActivityTaskRow
from ...store.statuses import ActivityTaskStatus
from ..transaction import OpenTx, Tx
from ..workers.liveness import fresh_lease, silent_leases
from . import deadlines, rows

BATCH = 100


async def release_activity_task(
    tx: Tx, namespace: str, task_id: str, *, activity_attempt_id: str, lease_owner: str
) -> bool:
    """Release the lease of attempt ``activity_attempt_id`` on ``task_id`` if it is still current.

    The attempt closes as ``expired`` (it never ran); the task waits again under its original
    schedule-to-start / schedule-to-close deadlines.
    """
    task = cast(
        ActivityTaskRow | None,
        await tx.one(tx.store.lock(rows.TASK_IN), {"b_task_id": task_id, "b_namespace": namespace}),
    )
    if task is None:
        return False
    result = await tx.conn.execute(
        rows.RELEASE_TASK,
        {
            "b_task_id": task_id,
            "b_lease_owner": lease_owner,
            "b_attempt_id": activity_attempt_id,
            "status": ActivityTaskStatus.READY,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": tx.now,
            **deadlines.released(task),
        },
    )
    if result.rowcount != 1:
        return False
    await rows.expire_attempt(tx, activity_attempt_id)
    tx.wakes.add(("activity", namespace, task["task_queue"]))
    tx.due(deadlines.released(task)["timeout_at"])
    return True


async def requeue_lost(tx: Tx, task: ActivityTaskRow) -> None:
    """End the leased ``task``'s attempt as ``expired`` (its worker is gone) and re-ready it.

    The locked ``task`` is redelivered like a retry that costs nothing: its schedule-to-start
    deadline restarts now, schedule-to-close still bounds it, and the expired attempt does not
    count against max_attempts (``rows.counted_attempts``).
    """
    snapshot = (
        await tx.conn.execute(rows.RETRY_POLICY, {"b_execution_id": task["activity_execution_id"]})
    ).scalar()
    waiting = deadlines.waiting(snapshot, available_at=tx.now, schedule_to_close_at=task[deadlines.S2C])
    await tx.conn.execute(
        rows.REQUEUE_EXPIRED_TASK,
        {
            "b_task_id": task["task_id"],
            "status": ActivityTaskStatus.READY,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": tx.now,
            **waiting,
        },
    )
    tx.due(waiting["timeout_at"])
    if task["current_attempt_id"]:
        await rows.expire_attempt(tx, task["current_attempt_id"])
    tx.wakes.add(("activity", task["namespace"], task["task_queue"]))


def _worker_gone(task: ActivityTaskRow, now: datetime) -> bool:
    """Whether a lost lease may end ``task``'s attempt now (no deadline decision is due).

    A task with a fired deadline is left to the timeout pass, which applies the worker-death
    rule itself (schedule-to-close always fails; start-to-close / heartbeat depend on liveness).
    """
    return deadlines.fired(task, now) is None


async def expire_leases(open_tx: OpenTx) -> int:
    """Close attempts whose lease ran out as ``expired`` and re-ready their tasks."""
    async for txn in open_tx():
        async with txn as tx:
            expired = cast(
                list[ActivityTaskRow],
                await tx.all(tx.store.claim(rows.EXPIRED_LEASES), {"b_now": tx.now, "b_limit": BATCH}),
            )
            expired = [task for task in expired if _worker_gone(task, tx.now)]  # timeouts decide first
            for task in expired:
                await requeue_lost(tx, task)
            return len(expired)
    raise AssertionError("unreachable: every attempt returns or raises")


async def release_silent(open_tx: OpenTx, liveness: float, observed_since: datetime | None = None) -> int:
    """Worker liveness: release the leases of registered workers silent for ``liveness`` seconds.

    One bounded batch per pass; the loop's next pass takes the rest (``silence_cutoff`` says
    who is silent, and why nothing is released right after this process could not see the
    database).
    """
    async for txn in open_tx():
        async with txn as tx:
            found = await silent_leases(tx, rows.SILENT_LEASES, liveness, observed_since, BATCH)
            silent = cast(list[ActivityTaskRow], found)
            silent = [task for task in silent if _worker_gone(task, tx.now)]
            for task in silent:
                await requeue_lost(tx, task)
            return len(silent)
    raise AssertionError("unreachable: every attempt returns or raises")


async def hand_back(
    tx: Tx, namespace: str, worker_id: str, keep: Collection[str], grace: float | None = None
) -> int:
    """Release every activity lease of ``worker_id`` except the tasks in ``keep``.

    The re-poll hand-back (``held_task_ids``) and the stop notice (``keep`` empty) come here.
    ``grace``: leases granted or renewed less than that many seconds ago are kept too (see
    ``workers.liveness.fresh_lease``).
    """
    params = {"b_namespace": namespace, "b_worker_id": worker_id}
    leased = cast(list[ActivityTaskRow], await tx.all(tx.store.claim(rows.LEASES_OF_WORKER), params))
    # The worker says it does not run these: even past a start-to-close or heartbeat deadline
    # the attempt is lost, not timed out. Only schedule-to-close is left to the timeout pass.
    gone = [
        task
        for task in leased
        if task["task_id"] not in keep
        and not fresh_lease(task, tx.now, grace)
        and deadlines.fired(task, tx.now) != deadlines.SCHEDULE_TO_CLOSE
    ]
    for task in gone:
        await requeue_lost(tx, task)
    return len(gone)
