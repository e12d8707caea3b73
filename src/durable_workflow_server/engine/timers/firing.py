"""Starting durable timers and firing them when due (from the background loop).

Each due timer is claimed with a fenced row update (``status = 'pending'`` → ``'fired'``) under
its run's lock, so two processes sharing a database never fire the same timer twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from durable_workflow.protocol.history import EventType

from ...store import Store
from ...store.rows import RunRow, TimerRow
from ...store.statuses import TimerStatus
from ..children import resolution as child_resolution
from ..children.rows import TIMER_KINDS as CHILD_TIMER_KINDS
from ..conditions.waits import CONDITION_TIMEOUT
from ..conditions.waits import fire_timeout as fire_condition_timeout
from ..history.rows import append
from ..runs.rows import is_terminal_run, lock_run_of
from ..runs.steps import STEP_TIMER, Step, after_step_resolved
from ..transaction import OpenTx, Tx
from ..util import new_id, rfc3339, seconds
from . import rows

BATCH = 100


async def start_timer(
    tx: Tx, run: RunRow, cmd: dict[str, Any], seq: int, batch: str, steps: list[Step]
) -> tuple[str, dict[str, Any]]:
    """A ``start_timer`` command: the timer row and ``TimerScheduled`` (the step joins ``steps``)."""
    timer_id = new_id()
    fire_at = tx.now + seconds(cmd["delay_seconds"])
    await tx.conn.execute(
        rows.INSERT,
        {
            "timer_id": timer_id,
            "run_id": run["run_id"],
            "namespace": run["namespace"],
            "sequence": seq,
            "batch_id": batch,
            "delay_seconds": cmd["delay_seconds"],
            "fire_at": fire_at,
            "status": TimerStatus.PENDING,
            "created_at": tx.now,
        },
    )
    steps.append(Step(STEP_TIMER, timer_id, seq, batch, False, delay_seconds=cmd["delay_seconds"]))
    tx.timers_changed = True
    return EventType.TIMER_SCHEDULED, {
        "timer_id": timer_id,
        "sequence": seq,
        "delay_seconds": cmd["delay_seconds"],
        "fire_at": rfc3339(fire_at),
    }


async def fire_due_timers(open_tx: OpenTx, store: Store, now: datetime) -> int:
    """Fire every pending timer with ``fire_at <= now``; returns how many fired."""
    async with store.read() as conn:
        due = (await conn.execute(rows.DUE, {"b_now": now, "b_limit": BATCH})).scalars().all()
    fired = 0
    for timer_id in due:
        async for txn in open_tx():
            async with txn as tx:
                # The run before the timer: the engine's lock order (see runs.rows). The fenced
                # update below is what claims the timer.
                params = {"b_timer_id": timer_id, "b_now": tx.now}
                run = await lock_run_of(tx, rows.RUN_OF_TIMER, params)
                timer = await tx.one(rows.PENDING, params)
                if timer is None:
                    continue
                claimed = await tx.conn.execute(rows.FIRE, params)
                if claimed.rowcount != 1:
                    continue  # another process fired it first
                if timer["timer_kind"] in CHILD_TIMER_KINDS:  # not a step: no TimerFired
                    await child_resolution.fire(tx, run, cast(TimerRow, timer))
                    fired += 1
                    continue
                if run is None or is_terminal_run(run):
                    await tx.conn.execute(rows.CANCEL, params)
                    continue
                if timer["timer_kind"] == CONDITION_TIMEOUT:
                    await fire_condition_timeout(tx, run, cast(TimerRow, timer))
                    fired += 1
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
