"""The worker-death rule for an attempt past its start-to-close or heartbeat deadline.

A worker's death never fails an activity by itself (docs/protocol.md, "A worker's death"). So
when such a deadline is due, the timeout counts only if the attempt's worker showed a sign of
life after the deadline passed: a registry heartbeat or registration of its ``lease_owner``, or
a heartbeat of this attempt. Until one arrives the decision waits, at most for the liveness
window since the last sign; then the attempt is lost (``expired``, redelivered for free).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from ...store.rows import ActivityAttemptRow, ActivityTaskRow, WorkerRow
from ...store.statuses import ActivityTaskStatus
from ..transaction import Tx
from ..util import seconds
from ..workers import rows as worker_rows
from . import deadlines, rows


@dataclass(frozen=True)
class Verdict:
    """``timed_out`` (counted), ``lost`` (free redelivery) or ``pending`` until ``recheck_at``."""

    outcome: Literal["timed_out", "lost", "pending"]
    recheck_at: datetime | None = None


TIMED_OUT = Verdict("timed_out")
LOST = Verdict("lost")


async def last_sign_of_life(tx: Tx, task: ActivityTaskRow, attempt: ActivityAttemptRow) -> datetime:
    """The latest moment the attempt's worker is known to have been alive."""
    worker = cast(
        WorkerRow | None,
        await tx.one(
            worker_rows.WORKER, {"b_namespace": task["namespace"], "b_worker_id": attempt["lease_owner"]}
        ),
    )
    signs = [attempt["started_at"], attempt["last_heartbeat_at"]]
    if worker is not None:
        signs.append(worker["last_heartbeat_at"])
    return max(sign for sign in signs if sign is not None)


async def decide(
    tx: Tx,
    task: ActivityTaskRow,
    kind: str,
    liveness: float | None,
    observed_since: datetime | None = None,
) -> Verdict:
    """Whether the due ``kind`` deadline of the locked ``task`` counts as a timeout now.

    Schedule-to-close and schedule-to-start always do (no worker holds the latter; the former
    bounds the activity whatever happens). Without a liveness window (``None``) every worker
    is taken to be alive. Silence counts from ``observed_since`` at the earliest (when this
    process began to see the database): a worker cannot be proven gone by a silence that may
    have been this server's own outage.
    """
    if (
        liveness is None
        or kind not in (deadlines.START_TO_CLOSE, deadlines.HEARTBEAT)
        or task["status"] != ActivityTaskStatus.LEASED
        or not task["current_attempt_id"]
    ):
        return TIMED_OUT
    attempt = cast(
        ActivityAttemptRow | None, await tx.one(rows.ATTEMPT, {"b_attempt_id": task["current_attempt_id"]})
    )
    if attempt is None:
        return TIMED_OUT
    deadline = task[deadlines.HB] if kind == deadlines.HEARTBEAT else task[deadlines.STC]
    assert deadline is not None  # it fired
    last = await last_sign_of_life(tx, task, attempt)
    if last >= deadline:
        return TIMED_OUT
    silent_since = max(last, observed_since) if observed_since is not None else last
    recheck_at = silent_since + seconds(liveness)
    if tx.now >= recheck_at:
        return LOST
    return Verdict("pending", recheck_at)


async def wait_for_sign(tx: Tx, task: ActivityTaskRow, recheck_at: datetime) -> None:
    """Park the decision on ``task`` until ``recheck_at`` (or an earlier sign of life).

    The scan key ``timeout_at`` moves to the re-check (the deadline columns keep their values,
    so the timeout kind is unchanged), and the lease is kept at least that long so lease expiry
    does not race the decision. A sign of life sets ``timeout_at`` to now
    (``rows.DECIDE_PENDING_OF_WORKER``, or the attempt's heartbeat), deciding at once.
    """
    lease = task["lease_expires_at"]
    await tx.conn.execute(
        rows.UPDATE_TASK,
        {
            "b_task_id": task["task_id"],
            "timeout_at": recheck_at,
            "lease_expires_at": max(lease, recheck_at) if lease is not None else recheck_at,
            "updated_at": tx.now,
        },
    )
    tx.due(recheck_at)


async def signs_of_life(tx: Tx, namespace: str, worker_id: str) -> None:
    """A registry heartbeat or registration of ``worker_id``: decide its parked timeouts now."""
    params = {"b_namespace": namespace, "b_worker_id": worker_id, "b_now": tx.now}
    result = await tx.conn.execute(rows.DECIDE_PENDING_OF_WORKER, params)
    if result.rowcount:
        tx.due(tx.now)
