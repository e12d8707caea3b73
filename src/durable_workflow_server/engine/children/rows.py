"""``child_links`` statements and the timer kinds the child machinery uses."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import ChildLinkRow
from ...store.statuses import ChildLinkStatus, TimerStatus
from ..transaction import Tx

_cl, _wr, _tm = t.child_links, t.workflow_runs, t.timers

# Timers of the parent run that are not workflow steps (``timers.timer_kind``; ``target_id`` is
# the link): a child run closed and the parent must learn of it, or a failed child is retried.
TIMER_CHILD_CLOSED = "child_closed"
TIMER_CHILD_RETRY = "child_retry"
TIMER_KINDS = frozenset({TIMER_CHILD_CLOSED, TIMER_CHILD_RETRY})

INSERT = sa.insert(_cl)
LINK = sa.select(_cl).where(_cl.c.link_id == sa.bindparam("b_link_id"))
UPDATE = sa.update(_cl).where(_cl.c.link_id == sa.bindparam("b_link_id"))
STATUS = sa.select(_cl.c.status).where(_cl.c.link_id == sa.bindparam("b_link_id"))
# The open links of every run of a workflow id: parent-close policy follows a continue-as-new
# chain to its final run (links stay with the run that started them, see the package docs).
OPEN_OF_WORKFLOW = (
    sa.select(_cl)
    .where(
        _cl.c.parent_run_id.in_(
            sa.select(_wr.c.run_id).where(_wr.c.workflow_id == sa.bindparam("b_workflow_id"))
        ),
        _cl.c.status == ChildLinkStatus.OPEN,
    )
    .order_by(_cl.c.created_at, _cl.c.sequence)
)
OF_RUN = sa.select(_cl).where(_cl.c.parent_run_id == sa.bindparam("b_run_id")).order_by(_cl.c.sequence)


def open_of(parent_run_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The open child links a parent run started."""
    return sa.and_(_cl.c.parent_run_id == parent_run_id, _cl.c.status == ChildLinkStatus.OPEN)


CANCEL_RETRY_TIMER = (
    sa.update(_tm)
    .where(
        _tm.c.target_id == sa.bindparam("b_link_id"),
        _tm.c.timer_kind == TIMER_CHILD_RETRY,
        _tm.c.status == TimerStatus.PENDING,
    )
    .values(status=TimerStatus.CANCELLED)
)


async def load_link(tx: Tx, link_id: str, *, lock: bool = True) -> ChildLinkRow | None:
    """The link row (locked unless ``lock=False``); lock its parent run first."""
    row = await tx.one(tx.store.lock(LINK) if lock else LINK, {"b_link_id": link_id})
    return cast(ChildLinkRow | None, row)


async def update_link(tx: Tx, link: ChildLinkRow, **values: object) -> None:
    """Write ``values`` to the link row and mirror them into ``link``."""
    cast(dict[str, object], link).update(values)
    await tx.conn.execute(UPDATE, {"b_link_id": link["link_id"], **values})
