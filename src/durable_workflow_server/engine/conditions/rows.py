"""``condition_waits`` statements."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import ConditionWaitStatus

_cw = t.condition_waits

INSERT = sa.insert(_cw)
WAIT = sa.select(_cw).where(_cw.c.condition_wait_id == sa.bindparam("b_condition_wait_id"))


def open_of(run_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The run's open condition waits."""
    return sa.and_(_cw.c.run_id == run_id, _cw.c.status == ConditionWaitStatus.OPEN)


OPEN_OF_RUN = sa.select(_cw).where(open_of(sa.bindparam("b_run_id"))).order_by(_cw.c.sequence)
# Closing an open wait (satisfied, timed out), fenced on it still being open.
CLOSE = (
    sa.update(_cw)
    .where(
        _cw.c.condition_wait_id == sa.bindparam("b_condition_wait_id"),
        _cw.c.status == ConditionWaitStatus.OPEN,
    )
    .values(status=sa.bindparam("b_status"), closed_at=sa.bindparam("b_now"))
)
CANCEL_OPEN_OF_RUN = (
    sa.update(_cw)
    .where(_cw.c.run_id == sa.bindparam("b_run_id"), _cw.c.status == ConditionWaitStatus.OPEN)
    .values(status=ConditionWaitStatus.CANCELLED, closed_at=sa.bindparam("b_now"))
)
