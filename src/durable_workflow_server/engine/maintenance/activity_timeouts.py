"""The system activity-timeout pass: enforce passed activity deadlines now, on request.

The background loop already enforces every deadline within its interval; this pass runs the
same code (:func:`..activities.timeouts.time_out`, one transaction per task, run locked first,
the close fenced on the task's status and attempt) on demand, for one namespace, optionally
for named executions only. An execution the loop (or another pass) got to first is
``skipped``, so the pass is safe to repeat and to run beside the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from durable_workflow.protocol.maintenance import (
    ActivityTimeoutPassItem,
    ActivityTimeoutPassResult,
    ActivityTimeoutStatus,
)

from ..activities import rows as activity_rows
from ..activities.timeouts import time_out
from ..transaction import OpenTx, Tx
from . import rows

NOT_FOUND, NOT_OPEN, NOT_EXPIRED = "execution_not_found", "execution_closed", "not_expired"
# The deadline passed but the attempt's worker has shown no sign of life since: the decision
# waits for one, or for the liveness window (the worker-death rule, docs/protocol.md).
AWAITING_WORKER = "awaiting_worker_liveness"


async def status(
    read: Callable[[], AbstractAsyncContextManager[Tx]], namespace: str, limit: int
) -> ActivityTimeoutStatus:
    """``GET /system/activity-timeouts``: open executions with a deadline already passed (``limit``)."""
    async with read() as tx:
        due = await tx.all(rows.due_activity_tasks(namespace, tx.now, execution_ids=None, limit=limit))
    ids = list(dict.fromkeys(str(r["activity_execution_id"]) for r in due))
    return {
        "namespace": namespace,
        "expired_count": len(ids),
        "expired_execution_ids": ids,
        "scan_limit": limit,
        "scan_pressure": len(due) >= limit,
    }


async def _enforce(
    tx: Tx, namespace: str, execution_id: str, liveness: float | None, observed_since: datetime | None
) -> ActivityTimeoutPassItem:
    params = {"b_execution_id": execution_id, "b_namespace": namespace}
    execution = await tx.one(rows.EXECUTION_IN, params)
    if execution is None:
        return {"execution_id": execution_id, "outcome": "skipped", "reason": NOT_FOUND}
    if execution["status"] not in activity_rows.OPEN_EXECUTION_STATUSES:
        return {"execution_id": execution_id, "outcome": "skipped", "reason": NOT_OPEN}
    task_id = (await tx.conn.execute(rows.OPEN_TASK_OF_EXECUTION, params)).scalar()
    outcome = await time_out(tx, str(task_id), liveness, observed_since) if task_id is not None else None
    if outcome is None:
        return {"execution_id": execution_id, "outcome": "skipped", "reason": NOT_EXPIRED}
    if outcome == "pending":
        return {"execution_id": execution_id, "outcome": "skipped", "reason": AWAITING_WORKER}
    # A lost attempt is redelivered: another try, which the retry policy does not count.
    has_retry = outcome in ("retried", "lost")
    return {"execution_id": execution_id, "outcome": "enforced", "has_retry": has_retry}


async def run_pass(
    open_tx: OpenTx,
    read: Callable[[], AbstractAsyncContextManager[Tx]],
    namespace: str,
    *,
    execution_ids: Sequence[str] | None,
    limit: int,
    liveness: float | None = None,
    observed_since: datetime | None = None,
) -> ActivityTimeoutPassResult:
    """``POST /system/activity-timeouts/pass``: the named executions, or the expired ones (``limit``)."""
    if execution_ids:
        chosen = list(dict.fromkeys(execution_ids))[:limit]
    else:
        async with read() as tx:
            due = await tx.all(rows.due_activity_tasks(namespace, tx.now, execution_ids=None, limit=limit))
        chosen = list(dict.fromkeys(str(r["activity_execution_id"]) for r in due))
    results: list[ActivityTimeoutPassItem] = []
    for execution_id in chosen:
        try:
            async for txn in open_tx():
                async with txn as tx:
                    item = await _enforce(tx, namespace, execution_id, liveness, observed_since)
            results.append(item)  # once committed: an attempt may run again
        except Exception as exc:  # this execution's transaction rolled back; the pass goes on
            reason = f"{type(exc).__name__}: {exc}"
            results.append({"execution_id": execution_id, "outcome": "error", "reason": reason})
    count = {o: sum(1 for r in results if r["outcome"] == o) for o in ("enforced", "skipped", "error")}
    return {
        "namespace": namespace,
        "processed": len(results),
        "enforced": count["enforced"],
        "skipped": count["skipped"],
        "failed": count["error"],
        "results": results,
    }
