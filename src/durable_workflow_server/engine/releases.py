"""Handing leases back: a leased task goes back to ``ready`` without waiting for its lease to run out.

Used when the poller that leased a task can never receive it (it hung up as the poll answered,
or the poll was cancelled mid-claim), and, for workflow tasks, when a lease expires. Every
release is fenced on the exact lease handed out (owner and attempt), so a release that arrives
late can never take a task back from the worker that holds it now. The next claim is a new
attempt (workflow tasks: ``workflow_task_attempt + 1``; activities: a new attempt id), which
fences out anything the vanished holder might still send.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..store import tables as t
from . import deadlines
from . import history as h
from .runs import Tx

_wt, _at, _aa = t.workflow_tasks, t.activity_tasks, t.activity_attempts
_WORKFLOW_TASK = sa.select(_wt).where(
    _wt.c.task_id == sa.bindparam("b_task_id"), _wt.c.namespace == sa.bindparam("b_namespace")
)
_READY_OF_RUN = sa.select(_wt.c.task_id).where(
    _wt.c.run_id == sa.bindparam("b_run_id"),
    _wt.c.status == h.WORKFLOW_TASK_READY,
    _wt.c.task_id != sa.bindparam("b_task_id"),
)
_REQUEUE_WORKFLOW_TASK = (
    sa.update(_wt)
    .where(
        _wt.c.task_id == sa.bindparam("b_task_id"),
        _wt.c.status == h.WORKFLOW_TASK_LEASED,
        _wt.c.attempt_count == sa.bindparam("b_attempt_count"),
        _wt.c.lease_owner == sa.bindparam("b_lease_owner"),
    )
    .values(
        status=sa.bindparam("b_new_status"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=sa.bindparam("b_now"),
        last_error=sa.bindparam("b_reason"),
    )
)
_ACTIVITY_TASK = sa.select(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"), _at.c.namespace == sa.bindparam("b_namespace")
)
_RELEASE_ACTIVITY_TASK = sa.update(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"),
    _at.c.status == h.WORKFLOW_TASK_LEASED,
    _at.c.lease_owner == sa.bindparam("b_lease_owner"),
    _at.c.current_attempt_id == sa.bindparam("b_attempt_id"),
)
_EXPIRE_ATTEMPT = (
    sa.update(_aa)
    .where(_aa.c.attempt_id == sa.bindparam("b_attempt_id"), _aa.c.status == "running")
    .values(status="expired", closed_at=sa.bindparam("b_now"))
)


async def requeue_workflow_task(tx: Tx, task: dict[str, Any], reason: str) -> bool:
    """Put the leased workflow ``task`` (as read) back to ``ready``; ``False`` if its lease changed.

    One ready task per run is enough: if the run already has another, this one retires instead
    (the run still gets its next task at once).
    """
    other = await tx.one(_READY_OF_RUN, {"b_run_id": task["run_id"], "b_task_id": task["task_id"]})
    result = await tx.conn.execute(
        _REQUEUE_WORKFLOW_TASK,
        {
            "b_task_id": task["task_id"],
            "b_attempt_count": task["attempt_count"],
            "b_lease_owner": task["lease_owner"],
            "b_new_status": h.TASK_FAILED if other is not None else h.WORKFLOW_TASK_READY,
            "b_now": tx.now,
            "b_reason": reason,
        },
    )
    if result.rowcount != 1:
        return False
    tx.wakes.add(("workflow", task["namespace"], task["task_queue"]))
    return True


async def release_workflow_task(
    tx: Tx, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
) -> bool:
    """Release the lease ``(lease_owner, workflow_task_attempt)`` on ``task_id`` if it still holds."""
    task = await tx.one(tx.store.lock(_WORKFLOW_TASK), {"b_task_id": task_id, "b_namespace": namespace})
    if (
        task is None
        or task["status"] != h.WORKFLOW_TASK_LEASED
        or task["lease_owner"] != lease_owner
        or int(task["attempt_count"]) != int(workflow_task_attempt)
    ):
        return False
    return await requeue_workflow_task(tx, task, "released: the poller hung up before receiving the task")


async def release_activity_task(
    tx: Tx, namespace: str, task_id: str, *, activity_attempt_id: str, lease_owner: str
) -> bool:
    """Release the lease of attempt ``activity_attempt_id`` on ``task_id`` if it is still current.

    The attempt closes as ``expired`` (it never ran); the task waits again under its original
    schedule-to-start / schedule-to-close deadlines.
    """
    task = await tx.one(tx.store.lock(_ACTIVITY_TASK), {"b_task_id": task_id, "b_namespace": namespace})
    if task is None:
        return False
    result = await tx.conn.execute(
        _RELEASE_ACTIVITY_TASK,
        {
            "b_task_id": task_id,
            "b_lease_owner": lease_owner,
            "b_attempt_id": activity_attempt_id,
            "status": h.WORKFLOW_TASK_READY,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": tx.now,
            **deadlines.released(task),
        },
    )
    if result.rowcount != 1:
        return False
    await tx.conn.execute(_EXPIRE_ATTEMPT, {"b_attempt_id": activity_attempt_id, "b_now": tx.now})
    tx.wakes.add(("activity", namespace, task["task_queue"]))
    tx.due(deadlines.released(task)["timeout_at"])
    return True
