"""What an open run is waiting on, for describe: one query over the run's open work.

Open activity executions, pending durable timers, open condition waits, open child links,
received-but-unapplied signals and accepted-but-open updates are read with one ``UNION ALL``
(each arm on its table's ``run_id`` index), and shaped into the ``waiting_on`` block and a
derived ``wait_kind`` / ``wait_reason`` (see docs/protocol.md). A closed run waits on nothing
and costs no query.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import ActivityTaskStatus, SignalStatus, UpdateStatus
from ..activities import rows as activity_rows
from ..children import rows as child_rows
from ..conditions import rows as condition_rows
from ..timers import rows as timer_rows
from ..transaction import Tx
from ..util import rfc3339
from ..waiting_shapes import ActivityFailure, WaitingActivity, WaitingOn

_ae, _tm, _cw, _cl, _sg, _up = (
    t.activity_executions,
    t.timers,
    t.condition_waits,
    t.child_links,
    t.signals,
    t.updates,
)
_RUN: sa.BindParameter[str] = sa.bindparam("b_run_id")


def _arm(
    kind: str, item_id: Any, name: Any, status: Any, number: Any, at: Any, ref: Any, order: Any
) -> sa.Select[Any]:
    return sa.select(
        sa.literal(kind).label("kind"),
        sa.cast(item_id, sa.String).label("item_id"),
        sa.cast(name, sa.String).label("name"),
        sa.cast(status, sa.String).label("status"),
        sa.cast(number, sa.Integer).label("number"),
        at.label("at"),
        sa.cast(ref, sa.String).label("ref"),
        sa.cast(order, sa.Integer).label("ord"),
    )


_NULL_TS = sa.cast(sa.null(), t.timers.c.fire_at.type)
WAITING_ON = sa.union_all(
    _arm(
        "activity", _ae.c.activity_execution_id, _ae.c.activity_type, _ae.c.status,
        _ae.c.attempt_count, _NULL_TS, sa.null(), _ae.c.sequence,
    ).where(activity_rows.open_executions_of(_RUN)),
    # Durable timers only: a condition timeout shows as its condition wait, not as a timer.
    _arm(
        "timer", _tm.c.timer_id, sa.null(), _tm.c.status,
        _tm.c.delay_seconds, _tm.c.fire_at, sa.null(), _tm.c.sequence,
    ).where(timer_rows.pending_of(_RUN), timer_rows.IS_DURABLE),
    _arm(
        "condition", _cw.c.condition_wait_id, _cw.c.condition_key, _cw.c.status,
        _cw.c.timeout_seconds, _cw.c.opened_at, sa.null(), _cw.c.sequence,
    ).where(condition_rows.open_of(_RUN)),
    _arm(
        "child", _cl.c.child_workflow_id, _cl.c.child_workflow_type, _cl.c.status,
        _cl.c.attempt, _cl.c.created_at, _cl.c.child_run_id, _cl.c.sequence,
    ).where(child_rows.open_of(_RUN)),
    _arm(
        "signal", _sg.c.signal_id, _sg.c.signal_name, _sg.c.status,
        sa.null(), _sg.c.received_at, sa.null(), _sg.c.history_sequence,
    ).where(_sg.c.run_id == _RUN, _sg.c.status == SignalStatus.RECEIVED),
    _arm(
        "update", _up.c.update_id, _up.c.update_name, _up.c.status,
        sa.null(), _up.c.accepted_at, sa.null(), _up.c.history_sequence,
    ).where(_up.c.run_id == _RUN, _up.c.status == UpdateStatus.ACCEPTED),
)  # fmt: skip


def nothing() -> WaitingOn:
    """The block of a run that waits on nothing."""
    return {
        "activities": [],
        "timers": [],
        "condition_waits": [],
        "children": [],
        "signals": {"count": 0, "names": []},
        "updates": [],
    }


async def waiting_on(tx: Tx, run_id: str) -> WaitingOn:
    """The ``waiting_on`` block of an open run (one query)."""
    rows = await tx.all(WAITING_ON, {"b_run_id": run_id})
    rows.sort(key=lambda r: (r["ord"] is None, r["ord"] or 0, r["item_id"]))
    block = nothing()
    for r in rows:
        kind = r["kind"]
        if kind == "activity":
            block["activities"].append(
                {
                    "activity_execution_id": r["item_id"],
                    "activity_type": r["name"],
                    "attempt": int(r["number"] or 0),
                    "status": r["status"],
                    "task_status": None,
                    "available_at": None,
                    "lease_owner": None,
                    "last_heartbeat_at": None,
                    "last_failure": None,
                }
            )
        elif kind == "timer":
            block["timers"].append({"timer_id": r["item_id"], "fire_at": rfc3339(r["at"])})
        elif kind == "condition":
            timeout = r["number"]
            due = r["at"] + timedelta(seconds=int(timeout)) if timeout is not None and r["at"] else None
            block["condition_waits"].append(
                {
                    "condition_wait_id": r["item_id"],
                    "key": r["name"],
                    "timeout_seconds": timeout,
                    "timeout_at": rfc3339(due),
                }
            )
        elif kind == "child":
            block["children"].append(
                {
                    "child_workflow_id": r["item_id"],
                    "child_run_id": r["ref"],
                    "child_workflow_type": r["name"],
                }
            )
        elif kind == "signal":
            block["signals"]["count"] += 1
            block["signals"]["names"].append(r["name"])
        else:
            block["updates"].append({"update_id": r["item_id"], "update_name": r["name"]})
    if block["activities"]:
        await _activity_details(tx, run_id, block["activities"])
    return block


async def _activity_details(tx: Tx, run_id: str, activities: list[WaitingActivity]) -> None:
    """Each open activity's task, lease, heartbeat and latest failure (one indexed query, run
    only when the run has open activities): what an operator asks of a waiting activity."""
    details = {
        r["activity_execution_id"]: r
        for r in await tx.all(activity_rows.PENDING_OF_RUN, {"b_run_id": run_id})
    }
    for activity in activities:
        row = details.get(activity["activity_execution_id"])
        if row is None:
            continue
        leased = row["task_status"] == ActivityTaskStatus.LEASED
        failure = row["last_failure"]
        activity["task_status"] = row["task_status"]
        activity["available_at"] = rfc3339(row["available_at"])
        activity["lease_owner"] = row["lease_owner"] if leased else None
        activity["last_heartbeat_at"] = rfc3339(row["last_heartbeat_at"]) if leased else None
        activity["last_failure"] = cast(ActivityFailure, dict(failure)) if isinstance(failure, dict) else None


def wait_of(block: WaitingOn) -> tuple[str | None, str | None]:
    """``(wait_kind, wait_reason)`` derived from the block: the first thing the run blocks on."""
    if block["activities"]:
        first = block["activities"][0]
        more = len(block["activities"]) - 1
        extra = f" and {more} more" if more else ""
        name, attempt = first["activity_type"], first["attempt"]
        where = f"attempt {attempt} running" if first["status"] == "running" else "not started yet"
        return "activity", f"Waiting for activity {name} ({where}){extra}."
    if block["children"]:
        child = block["children"][0]
        return (
            "child",
            f"Waiting for child workflow {child['child_workflow_id']} ({child['child_workflow_type']}).",
        )
    if block["condition_waits"]:
        wait = block["condition_waits"][0]
        key = f" {wait['key']}" if wait["key"] else ""
        until = f" until {wait['timeout_at']}" if wait["timeout_at"] else ""
        return "condition", f"Waiting for condition{key}{until}."
    if block["timers"]:
        return "timer", f"Waiting for timer until {block['timers'][0]['fire_at']}."
    if block["updates"]:
        return "update", f"Update {block['updates'][0]['update_name']} is accepted and not yet applied."
    if block["signals"]["count"]:
        return "signal", f"{block['signals']['count']} signal(s) received and not yet applied."
    return None, None
