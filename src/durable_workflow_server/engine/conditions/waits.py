"""Condition waits on the server: opening one, deciding whether a completion keeps it open, and
its timeout timer.

``open_condition_wait`` records ``ConditionWaitOpened`` and a ``condition_waits`` row; with
``timeout_seconds > 0`` also a timer of kind ``condition_timeout`` (not a workflow step: the
wake rule in ``runs/steps.py`` ignores timers with a kind) and its ``TimerScheduled``.

Whether a completion keeps an open wait open depends on what the completing worker registered
(``workers.capabilities``; the worker is the task's ``lease_owner``):

* a worker with ``WORKER_CONDITION_WAIT_IDS`` (ours) re-sends a still-open wait as
  ``open_condition_wait`` carrying that wait's ``condition_wait_id``; an ``open_condition_wait``
  without it is always a new wait, so two back-to-back waits with the same key stay distinct;
* a worker without it (SDK 0.4.84) re-sends the same key and predicate fingerprint, and that
  re-send is the open wait again.

Either way a re-sent wait records nothing (one wait, one timeout timer). An open wait the batch
does not keep was satisfied by what the worker saw: ``ConditionWaitSatisfied`` (with the latest
signal's fields) and ``TimerCancelled`` for its timer, before the batch's own events. Update
tasks (``workflow_update_id`` set) never advance the workflow, so they satisfy nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from durable_workflow.protocol import commands as c
from durable_workflow.protocol.capabilities import WORKER_CONDITION_WAIT_IDS
from durable_workflow.protocol.history import EventType

from ...store.rows import ConditionWaitRow, RunRow, SignalRow, TimerRow, WorkflowTaskRow
from ...store.statuses import ConditionWaitStatus, TimerStatus
from ..history.rows import append
from ..signals import rows as signal_rows
from ..timers import rows as timer_rows
from ..transaction import Tx
from ..util import new_id, rfc3339, seconds
from ..workers.registry import has_capability
from ..workflow_tasks import rows as workflow_task_rows
from ..workflow_tasks.rows import ensure_workflow_task
from . import rows

CONDITION_TIMEOUT = "condition_timeout"
# How long a timeout that falls due while a workflow task of its run is leased waits to retry.
POSTPONE_SECONDS = 1.0
Event = tuple[str, dict[str, Any]]


def _identity(wait: ConditionWaitRow) -> dict[str, Any]:
    return {
        "condition_wait_id": wait["condition_wait_id"],
        "condition_key": wait["condition_key"],
        "condition_definition_fingerprint": wait["condition_definition_fingerprint"],
    }


def _timer_fields(wait: ConditionWaitRow, timer: TimerRow) -> dict[str, Any]:
    return {
        "timer_id": timer["timer_id"],
        "sequence": wait["sequence"],
        "delay_seconds": timer["delay_seconds"],
        "fire_at": rfc3339(timer["fire_at"]),
        "timer_kind": CONDITION_TIMEOUT,
        **_identity(wait),
    }


async def open_wait(tx: Tx, run: RunRow, cmd: dict[str, Any], seq: int, batch_id: str) -> list[Event]:
    """A new wait: its row, ``ConditionWaitOpened`` and, with a timeout, its timer."""
    timeout = cmd.get("timeout_seconds")
    wait: ConditionWaitRow = {
        "condition_wait_id": new_id(),
        "run_id": run["run_id"],
        "namespace": run["namespace"],
        "condition_key": cmd.get("condition_key"),
        "condition_definition_fingerprint": cmd.get("condition_definition_fingerprint"),
        "sequence": seq,
        "batch_id": batch_id,
        "timeout_seconds": timeout,
        "timer_id": new_id() if timeout else None,
        "status": ConditionWaitStatus.OPEN,
        "opened_at": tx.now,
        "closed_at": None,
    }
    await tx.conn.execute(rows.INSERT, wait)
    events: list[Event] = [
        (EventType.CONDITION_WAIT_OPENED, {**_identity(wait), "sequence": seq, "timeout_seconds": timeout})
    ]
    if wait["timer_id"] is not None and timeout:
        timer: TimerRow = {
            "timer_id": wait["timer_id"],
            "run_id": run["run_id"],
            "namespace": run["namespace"],
            "sequence": seq,
            "batch_id": batch_id,
            "delay_seconds": int(timeout),
            "fire_at": tx.now + seconds(int(timeout)),
            "status": TimerStatus.PENDING,
            "fired_at": None,
            "created_at": tx.now,
            "timer_kind": CONDITION_TIMEOUT,
            "target_id": wait["condition_wait_id"],
        }
        await tx.conn.execute(timer_rows.INSERT, timer)
        tx.timers_changed = True
        events.append((EventType.TIMER_SCHEDULED, _timer_fields(wait, timer)))
    return events


@dataclass
class Settled:
    """What the open waits make of a batch: events to record first, and re-sent waits to skip."""

    events: list[Event] = field(default_factory=list)
    resent: set[int] = field(default_factory=set)  # ids of the commands that re-send open waits
    # Whether the run had open waits when the batch came (none: nothing for a close to cancel
    # unless the batch opens one, since only the run's own completions, holding it, open waits).
    had_open: bool = False


def _kept(
    commands: list[dict[str, Any]], waits: list[ConditionWaitRow], by_id: bool
) -> tuple[set[str], set[int]]:
    kept: set[str] = set()
    resent: set[int] = set()
    for cmd in commands:
        if cmd["type"] != c.OPEN_CONDITION_WAIT:
            continue
        if by_id:
            wait_id = cmd.get("condition_wait_id")
            if wait_id is None:
                continue  # a new wait
            # A re-send of a wait that is no longer open (it timed out meanwhile) records nothing
            # either: the task its timeout queued tells the worker.
            resent.add(id(cmd))
            if any(w["condition_wait_id"] == wait_id for w in waits):
                kept.add(str(wait_id))
            continue
        key = (cmd.get("condition_key"), cmd.get("condition_definition_fingerprint"))
        for wait in waits:
            same = (wait["condition_key"], wait["condition_definition_fingerprint"]) == key
            if same and wait["condition_wait_id"] not in kept:
                kept.add(wait["condition_wait_id"])
                resent.add(id(cmd))
                break
    return kept, resent


async def _close(tx: Tx, wait: ConditionWaitRow, status: str) -> None:
    params = {"b_condition_wait_id": wait["condition_wait_id"], "b_status": status, "b_now": tx.now}
    await tx.conn.execute(rows.CLOSE, params)


async def settle(
    tx: Tx, run: RunRow, task: WorkflowTaskRow, commands: list[dict[str, Any]], *, any_open: bool = True
) -> Settled:
    """Decide the run's open waits against a completion's (validated) ``commands``.

    ``any_open=False``: the caller read (under the run lock) that the run has no open wait.
    """
    if not any_open:
        return Settled()
    waits = cast(list[ConditionWaitRow], await tx.all(rows.OPEN_OF_RUN, {"b_run_id": run["run_id"]}))
    if not waits:
        return Settled()
    by_id = await has_capability(tx, run["namespace"], task["lease_owner"], WORKER_CONDITION_WAIT_IDS)
    kept, resent = _kept(commands, waits, by_id)
    settled = Settled(resent=resent, had_open=True)
    if task.get("workflow_update_id"):
        return settled
    latest = cast(SignalRow | None, await tx.one(signal_rows.LATEST_OF_RUN, {"b_run_id": run["run_id"]}))
    for wait in waits:
        if wait["condition_wait_id"] in kept:
            continue
        signal = latest if latest is not None and latest["received_at"] >= wait["opened_at"] else None
        await _close(tx, wait, ConditionWaitStatus.SATISFIED)
        settled.events.append(
            (
                EventType.CONDITION_WAIT_SATISFIED,
                {
                    **_identity(wait),
                    "sequence": wait["sequence"],
                    "timer_id": wait["timer_id"],
                    "timeout_seconds": wait["timeout_seconds"],
                    "workflow_signal_id": signal["signal_id"] if signal else None,
                    "signal_name": signal["signal_name"] if signal else None,
                    "signal_wait_id": None,
                },
            )
        )
        if wait["timer_id"] is None:
            continue
        timer = cast(TimerRow | None, await tx.one(timer_rows.PENDING, {"b_timer_id": wait["timer_id"]}))
        if timer is None:
            continue
        await tx.conn.execute(timer_rows.CANCEL, {"b_timer_id": timer["timer_id"]})
        settled.events.append(
            (EventType.TIMER_CANCELLED, {**_timer_fields(wait, timer), "cancelled_at": rfc3339(tx.now)})
        )
    return settled


async def fire_timeout(tx: Tx, run: RunRow, timer: TimerRow) -> None:
    """A wait's timeout timer fired (claimed by the caller): the wait timed out, the run wakes."""
    found = await tx.one(rows.WAIT, {"b_condition_wait_id": timer["target_id"]})
    wait = cast(ConditionWaitRow | None, found)
    if wait is None or wait["status"] != ConditionWaitStatus.OPEN:
        return  # satisfied in the same instant; the timer is spent either way
    leased = {"b_run_id": run["run_id"], "b_task_id": "", "b_now": tx.now}
    if await tx.one(workflow_task_rows.LEASED_OTHER_OF_RUN, leased) is not None:
        # A worker is replaying the run right now and may find the condition true; timing the
        # wait out under it would contradict what it records. Its completion either satisfies
        # the wait (cancelling this timer) or keeps it open, and then the timer fires.
        params = {"b_timer_id": timer["timer_id"], "b_fire_at": tx.now + seconds(POSTPONE_SECONDS)}
        await tx.conn.execute(timer_rows.POSTPONE, params)
        tx.timers_changed = True
        return
    await _close(tx, wait, ConditionWaitStatus.TIMED_OUT)
    due = wait["opened_at"] + seconds(int(timer["delay_seconds"]))  # as scheduled, if postponed
    fired = {**_timer_fields(wait, timer), "fire_at": rfc3339(due), "fired_at": rfc3339(tx.now)}
    timed_out = {
        **_identity(wait),
        "sequence": wait["sequence"],
        "timer_id": timer["timer_id"],
        "timeout_seconds": wait["timeout_seconds"],
    }
    await append(tx, run, [(EventType.TIMER_FIRED, fired), (EventType.CONDITION_WAIT_TIMED_OUT, timed_out)])
    await ensure_workflow_task(tx, run)


async def cancel_open_of_run(tx: Tx, run_id: str) -> None:
    """The run closed: its open waits are cancelled with their timeout timers."""
    await tx.conn.execute(rows.CANCEL_OPEN_OF_RUN, {"b_run_id": run_id, "b_now": tx.now})
    await tx.conn.execute(
        timer_rows.CANCEL_PENDING_KIND_OF_RUN, {"b_run_id": run_id, "b_timer_kind": CONDITION_TIMEOUT}
    )
