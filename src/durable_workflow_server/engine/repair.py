"""Repair: re-dispatch the lost work of a run's current run (see docs/protocol.md).

A run is healthy when it has a claimable or leased workflow task, or something it waits on that
will wake it by itself (an open activity, a pending timer, an open child, an open condition
wait). Repair looks, under the run lock, for the ways that can fail and fixes the first found:

* ``workflow_task_lease_expired``: a leased task whose lease ran out and that the sweep has not
  requeued yet → back to ``ready`` (the old holder is fenced by the next attempt); when a
  held-back ready task sits beside it, that one is the run's next task: the lease retires and
  the ready task is made claimable now (and named in ``task_id``);
* ``workflow_task_delayed``: the only ready task is held back (the backoff after a failed task)
  → made claimable now;
* ``workflow_task_failed``: the run's latest workflow task failed and nothing replaced it;
* ``workflow_task_missing``: no workflow task at all and nothing that would wake the run
  (e.g. it was lost to a crash, or received signals/updates wait for a task that never came).

Each records ``RepairRequested`` (outcome, liveness_state, wait_kind, task_id, task_type) and
answers ``repair_dispatched``. Otherwise the answer is ``repair_not_needed`` and nothing is
written. A paused run is never repaired: holding its tasks back is the pause. A run with a task claimable
now is healthy, even beside an expired lease (the sweep retires that one).
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from durable_workflow.protocol.history import EventType

from ..store import tables as t
from ..store.rows import RunRow, WorkflowTaskRow
from ..store.statuses import WorkflowTaskStatus as S
from .activities import rows as activity_rows
from .children import rows as child_rows
from .conditions import rows as condition_rows
from .history.rows import append
from .runs.rows import progress, update_run
from .targets import RepairResultBody, Target, command_result, requested_event
from .timers import rows as timer_rows
from .transaction import Tx
from .util import new_id
from .workflow_tasks import rows as workflow_task_rows
from .workflow_tasks.leases import requeue_workflow_task
from .workflow_tasks.rows import ensure_workflow_task

_wt = t.workflow_tasks
# The open workflow task statuses: a run with a task in one of these has a task (or is paused).
OPEN_TASK_STATUSES = (S.READY, S.LEASED, S.PAUSED)

# The run's open workflow tasks (a run rarely has more than one or two).
_OPEN_TASKS = sa.select(_wt).where(
    _wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status.in_(OPEN_TASK_STATUSES)
)
# The status of the run's latest workflow task (asked only when none is open).
_LATEST_STATUS = (
    sa.select(_wt.c.status)
    .where(_wt.c.run_id == sa.bindparam("b_run_id"))
    .order_by(_wt.c.created_at.desc(), _wt.c.task_id.desc())
    .limit(1)
)


def waker_of(run_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """Does anything ``run_id`` waits on wake it by itself (an open activity, a pending timer, an
    open condition wait, an open child)? Also used correlated, by the system repair pass's scan."""
    return sa.or_(
        sa.exists().where(activity_rows.open_executions_of(run_id)),
        sa.exists().where(timer_rows.pending_of(run_id)),
        sa.exists().where(condition_rows.open_of(run_id)),
        sa.exists().where(child_rows.open_of(run_id)),
    )


# One round trip, one boolean.
_RUN: sa.BindParameter[str] = sa.bindparam("b_run_id")
_WAKER = sa.select(waker_of(_RUN))


async def _has_waker(tx: Tx, run_id: str) -> bool:
    return bool((await tx.conn.execute(_WAKER, {"b_run_id": run_id})).scalar())


async def diagnose(
    tx: Tx, run: RunRow
) -> tuple[str, str | None, WorkflowTaskRow | None, WorkflowTaskRow | None] | None:
    """``(liveness_state, wait_kind, expired lease to requeue, ready task to hasten)`` of lost
    work, or ``None`` when the run is healthy (the debug view reads it too, writing nothing)."""
    params = {"b_run_id": run["run_id"]}
    tasks = cast(list[WorkflowTaskRow], await tx.all(_OPEN_TASKS, params))
    leased = [task for task in tasks if task["status"] == S.LEASED]
    ready = [task for task in tasks if task["status"] == S.READY]
    if any(task["available_at"] is None or task["available_at"] <= tx.now for task in ready):
        # A task is claimable now: healthy, even beside an expired lease (the sweep retires that
        # one; requeueing it here would only retire it and name a task that never runs).
        return None
    expired = [
        task for task in leased if task["lease_expires_at"] is not None and task["lease_expires_at"] <= tx.now
    ]
    # A held-back ready task is the run's next one: with an expired lease beside it, the lease
    # is retired (one ready task per run) and that task made claimable now.
    if expired:
        return "workflow_task_lease_expired", "workflow_task", expired[0], ready[0] if ready else None
    if leased or any(task["status"] == S.PAUSED for task in tasks):
        return None
    if ready:
        return "workflow_task_delayed", "workflow_task", None, ready[0]
    if (await tx.conn.execute(_LATEST_STATUS, params)).scalar() == S.FAILED:
        return "workflow_task_failed", run["wait_kind"], None, None
    if await _has_waker(tx, run["run_id"]):
        return None
    return "workflow_task_missing", run["wait_kind"], None, None


async def repair(tx: Tx, target: Target, *, request_id: str | None) -> RepairResultBody:
    """Repair the locked open run of ``target``; returns the command result."""
    run = target.run
    diagnosis = None if run["paused_at"] is not None else await diagnose(tx, run)
    if diagnosis is None:
        # Nothing dispatched: the plain command result, no liveness_state or task_id.
        not_needed = command_result(
            target, outcome="repair_not_needed", command_id=new_id(), command_sequence=None
        )
        return cast(RepairResultBody, not_needed)
    liveness, wait_kind, expired, held_back = diagnosis
    task_id: str | None
    if expired is not None:
        await requeue_workflow_task(tx, expired, "repair: workflow task lease expired")
        task_id = expired["task_id"]
    if held_back is not None:
        await tx.conn.execute(
            workflow_task_rows.UPDATE,
            {"b_task_id": held_back["task_id"], "available_at": tx.now, "updated_at": tx.now},
        )
        tx.wakes.add(("workflow", held_back["namespace"], held_back["task_queue"]))
        task_id = held_back["task_id"]  # the task that will run, not a retired lease
    if expired is None and held_back is None:
        task_id = await ensure_workflow_task(tx, run)
    command_id = new_id()
    payload = requested_event(
        run,
        command_id,
        "repair",
        request_id,
        outcome="repair_dispatched",
        liveness_state=liveness,
        wait_kind=wait_kind,
        task_id=task_id,
        task_type="workflow",
    )
    written = await append(tx, run, [(EventType.REPAIR_REQUESTED, payload)], write_run=False)
    await update_run(tx, run, **progress(run))
    dispatched = command_result(
        target,
        outcome="repair_dispatched",
        command_id=command_id,
        command_sequence=int(written[0]["sequence"]),
    )
    return {**dispatched, "liveness_state": liveness, "task_id": task_id}
