"""``signals`` statements."""

from __future__ import annotations

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import SignalStatus
from ..transaction import Tx

_sg = t.signals

INSERT = sa.insert(_sg)
# A retried POST: the signal the run recorded under this request id.
BY_REQUEST = sa.select(_sg).where(
    _sg.c.run_id == sa.bindparam("b_run_id"), _sg.c.request_id == sa.bindparam("b_request_id")
)
# Signals the worker saw (history up to the sequence its task was leased at) are applied.
MARK_APPLIED = (
    sa.update(_sg)
    .where(
        _sg.c.run_id == sa.bindparam("b_run_id"),
        _sg.c.status == SignalStatus.RECEIVED,
        _sg.c.history_sequence <= sa.bindparam("b_upto"),
    )
    .values(status=SignalStatus.APPLIED, applied_at=sa.bindparam("b_now"))
)
# Signals the run received after sequence ``b_after`` (after a task was leased) not yet applied.
RECEIVED_AFTER = (
    sa.select(_sg)
    .where(
        _sg.c.run_id == sa.bindparam("b_run_id"),
        _sg.c.status == SignalStatus.RECEIVED,
        _sg.c.history_sequence > sa.bindparam("b_after"),
    )
    .order_by(_sg.c.history_sequence)
)
# A signal moving to the run a continue-as-new started.
MOVE = (
    sa.update(_sg)
    .where(_sg.c.signal_id == sa.bindparam("b_signal_id"))
    .values(run_id=sa.bindparam("run_id"), history_sequence=sa.bindparam("history_sequence"))
)
# The run's latest signal (what satisfied a condition wait, as far as the server can tell).
LATEST_OF_RUN = (
    sa.select(_sg)
    .where(_sg.c.run_id == sa.bindparam("b_run_id"))
    .order_by(_sg.c.history_sequence.desc())
    .limit(1)
)


async def mark_applied(tx: Tx, run_id: str, upto: int | None) -> None:
    """Mark the run's received signals at or before history sequence ``upto`` as applied."""
    if upto is None:
        return
    await tx.conn.execute(MARK_APPLIED, {"b_run_id": run_id, "b_upto": int(upto), "b_now": tx.now})
