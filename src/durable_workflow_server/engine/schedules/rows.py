"""``schedules``, ``schedule_history_events`` and ``schedule_fires`` statements."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import ScheduleFireRow, ScheduleRow
from ...store.statuses import TERMINAL_RUN_STATUSES, ScheduleFireStatus, ScheduleStatus
from ..transaction import Tx

_s = t.schedules
_e = t.schedule_history_events
_f = t.schedule_fires
_wi = t.workflow_instances
_wr = t.workflow_runs

_KEY = sa.and_(
    _s.c.namespace == sa.bindparam("b_namespace"), _s.c.schedule_id == sa.bindparam("b_schedule_id")
)

INSERT = sa.insert(_s)
UPDATE = sa.update(_s).where(_KEY)
SELECT = sa.select(_s).where(_KEY)
# A live (not deleted) schedule of the namespace.
LIVE = sa.select(_s).where(_KEY, _s.c.status != ScheduleStatus.DELETED)
LISTING = (
    sa.select(_s)
    .where(_s.c.namespace == sa.bindparam("b_namespace"), _s.c.status != ScheduleStatus.DELETED)
    .order_by(_s.c.created_at.desc(), _s.c.schedule_id.desc())
)

# The background loop: schedules due to fire (one range scan over ix_schedules_due).
DUE = (
    sa.select(_s.c.namespace, _s.c.schedule_id)
    .where(_s.c.status == ScheduleStatus.ACTIVE, _s.c.next_fire_at <= sa.bindparam("b_now"))
    .order_by(_s.c.next_fire_at)
    .limit(sa.bindparam("b_limit"))
)
EARLIEST_FIRE = sa.select(sa.func.min(_s.c.next_fire_at)).where(_s.c.status == ScheduleStatus.ACTIVE)
# Whether any active schedule holds buffered fires (``DRAINABLE`` can find nothing otherwise).
ANY_BUFFERED = (
    sa.select(_s.c.buffered_count)
    .where(_s.c.status == ScheduleStatus.ACTIVE, _s.c.buffered_count > 0)
    .limit(1)
)

# Active schedules holding buffered fires whose latest started workflow has closed (its current
# run is terminal). A fire still being started has no instance yet, so it never matches.
_current = (
    sa.select(_wr.c.status)
    .select_from(_wi.join(_wr, _wr.c.run_id == _wi.c.current_run_id))
    .where(_wi.c.workflow_id == _s.c.latest_workflow_id, _wi.c.namespace == _s.c.namespace)
    .correlate(_s)
    .scalar_subquery()
)
# A latest fire whose start failed left no instance: with no fire still starting, the buffer's
# turn has come too (the same rule as fires.latest_running).
_starting = sa.exists(
    sa.select(_f.c.fire_id)
    .where(
        _f.c.namespace == _s.c.namespace,
        _f.c.schedule_id == _s.c.schedule_id,
        _f.c.status == ScheduleFireStatus.STARTING,
    )
    .correlate(_s)
)
DRAINABLE = (
    sa.select(_s.c.namespace, _s.c.schedule_id)
    .where(
        _s.c.status == ScheduleStatus.ACTIVE,
        _s.c.buffered_count > 0,
        sa.or_(
            _current.in_([str(status) for status in TERMINAL_RUN_STATUSES]),
            sa.and_(_current.is_(None), ~_starting),
        ),
    )
    .limit(sa.bindparam("b_limit"))
)

# The latest started workflow's current run (its status decides overlap).
LATEST_RUN = (
    sa.select(_wr)
    .select_from(_wi.join(_wr, _wr.c.run_id == _wi.c.current_run_id))
    .where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"), _wi.c.namespace == sa.bindparam("b_namespace"))
)
INSTANCE = sa.select(_wi.c.workflow_id, _wi.c.current_run_id, _wi.c.namespace).where(
    _wi.c.workflow_id == sa.bindparam("b_workflow_id")
)

# ---------------------------------------------------------------- audit history
INSERT_EVENT = sa.insert(_e)
EVENTS_AFTER = (
    sa.select(_e)
    .where(
        _e.c.namespace == sa.bindparam("b_namespace"),
        _e.c.schedule_id == sa.bindparam("b_schedule_id"),
        _e.c.sequence > sa.bindparam("b_after"),
    )
    .order_by(_e.c.sequence)
    .limit(sa.bindparam("b_limit"))
)
RECENT_TRIGGERED = (
    sa.select(_e)
    .where(
        _e.c.namespace == sa.bindparam("b_namespace"),
        _e.c.schedule_id == sa.bindparam("b_schedule_id"),
        _e.c.event_type == "ScheduleTriggered",
    )
    .order_by(_e.c.sequence.desc())
    .limit(sa.bindparam("b_limit"))
)

# ---------------------------------------------------------------- fires
_OF_SCHEDULE = sa.and_(
    _f.c.namespace == sa.bindparam("b_namespace"), _f.c.schedule_id == sa.bindparam("b_schedule_id")
)
INSERT_FIRE = sa.insert(_f)
BUFFERED = (
    sa.select(_f)
    .where(_OF_SCHEDULE, _f.c.status == ScheduleFireStatus.BUFFERED)
    .order_by(_f.c.created_at, _f.c.fire_at, _f.c.fire_id)
)
STARTING_OF = sa.select(_f.c.fire_id).where(_OF_SCHEDULE, _f.c.status == ScheduleFireStatus.STARTING)
DROP_BUFFERED = sa.delete(_f).where(_OF_SCHEDULE, _f.c.status == ScheduleFireStatus.BUFFERED)
# A buffered fire becomes the fire being started (its workflow id chosen).
PROMOTE = (
    sa.update(_f)
    .where(_f.c.fire_id == sa.bindparam("b_fire_id"), _f.c.status == ScheduleFireStatus.BUFFERED)
    .values(
        status=ScheduleFireStatus.STARTING,
        workflow_id=sa.bindparam("b_workflow_id"),
        lease_expires_at=sa.bindparam("b_lease"),
    )
)
# The fenced end of a fire: only one process records it.
FINISH = sa.delete(_f).where(
    _f.c.fire_id == sa.bindparam("b_fire_id"), _f.c.status == ScheduleFireStatus.STARTING
)
# Fires whose claimer did not finish them in time (it died between claiming and recording).
EXPIRED = (
    sa.select(_f)
    .where(_f.c.status == ScheduleFireStatus.STARTING, _f.c.lease_expires_at <= sa.bindparam("b_now"))
    .order_by(_f.c.lease_expires_at)
    .limit(sa.bindparam("b_limit"))
)
RELEASE_EXPIRED = (
    sa.update(_f)
    .where(
        _f.c.fire_id == sa.bindparam("b_fire_id"),
        _f.c.status == ScheduleFireStatus.STARTING,
        _f.c.lease_expires_at <= sa.bindparam("b_now"),
    )
    .values(lease_expires_at=sa.bindparam("b_lease"))
)
EARLIEST_LEASE = sa.select(sa.func.min(_f.c.lease_expires_at)).where(
    _f.c.status == ScheduleFireStatus.STARTING
)


def key(namespace: str, schedule_id: str) -> dict[str, Any]:
    return {"b_namespace": namespace, "b_schedule_id": schedule_id}


async def lock_live(tx: Tx, namespace: str, schedule_id: str) -> ScheduleRow | None:
    """The live schedule, locked until commit (waits for another transaction holding it)."""
    return cast(ScheduleRow | None, await tx.one(tx.store.lock(LIVE), key(namespace, schedule_id)))


async def claim(tx: Tx, namespace: str, schedule_id: str) -> ScheduleRow | None:
    """The schedule locked for the background loop, or ``None`` while another process holds it."""
    return cast(ScheduleRow | None, await tx.one(tx.store.claim(SELECT), key(namespace, schedule_id)))


async def update(tx: Tx, row: ScheduleRow, **values: Any) -> None:
    """Write ``values`` to the schedule and into ``row`` (the caller's copy stays current)."""
    await tx.conn.execute(UPDATE, {**key(row["namespace"], row["schedule_id"]), **values})
    cast(dict[str, Any], row).update(values)


async def buffered(tx: Tx, row: ScheduleRow) -> list[ScheduleFireRow]:
    rows = await tx.all(BUFFERED, key(row["namespace"], row["schedule_id"]))
    return cast(list[ScheduleFireRow], rows)
