"""Run-level write helpers used inside one ``Store.write()`` transaction.

A :class:`Tx` bundles the connection, the transaction's logical ``now`` and the wake-ups to send
once the transaction has committed (pollers must never be woken for rows they cannot see yet).

The statements of these hot paths are built once at import time with bound parameters, so
SQLAlchemy compiles each of them once per process instead of rebuilding and re-hashing them on
every call. ``UPDATE`` statements take their ``SET`` columns from the parameter keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from durable_workflow.protocol.history import RunStatus

from ..store import Conn, Store
from ..store import tables as t
from . import history as h
from .util import new_id

WakeKey = tuple[str, str, str]  # (kind, namespace, queue) with kind "workflow" | "activity"

_wr, _wt, _ae, _at, _aa, _tm = (
    t.workflow_runs,
    t.workflow_tasks,
    t.activity_executions,
    t.activity_tasks,
    t.activity_attempts,
    t.timers,
)
_OPEN_TASK = (h.WORKFLOW_TASK_READY, h.WORKFLOW_TASK_LEASED)

SELECT_RUN = sa.select(_wr).where(_wr.c.run_id == sa.bindparam("b_run_id"))


def run_of(table: sa.Table, key: str, *, in_namespace: bool = False) -> sa.Select[Any]:
    """The run owning the ``table`` row whose ``key`` is ``b_<key>`` (optionally in ``b_namespace``).

    Lock order: every transaction that writes a run's rows locks the run row *first* and its
    task, timer or attempt rows after it (closing a run, timing it out and every completion all
    do), so two of them can never wait for each other in opposite orders. A caller that knows a
    task id but not yet its run locks the run through this one statement (the subquery locks
    nothing), then the task.
    """
    owner = sa.select(table.c.run_id).where(table.c[key] == sa.bindparam(f"b_{key}"))
    if in_namespace:
        owner = owner.where(table.c.namespace == sa.bindparam("b_namespace"))
    return sa.select(_wr).where(_wr.c.run_id == owner.scalar_subquery())


UPDATE_RUN = sa.update(_wr).where(_wr.c.run_id == sa.bindparam("b_run_id"))
INSERT_RUN = sa.insert(_wr)
INSERT_EVENTS = sa.insert(t.history_events)
INSERT_WORKFLOW_TASK = sa.insert(_wt)
_READY_TASK_OF_RUN = (
    sa.select(_wt.c.task_id)
    .where(_wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status == h.WORKFLOW_TASK_READY)
    .limit(1)
)
# Every blocking step of a run (activity executions and timers) in one round trip.
_STEPS = sa.union_all(
    sa.select(
        sa.literal_column(f"'{h.STEP_ACTIVITY}'").label("kind"),
        _ae.c.activity_execution_id.label("step_id"),
        _ae.c.sequence,
        _ae.c.batch_id,
        _ae.c.status,
        _ae.c.activity_type,
        sa.cast(sa.null(), sa.Integer).label("delay_seconds"),
    ).where(_ae.c.run_id == sa.bindparam("b_run_id")),
    sa.select(
        sa.literal_column(f"'{h.STEP_TIMER}'"),
        _tm.c.timer_id,
        _tm.c.sequence,
        _tm.c.batch_id,
        _tm.c.status,
        sa.cast(sa.null(), sa.String),
        _tm.c.delay_seconds,
    ).where(_tm.c.run_id == sa.bindparam("b_run_id")),
)
_CANCEL_WORKFLOW_TASKS = (
    sa.update(_wt)
    .where(_wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status.in_(_OPEN_TASK))
    .values(status=h.TASK_CANCELLED, updated_at=sa.bindparam("b_now"))
)
_CANCEL_ACTIVITY_TASKS = (
    sa.update(_at)
    .where(_at.c.run_id == sa.bindparam("b_run_id"), _at.c.status.in_(_OPEN_TASK))
    .values(status=h.TASK_CANCELLED, updated_at=sa.bindparam("b_now"))
)
_CANCEL_EXECUTIONS = (
    sa.update(_ae)
    .where(_ae.c.run_id == sa.bindparam("b_run_id"), _ae.c.status.in_(("pending", "running")))
    .values(status="cancelled", closed_at=sa.bindparam("b_now"))
)
_CANCEL_ATTEMPTS = (
    sa.update(_aa)
    .where(
        _aa.c.activity_execution_id.in_(
            sa.select(_ae.c.activity_execution_id).where(_ae.c.run_id == sa.bindparam("b_run_id"))
        ),
        _aa.c.status == "running",
    )
    .values(status="cancelled", closed_at=sa.bindparam("b_now"))
)
_CANCEL_TIMERS = (
    sa.update(_tm)
    .where(_tm.c.run_id == sa.bindparam("b_run_id"), _tm.c.status == "pending")
    .values(status="cancelled")
)


@dataclass
class Tx:
    """One write transaction plus what to announce after it commits."""

    conn: Conn
    store: Store
    now: datetime
    wakes: set[WakeKey] = field(default_factory=set)
    history_runs: set[str] = field(default_factory=set)
    timers_changed: bool = False
    # The earliest new due time this transaction wrote (an activity deadline); the background
    # loop is woken only if it would otherwise sleep past it.
    due_at: datetime | None = None
    # Set by anything that creates, changes or removes a namespace (drops the existence cache).
    namespaces_changed: bool = False

    def due(self, at: datetime | None) -> None:
        """Note a new due time for the background loop."""
        if at is not None and (self.due_at is None or at < self.due_at):
            self.due_at = at

    async def one(self, stmt: Any, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        row = (await self.conn.execute(stmt, params)).mappings().first()
        return dict(row) if row is not None else None

    async def all(self, stmt: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(r) for r in (await self.conn.execute(stmt, params)).mappings().all()]


async def load_run(tx: Tx, run_id: str, *, lock: bool = True) -> dict[str, Any] | None:
    return await tx.one(tx.store.lock(SELECT_RUN) if lock else SELECT_RUN, {"b_run_id": run_id})


async def try_lock_run(tx: Tx, run_id: str) -> dict[str, Any] | None:
    """The run, locked, or ``None`` if another transaction holds it (or it does not exist)."""
    return await tx.one(tx.store.claim(SELECT_RUN), {"b_run_id": run_id})


async def update_run(tx: Tx, run: dict[str, Any], **values: Any) -> None:
    """Write ``values`` to the run row (one ``UPDATE``) and mirror them into ``run``."""
    if not values:
        return
    run.update(values)
    await tx.conn.execute(UPDATE_RUN, {"b_run_id": run["run_id"], **values})


def progress(run: dict[str, Any]) -> dict[str, Any]:
    """The projection fields :func:`append` advances, for a caller that writes the run itself."""
    return {
        "last_history_sequence": run["last_history_sequence"],
        "last_progress_at": run["last_progress_at"],
    }


async def append(
    tx: Tx,
    run: dict[str, Any],
    events: list[tuple[str, dict[str, Any]]],
    *,
    workflow_task_id: str | None = None,
    write_run: bool = True,
) -> list[dict[str, Any]]:
    """Append events to ``run`` with gap-free sequences and advance its projection counter.

    The caller must hold the run row (``load_run(lock=True)``) so sequences cannot race. With
    ``write_run=False`` only ``run`` (the dict) is advanced and the caller must write
    :func:`progress` in its own run update before the transaction ends, saving an ``UPDATE``.
    """
    if not events:
        return []
    rows = []
    sequence = int(run["last_history_sequence"])
    for event_type, payload in events:
        sequence += 1
        rows.append(
            {
                "id": new_id(),
                "run_id": run["run_id"],
                "sequence": sequence,
                "namespace": run["namespace"],
                "event_type": event_type,
                "payload": payload,
                "workflow_task_id": workflow_task_id,
                "workflow_command_id": payload.get("workflow_command_id"),
                "recorded_at": tx.now,
            }
        )
    await tx.conn.execute(INSERT_EVENTS, rows)
    tx.history_runs.add(run["run_id"])
    if write_run:
        await update_run(tx, run, last_history_sequence=sequence, last_progress_at=tx.now)
    else:
        run.update(last_history_sequence=sequence, last_progress_at=tx.now)
    return rows


async def ensure_workflow_task(
    tx: Tx, run: dict[str, Any], *, available_at: datetime | None = None, new_run: bool = False
) -> str | None:
    """Queue a ready workflow task for ``run`` unless one is already ready (merge rule).

    ``new_run=True`` skips the lookup: a run created in this transaction has no tasks yet.
    """
    if not new_run and await tx.one(_READY_TASK_OF_RUN, {"b_run_id": run["run_id"]}) is not None:
        return None
    task_id = new_id()
    await tx.conn.execute(
        INSERT_WORKFLOW_TASK,
        {
            "task_id": task_id,
            "run_id": run["run_id"],
            "workflow_id": run["workflow_id"],
            "namespace": run["namespace"],
            "task_queue": run["task_queue"],
            "workflow_type": run["workflow_type"],
            "status": h.WORKFLOW_TASK_READY,
            "available_at": available_at or tx.now,
            "attempt_count": 0,
            "created_at": tx.now,
            "updated_at": tx.now,
        },
    )
    tx.wakes.add(("workflow", run["namespace"], run["task_queue"]))
    return task_id


@dataclass(frozen=True)
class Step:
    """A blocking step of a run: an activity execution or a durable timer."""

    kind: str
    step_id: str
    sequence: int
    batch_id: str
    resolved: bool
    activity_type: str | None = None
    delay_seconds: int | None = None


def _resolved(kind: str, status: str) -> bool:
    if kind == h.STEP_ACTIVITY:
        return status in ("completed", "failed", "cancelled")
    return status != "pending"


async def run_steps(tx: Tx, run_id: str) -> list[Step]:
    """All blocking steps of a run, ordered by workflow sequence."""
    steps = [
        Step(
            r["kind"],
            r["step_id"],
            r["sequence"],
            r["batch_id"],
            _resolved(r["kind"], r["status"]),
            activity_type=r["activity_type"],
            delay_seconds=r["delay_seconds"],
        )
        for r in (await tx.conn.execute(_STEPS, {"b_run_id": run_id})).mappings().all()
    ]
    steps.sort(key=lambda s: s.sequence)
    return steps


def wait_kind(steps: list[Step]) -> str | None:
    pending = [s for s in steps if not s.resolved]
    return pending[0].kind if pending else None


async def after_step_resolved(tx: Tx, run: dict[str, Any], batch_id: str) -> str | None:
    """Wake rule: resume the run once every blocking step of ``batch_id`` is resolved.

    Also writes the run's :func:`progress`, so callers may ``append(..., write_run=False)`` first.
    """
    steps = await run_steps(tx, run["run_id"])
    await update_run(tx, run, wait_kind=wait_kind(steps), **progress(run))
    if any(s.batch_id == batch_id and not s.resolved for s in steps):
        return None
    return await ensure_workflow_task(tx, run)


async def close_run(
    tx: Tx,
    run: dict[str, Any],
    *,
    status: str,
    closed_reason: str,
    steps: list[Step] | None = None,
    **values: Any,
) -> None:
    """Mark ``run`` terminal and retire its open work (tasks, activity tasks, timers).

    Also writes the run's :func:`progress`. ``steps``, when the caller already knows every step
    of the run (under the run lock), lets statements for kinds of work with nothing open be
    skipped: an activity task or attempt is only open while its execution is pending or running.
    """
    await update_run(
        tx,
        run,
        status=status,
        closed_reason=closed_reason,
        closed_at=tx.now,
        timeout_at=None,  # a closed run has no deadline left to enforce
        wait_kind=None,
        wait_reason=None,
        **progress(run),
        **values,
    )
    params = {"b_run_id": run["run_id"], "b_now": tx.now}
    await tx.conn.execute(_CANCEL_WORKFLOW_TASKS, params)
    open_activities = steps is None or any(s.kind == h.STEP_ACTIVITY and not s.resolved for s in steps)
    if open_activities:
        await tx.conn.execute(_CANCEL_ACTIVITY_TASKS, params)
        await tx.conn.execute(_CANCEL_EXECUTIONS, params)
        await tx.conn.execute(_CANCEL_ATTEMPTS, params)
    if steps is None or any(s.kind == h.STEP_TIMER and not s.resolved for s in steps):
        await tx.conn.execute(_CANCEL_TIMERS, {"b_run_id": run["run_id"]})


def is_terminal_run(run: dict[str, Any]) -> bool:
    return run["status"] in RunStatus.TERMINAL
