"""Enforcing workflow execution and run timeouts from the background loop (see docs/protocol.md).

A run carries ``execution_deadline_at`` (inherited by continue-as-new runs) and
``run_deadline_at`` (fresh for every run), and, while it is open, ``timeout_at``: the earlier of
the two. The loop scans ``workflow_runs`` by ``timeout_at`` like timers by ``fire_at`` and times
each due run out in its own transaction: ``WorkflowTimedOut`` (see docs/protocol.md), the run
closed as ``failed`` / ``timed_out`` (see docs/protocol.md), and its open work retired the way
every other close retires it. A worker that later completes one of its tasks meets the usual
closed-run fence.

The run row is locked (``FOR UPDATE`` on PostgreSQL, the process-wide write lock on SQLite) and
claimed with an update fenced on its status and deadline, so two server processes sharing a
database never time out the same run twice, and a run that closed in the meantime is left alone.
"""

from __future__ import annotations

from datetime import datetime

from durable_workflow.protocol.history import EventType

from ...store import Store
from ...store.rows import RunRow
from ...store.statuses import OPEN_RUN_STATUSES, RunStatus
from ..history.rows import append
from ..transaction import OpenTx, Tx
from ..util import new_id, rfc3339
from .lifecycle import close_run
from .rows import CLAIM_TIMEOUT, DUE_TIMEOUTS, load_run

BATCH = 100
EXECUTION = "execution"
RUN = "run"
# Named like the protocol's other timeout exception classes (see docs/protocol.md).
TIMEOUT_EXCEPTION_CLASS = "Workflow\\V2\\Exceptions\\WorkflowTimeoutException"


async def enforce(open_tx: OpenTx, store: Store, now: datetime) -> int:
    """Time out every open run with a deadline due at ``now``; returns how many timed out."""
    async with store.read() as conn:
        due = (await conn.execute(DUE_TIMEOUTS, {"b_now": now, "b_limit": BATCH})).scalars().all()
    count = 0
    for run_id in due:
        async for txn in open_tx():
            async with txn as tx:
                if await time_out(tx, run_id):
                    count += 1
    return count


def fired(run: RunRow, now: datetime) -> str | None:
    """Which deadline of ``run`` has passed at ``now`` (the earlier one wins); ``None`` if none.

    On a tie the execution deadline wins: it is the cap no further run can escape.
    """
    candidates = [
        (deadline, kind)
        for deadline, kind in ((run["execution_deadline_at"], EXECUTION), (run["run_deadline_at"], RUN))
        if deadline is not None and deadline <= now
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0], c[1] != EXECUTION))[1]


def _message(run: RunRow, kind: str) -> str:
    seconds = run["execution_timeout_seconds"] if kind == EXECUTION else run["run_timeout_seconds"]
    limit = f" of {seconds}s" if seconds else ""
    return f"Workflow [{run['workflow_type']}] timed out: {kind} timeout{limit} exceeded."


async def time_out(tx: Tx, run_id: str) -> bool:
    """Time out ``run_id`` if one of its deadlines has passed; ``False`` if nothing was due."""
    # Wait for (rather than skip) a run another transaction holds: once that one commits, the
    # run is seen closed, and a sweep that returns has left nothing due behind it.
    run = await load_run(tx, run_id)
    if run is None or run["status"] not in OPEN_RUN_STATUSES:
        return False
    kind = fired(run, tx.now)
    if kind is None:
        return False
    claimed = await tx.conn.execute(CLAIM_TIMEOUT, {"b_run_id": run_id, "b_now": tx.now})
    if claimed.rowcount != 1:
        return False  # another process got there first
    payload = {
        "failure_id": new_id(),
        "timeout_kind": kind,
        "failure_category": "timeout",
        "message": _message(run, kind),
        "exception_class": TIMEOUT_EXCEPTION_CLASS,
        "execution_deadline_at": rfc3339(run["execution_deadline_at"]),
        "run_deadline_at": rfc3339(run["run_deadline_at"]),
    }
    await append(tx, run, [(EventType.WORKFLOW_TIMED_OUT, payload)], write_run=False)
    # Retires open workflow tasks, activity tasks / executions / attempts and pending timers.
    await close_run(tx, run, status=RunStatus.FAILED, closed_reason="timed_out")
    return True
