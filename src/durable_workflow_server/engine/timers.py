"""The one background loop: time out runs, fire due timers, enforce activity timeouts, recover leases.

Every process runs this loop. Each due item is claimed with a fenced row update
(``status = 'pending'`` → ``'fired'``), so two processes sharing a database never fire the same
timer twice (activity timeouts: :mod:`.activity_timeouts`; run timeouts: :mod:`.run_timeouts`).
The loop sleeps until the earliest due time or ``timer_loop_interval``, whichever is sooner;
:meth:`TimerLoop.poke` wakes it early when a new, shorter timer is scheduled,
:meth:`TimerLoop.poke_before` when a new activity or run deadline falls before its planned wake-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

import sqlalchemy as sa

from durable_workflow.protocol.history import EventType

from ..store import Store
from ..store import tables as t
from . import deadlines
from . import history as h
from .releases import requeue_workflow_task
from .runs import Tx, after_step_resolved, append, is_terminal_run, run_of
from .util import rfc3339

log = logging.getLogger(__name__)

OpenTx = Callable[[], AbstractAsyncContextManager[Tx]]
BATCH = 100
_RUN_OF_TIMER = run_of(t.timers, "timer_id")


async def fire_due_timers(open_tx: OpenTx, store: Store, now: datetime) -> int:
    """Fire every pending timer with ``fire_at <= now``; returns how many fired."""
    tm = t.timers
    async with store.read() as conn:
        due = (
            (
                await conn.execute(
                    sa.select(tm.c.timer_id)
                    .where(tm.c.status == "pending", tm.c.fire_at <= now)
                    .order_by(tm.c.fire_at)
                    .limit(BATCH)
                )
            )
            .scalars()
            .all()
        )
    fired = 0
    for timer_id in due:
        async with open_tx() as tx:
            # The run before the timer: the engine's lock order (see runs.run_of). The fenced
            # update below is what claims the timer.
            run = await tx.one(tx.store.lock(_RUN_OF_TIMER), {"b_timer_id": timer_id})
            timer = await tx.one(sa.select(tm).where(tm.c.timer_id == timer_id, tm.c.status == "pending"))
            if timer is None:
                continue
            claimed = await tx.conn.execute(
                sa.update(tm)
                .where(tm.c.timer_id == timer_id, tm.c.status == "pending")
                .values(status="fired", fired_at=tx.now)
            )
            if claimed.rowcount != 1:
                continue  # another process fired it first
            if run is None or is_terminal_run(run):
                await tx.conn.execute(
                    sa.update(tm).where(tm.c.timer_id == timer_id).values(status="cancelled")
                )
                continue
            await append(
                tx,
                run,
                [
                    (
                        EventType.TIMER_FIRED,
                        {
                            "timer_id": timer_id,
                            "sequence": timer["sequence"],
                            "delay_seconds": timer["delay_seconds"],
                            "fire_at": rfc3339(timer["fire_at"]),
                            "fired_at": rfc3339(tx.now),
                        },
                    )
                ],
                write_run=False,  # after_step_resolved writes the run once
            )
            await after_step_resolved(tx, run, timer["batch_id"])
            fired += 1
    return fired


async def expire_workflow_leases(open_tx: OpenTx) -> int:
    """Make workflow tasks whose lease ran out claimable again (the old holder is fenced)."""
    wt = t.workflow_tasks
    async with open_tx() as tx:
        expired = await tx.all(
            tx.store.claim(
                sa.select(wt)
                .where(wt.c.status == h.WORKFLOW_TASK_LEASED, wt.c.lease_expires_at <= tx.now)
                .limit(BATCH)
            )
        )
        for task in expired:
            await requeue_workflow_task(tx, task, "workflow task lease expired")
        return len(expired)


async def expire_activity_leases(open_tx: OpenTx) -> int:
    """Close attempts whose lease ran out as ``expired`` and re-ready their tasks.

    A re-readied task waits again like a retry: its schedule-to-start deadline restarts now.
    """
    at, aa, ae = t.activity_tasks, t.activity_attempts, t.activity_executions
    async with open_tx() as tx:
        expired = await tx.all(
            tx.store.claim(
                sa.select(at)
                .where(at.c.status == h.WORKFLOW_TASK_LEASED, at.c.lease_expires_at <= tx.now)
                .limit(BATCH)
            )
        )
        expired = [task for task in expired if deadlines.fired(task, tx.now) is None]  # timeouts win
        for task in expired:
            snapshot = (
                await tx.conn.execute(
                    sa.select(ae.c.retry_policy).where(
                        ae.c.activity_execution_id == task["activity_execution_id"]
                    )
                )
            ).scalar()
            waiting = deadlines.waiting(
                snapshot, available_at=tx.now, schedule_to_close_at=task[deadlines.S2C]
            )
            await tx.conn.execute(
                sa.update(at)
                .where(at.c.task_id == task["task_id"], at.c.status == h.WORKFLOW_TASK_LEASED)
                .values(
                    status=h.WORKFLOW_TASK_READY,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=tx.now,
                    **waiting,
                )
            )
            tx.due(waiting["timeout_at"])
            if task["current_attempt_id"]:
                await tx.conn.execute(
                    sa.update(aa)
                    .where(aa.c.attempt_id == task["current_attempt_id"], aa.c.status == "running")
                    .values(status="expired", closed_at=tx.now)
                )
            tx.wakes.add(("activity", task["namespace"], task["task_queue"]))
        return len(expired)


async def purge_poll_requests(open_tx: OpenTx) -> None:
    async with open_tx() as tx:
        await tx.conn.execute(sa.delete(t.poll_requests).where(t.poll_requests.c.expires_at <= tx.now))


async def next_due_at(store: Store) -> datetime | None:
    """The earliest due time among pending timers, live leases, activity and run deadlines."""
    tm, wt, at, wr = t.timers, t.workflow_tasks, t.activity_tasks, t.workflow_runs
    async with store.read() as conn:
        candidates = [
            (
                await conn.execute(sa.select(sa.func.min(tm.c.fire_at)).where(tm.c.status == "pending"))
            ).scalar(),
            (
                await conn.execute(
                    sa.select(sa.func.min(wt.c.lease_expires_at)).where(wt.c.status == h.WORKFLOW_TASK_LEASED)
                )
            ).scalar(),
            (
                await conn.execute(
                    sa.select(sa.func.min(at.c.lease_expires_at)).where(at.c.status == h.WORKFLOW_TASK_LEASED)
                )
            ).scalar(),
            # Activity deadlines: one min() per status so each is a single index range scan.
            *[
                (
                    await conn.execute(sa.select(sa.func.min(at.c.timeout_at)).where(at.c.status == status))
                ).scalar()
                for status in (h.WORKFLOW_TASK_READY, h.WORKFLOW_TASK_LEASED)
            ],
            # Workflow execution / run deadlines (``NULL`` once the run closed).
            (await conn.execute(sa.select(sa.func.min(wr.c.timeout_at)))).scalar(),
        ]
    # min() keeps the column type, so these come back as aware UTC datetimes.
    values = [v for v in candidates if v is not None]
    return min(values) if values else None


class TimerLoop:
    """Runs ``sweep`` repeatedly; ``sweep`` returns the next due time (or ``None``)."""

    def __init__(
        self,
        sweep: Callable[[], Awaitable[datetime | None]],
        *,
        interval: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._sweep = sweep
        self._interval = interval
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # When the loop plans to sweep next (by ``clock``); ``None`` while sweeping or stopped.
        self._wake_at: datetime | None = None

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="durable-workflow-timer-loop")

    def poke(self) -> None:
        self._wake.set()

    def poke_before(self, due: datetime) -> None:
        """Wake the loop only if it would otherwise sleep past ``due`` (cheap to call often)."""
        if self._wake_at is None or due < self._wake_at:
            self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._wake_at = None
            next_due: datetime | None = None
            try:
                next_due = await self._sweep()
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("timer loop sweep failed")
            delay = self._interval
            if next_due is not None:
                delay = max(0.0, min(delay, (next_due - self._clock()).total_seconds()))
            if self._stopping:
                break
            self._wake_at = self._clock() + timedelta(seconds=delay)
            try:
                await asyncio.wait_for(self._wake.wait(), max(delay, 0.001))
            except asyncio.TimeoutError:
                pass
