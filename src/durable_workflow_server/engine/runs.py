"""Run-level write helpers used inside one ``Store.write()`` transaction.

A :class:`Tx` bundles the connection, the transaction's logical ``now`` and the wake-ups to send
once the transaction has committed (pollers must never be woken for rows they cannot see yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from durable_workflow.protocol.history import RunStatus

from ..store import Store
from ..store import tables as t
from . import history as h
from .util import new_id

WakeKey = tuple[str, str, str]  # (kind, namespace, queue) with kind "workflow" | "activity"


@dataclass
class Tx:
    """One write transaction plus what to announce after it commits."""

    conn: AsyncConnection
    store: Store
    now: datetime
    wakes: set[WakeKey] = field(default_factory=set)
    history_runs: set[str] = field(default_factory=set)
    timers_changed: bool = False

    async def one(self, stmt: Any) -> dict[str, Any] | None:
        row = (await self.conn.execute(stmt)).mappings().first()
        return dict(row) if row is not None else None

    async def all(self, stmt: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in (await self.conn.execute(stmt)).mappings().all()]


async def load_run(tx: Tx, run_id: str, *, lock: bool = True) -> dict[str, Any] | None:
    stmt = sa.select(t.workflow_runs).where(t.workflow_runs.c.run_id == run_id)
    return await tx.one(tx.store.lock(stmt) if lock else stmt)


async def update_run(tx: Tx, run: dict[str, Any], **values: Any) -> None:
    run.update(values)
    await tx.conn.execute(
        sa.update(t.workflow_runs).where(t.workflow_runs.c.run_id == run["run_id"]).values(**values)
    )


async def append(
    tx: Tx,
    run: dict[str, Any],
    events: list[tuple[str, dict[str, Any]]],
    *,
    workflow_task_id: str | None = None,
) -> list[dict[str, Any]]:
    """Append events to ``run`` with gap-free sequences and advance its projection counter.

    The caller must hold the run row (``load_run(lock=True)``) so sequences cannot race.
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
    await tx.conn.execute(sa.insert(t.history_events), rows)
    await update_run(tx, run, last_history_sequence=sequence, last_progress_at=tx.now)
    tx.history_runs.add(run["run_id"])
    return rows


async def ensure_workflow_task(
    tx: Tx, run: dict[str, Any], *, available_at: datetime | None = None
) -> str | None:
    """Queue a ready workflow task for ``run`` unless one is already ready (merge rule)."""
    wt = t.workflow_tasks
    existing = await tx.one(
        sa.select(wt.c.task_id).where(wt.c.run_id == run["run_id"], wt.c.status == h.WORKFLOW_TASK_READY)
    )
    if existing is not None:
        return None
    task_id = new_id()
    await tx.conn.execute(
        sa.insert(wt).values(
            task_id=task_id,
            run_id=run["run_id"],
            workflow_id=run["workflow_id"],
            namespace=run["namespace"],
            task_queue=run["task_queue"],
            workflow_type=run["workflow_type"],
            status=h.WORKFLOW_TASK_READY,
            available_at=available_at or tx.now,
            attempt_count=0,
            created_at=tx.now,
            updated_at=tx.now,
        )
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


async def run_steps(tx: Tx, run_id: str) -> list[Step]:
    """All blocking steps of a run, ordered by workflow sequence."""
    ae, tm = t.activity_executions, t.timers
    steps = [
        Step(
            h.STEP_ACTIVITY,
            r["activity_execution_id"],
            r["sequence"],
            r["batch_id"],
            r["status"] in ("completed", "failed", "cancelled"),
            activity_type=r["activity_type"],
        )
        for r in await tx.all(sa.select(ae).where(ae.c.run_id == run_id))
    ]
    steps += [
        Step(
            h.STEP_TIMER,
            r["timer_id"],
            r["sequence"],
            r["batch_id"],
            r["status"] != "pending",
            delay_seconds=r["delay_seconds"],
        )
        for r in await tx.all(sa.select(tm).where(tm.c.run_id == run_id))
    ]
    steps.sort(key=lambda s: s.sequence)
    return steps


def wait_kind(steps: list[Step]) -> str | None:
    pending = [s for s in steps if not s.resolved]
    return pending[0].kind if pending else None


async def after_step_resolved(tx: Tx, run: dict[str, Any], batch_id: str) -> str | None:
    """Wake rule: resume the run once every blocking step of ``batch_id`` is resolved."""
    steps = await run_steps(tx, run["run_id"])
    if any(s.batch_id == batch_id and not s.resolved for s in steps):
        await update_run(tx, run, wait_kind=wait_kind(steps))
        return None
    await update_run(tx, run, wait_kind=wait_kind(steps))
    return await ensure_workflow_task(tx, run)


async def close_run(tx: Tx, run: dict[str, Any], *, status: str, closed_reason: str, **values: Any) -> None:
    """Mark ``run`` terminal and retire its open work (tasks, activity tasks, timers)."""
    await update_run(
        tx,
        run,
        status=status,
        closed_reason=closed_reason,
        closed_at=tx.now,
        wait_kind=None,
        wait_reason=None,
        **values,
    )
    rid = run["run_id"]
    for table in (t.workflow_tasks, t.activity_tasks):
        await tx.conn.execute(
            sa.update(table)
            .where(table.c.run_id == rid, table.c.status.in_((h.WORKFLOW_TASK_READY, h.WORKFLOW_TASK_LEASED)))
            .values(status=h.TASK_CANCELLED, updated_at=tx.now)
        )
    ae = t.activity_executions
    await tx.conn.execute(
        sa.update(ae)
        .where(ae.c.run_id == rid, ae.c.status.in_(("pending", "running")))
        .values(status="cancelled", closed_at=tx.now)
    )
    at = t.activity_attempts
    running = sa.select(ae.c.activity_execution_id).where(ae.c.run_id == rid).scalar_subquery()
    await tx.conn.execute(
        sa.update(at)
        .where(at.c.activity_execution_id.in_(running), at.c.status == "running")
        .values(status="cancelled", closed_at=tx.now)
    )
    await tx.conn.execute(
        sa.update(t.timers)
        .where(t.timers.c.run_id == rid, t.timers.c.status == "pending")
        .values(status="cancelled")
    )


def is_terminal_run(run: dict[str, Any]) -> bool:
    return run["status"] in RunStatus.TERMINAL
