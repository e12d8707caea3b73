"""Cancel and terminate: close a run at once, recording in its history what that retired.

Both commands are run-level and immediate (DECISIONS D9, see docs/protocol.md): in one
transaction the run gets ``CancelRequested`` / ``TerminateRequested``, one ``ActivityCancelled``
per pending or running activity execution, one ``TimerCancelled`` per pending timer, then
``WorkflowCancelled`` / ``WorkflowTerminated``, and is closed through
:func:`~.runs.lifecycle.close_run` (which retires the rows: workflow tasks, activity tasks,
attempts, timers, and whatever else the other close-time rules retire). Workflow code gets no
chance to run.

Running activities learn of it on their next heartbeat (``cancel_requested: true``, reason
``run_cancelled`` / ``run_terminated``), and their late complete/fail is answered ``ignored``.
Cancel and terminate differ only in names (status, events, failure category): the heartbeat
answer is not a courtesy that terminate could skip, it is the fence telling the worker its
attempt is over.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import sqlalchemy as sa

from durable_workflow.protocol.history import EventType

from ..store import tables as t
from ..store.rows import ActivityExecutionRow, RunRow, TimerRow
from ..store.statuses import RunStatus
from .activities.claims import activity_event_ids
from .activities.rows import OPEN_EXECUTIONS_OF_RUN
from .children.rows import TIMER_KINDS as CHILD_TIMER_KINDS
from .history.rows import append
from .runs.lifecycle import close_run
from .targets import CommandResultBody, Target, command_ids, command_result, requested_event
from .timers import rows as timer_rows
from .transaction import Tx
from .util import new_id, rfc3339

Kind = Literal["cancel", "terminate"]

_tm = t.timers
# Not the child machinery's timers (a close notice, a retry backoff): they were never scheduled in
# history, so their retirement is not recorded there either.
_PENDING_TIMERS = (
    sa.select(_tm)
    .where(
        timer_rows.pending_of(sa.bindparam("b_run_id")),
        sa.or_(timer_rows.IS_DURABLE, _tm.c.timer_kind.not_in(sorted(CHILD_TIMER_KINDS))),
    )
    .order_by(_tm.c.sequence)
)

_TARGET_KEY = {"condition_timeout": "condition_wait_id", "signal_timeout": "signal_wait_id"}
# Named like the protocol's other exception classes (worker-plane.md §7.8).
EXCEPTION_CLASS: dict[Kind, str] = {
    "cancel": "Workflow\\V2\\Exceptions\\WorkflowCancelledException",
    "terminate": "Workflow\\V2\\Exceptions\\WorkflowTerminatedException",
}
_REQUESTED: dict[Kind, str] = {
    "cancel": EventType.CANCEL_REQUESTED,
    "terminate": EventType.TERMINATE_REQUESTED,
}
_CLOSED: dict[Kind, str] = {
    "cancel": EventType.WORKFLOW_CANCELLED,
    "terminate": EventType.WORKFLOW_TERMINATED,
}
_STATUS: dict[Kind, RunStatus] = {"cancel": RunStatus.CANCELLED, "terminate": RunStatus.TERMINATED}


def message(kind: Kind, reason: str | None) -> str:
    """``Workflow cancelled.`` / ``Workflow cancelled: <reason>`` (and the same for terminate)."""
    verb = "cancelled" if kind == "cancel" else "terminated"
    return f"Workflow {verb}: {reason}" if reason else f"Workflow {verb}."


async def retired_work_events(tx: Tx, run: RunRow, command_id: str) -> list[tuple[str, dict[str, Any]]]:
    """``ActivityCancelled`` / ``TimerCancelled`` for the run's open steps, before it closes.

    The run must be locked by the caller. :func:`close_run` then retires the same rows.
    """
    params = {"b_run_id": run["run_id"]}
    executions = cast(list[ActivityExecutionRow], await tx.all(OPEN_EXECUTIONS_OF_RUN, params))
    timers = cast(list[TimerRow], await tx.all(_PENDING_TIMERS, params))
    events: list[tuple[str, dict[str, Any]]] = []
    cancelled_at = rfc3339(tx.now)
    for execution in executions:
        ids = activity_event_ids(
            execution, execution["current_attempt_id"], int(execution["attempt_count"] or 0)
        )
        payload = {"workflow_command_id": command_id, **ids, "cancelled_at": cancelled_at}
        events.append((EventType.ACTIVITY_CANCELLED, payload))
    for timer in timers:
        payload = {
            "workflow_command_id": command_id,
            "timer_id": timer["timer_id"],
            "sequence": timer["sequence"],
            "delay_seconds": timer["delay_seconds"],
            "fire_at": rfc3339(timer["fire_at"]),
            "timer_kind": timer["timer_kind"],
            "cancelled_at": cancelled_at,
        }
        # A wait's timeout timer names its wait, as TimerScheduled does (worker-plane.md §4.2).
        target_key = _TARGET_KEY.get(timer["timer_kind"] or "")
        if target_key is not None:
            payload[target_key] = timer["target_id"]
        events.append((EventType.TIMER_CANCELLED, payload))
    return events


async def close_by_command(
    tx: Tx, target: Target, kind: Kind, *, reason: str | None, request_id: str | None
) -> CommandResultBody:
    """Cancel or terminate the locked open run of ``target``; returns the command result."""
    run = target.run
    command_id = new_id()
    ids = command_ids(run, command_id)
    requested = requested_event(run, command_id, kind, request_id, reason=reason)
    status = _STATUS[kind]
    closed = {
        **ids,
        "failure_id": new_id(),
        "failure_category": str(status),
        "closed_reason": str(status),
        "exception_class": EXCEPTION_CLASS[kind],
        "message": message(kind, reason),
        "reason": reason,
    }
    events = [
        (_REQUESTED[kind], requested),
        *await retired_work_events(tx, run, command_id),
        (_CLOSED[kind], closed),
    ]
    written = await append(tx, run, events, write_run=False)
    await close_run(tx, run, status=status, closed_reason=str(status))
    return command_result(
        target,
        outcome="cancelled" if kind == "cancel" else "terminated",
        command_id=command_id,
        command_sequence=int(written[0]["sequence"]),
        reason=reason,
    )
