"""``timers`` statements."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import TimerStatus
from ..runs.rows import run_of
from ..transaction import Tx

_tm = t.timers

INSERT = sa.insert(_tm)
PENDING = sa.select(_tm).where(
    _tm.c.timer_id == sa.bindparam("b_timer_id"), _tm.c.status == TimerStatus.PENDING
)
RUN_OF_TIMER = run_of(_tm, "timer_id")
DUE = (
    sa.select(_tm.c.timer_id)
    .where(_tm.c.status == TimerStatus.PENDING, _tm.c.fire_at <= sa.bindparam("b_now"))
    .order_by(_tm.c.fire_at)
    .limit(sa.bindparam("b_limit"))
)
# The fenced claim of a due timer: only a pending one, and only once.
FIRE = (
    sa.update(_tm)
    .where(_tm.c.timer_id == sa.bindparam("b_timer_id"), _tm.c.status == TimerStatus.PENDING)
    .values(status=TimerStatus.FIRED, fired_at=sa.bindparam("b_now"))
)
CANCEL = (
    sa.update(_tm).where(_tm.c.timer_id == sa.bindparam("b_timer_id")).values(status=TimerStatus.CANCELLED)
)


def pending_of(run_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The run's pending timers, of every kind (each wakes the run, or its machinery, by itself)."""
    return sa.and_(_tm.c.run_id == run_id, _tm.c.status == TimerStatus.PENDING)


# A durable timer step of the workflow (``timer_kind`` NULL), not a wait's timeout or a child's.
IS_DURABLE = _tm.c.timer_kind.is_(None)
CANCEL_PENDING_OF_RUN = (
    sa.update(_tm).where(pending_of(sa.bindparam("b_run_id"))).values(status=TimerStatus.CANCELLED)
)
# The run's pending timers of one kind (``timer_kind`` not NULL: not a workflow step).
CANCEL_PENDING_KIND_OF_RUN = (
    sa.update(_tm)
    .where(
        _tm.c.run_id == sa.bindparam("b_run_id"),
        _tm.c.status == TimerStatus.PENDING,
        _tm.c.timer_kind == sa.bindparam("b_timer_kind"),
    )
    .values(status=TimerStatus.CANCELLED)
)
# A claimed timer put back to fire later (a condition timeout while a workflow task is leased).
POSTPONE = (
    sa.update(_tm)
    .where(_tm.c.timer_id == sa.bindparam("b_timer_id"))
    .values(status=TimerStatus.PENDING, fire_at=sa.bindparam("b_fire_at"), fired_at=None)
)
EARLIEST_FIRE = sa.select(sa.func.min(_tm.c.fire_at)).where(_tm.c.status == TimerStatus.PENDING)
OF_RUN = sa.select(_tm).where(_tm.c.run_id == sa.bindparam("b_run_id")).order_by(_tm.c.sequence)


async def cancel_pending_of_run(tx: Tx, run_id: str) -> None:
    """Cancel the run's pending timers (the run closed)."""
    await tx.conn.execute(CANCEL_PENDING_OF_RUN, {"b_run_id": run_id})


# The debug view's next scheduled event: the run's earliest pending timer, of any kind.
NEXT_PENDING_OF_RUN = (
    sa.select(_tm)
    .where(pending_of(sa.bindparam("b_run_id")))
    .order_by(_tm.c.fire_at, _tm.c.sequence)
    .limit(1)
)
