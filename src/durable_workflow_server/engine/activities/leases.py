"""Activity-task leases: handing a lease back unseen, and recovering leases that ran out.

A release is fenced on the exact attempt and owner handed out; the attempt closes as
``expired`` (it never ran) and the next claim is a new attempt, which fences out anything the
vanished holder might still send.
"""

from __future__ import annotations

from typing import cast

from ...store.rows import ActivityTaskRow
from ...store.statuses import ActivityTaskStatus
from ..transaction import OpenTx, Tx
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


async def expire_leases(open_tx: OpenTx) -> int:
    """Close attempts whose lease ran out as ``expired`` and re-ready their tasks.

    A re-readied task waits again like a retry: its schedule-to-start deadline restarts now.
    """
    async for txn in open_tx():
        async with txn as tx:
            expired = cast(
                list[ActivityTaskRow],
                await tx.all(tx.store.claim(rows.EXPIRED_LEASES), {"b_now": tx.now, "b_limit": BATCH}),
            )
            expired = [task for task in expired if deadlines.fired(task, tx.now) is None]  # timeouts win
            for task in expired:
                snapshot = (
                    await tx.conn.execute(
                        rows.RETRY_POLICY, {"b_execution_id": task["activity_execution_id"]}
                    )
                ).scalar()
                waiting = deadlines.waiting(
                    snapshot, available_at=tx.now, schedule_to_close_at=task[deadlines.S2C]
                )
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
            return len(expired)
    raise AssertionError("unreachable: every attempt returns or raises")
