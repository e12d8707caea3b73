"""Eager activity dispatch: the activities a workflow-task completion scheduled, leased to its worker.

A completing worker that declared free activity slots (``eager_activity_slots``) gets up to that
many of the activities this completion scheduled on its own queue, in the completion's
transaction, through :func:`.claims.claim_activity_task` restricted to those tasks: the same
lease, attempt row, ``ActivityStarted`` event, cohort and pause rules as a poll (see
docs/protocol.md, "Fewer round trips"). What it is handed and never runs is redelivered like any
lost lease: re-poll hand-back, worker liveness, lease expiry.
"""

from __future__ import annotations

from typing import cast

from durable_workflow.protocol.wire import ActivityTask

from ...store.rows import ActivityExecutionRow, RunRow, WorkerRow
from ..transaction import Tx
from .claims import claim_activity_task


async def hand_scheduled(
    tx: Tx, worker: WorkerRow, task_ids: list[str], slots: int, *, lease_seconds: float
) -> list[ActivityTask]:
    """Lease up to ``slots`` of ``task_ids`` (just scheduled) to ``worker``, answered as a poll would."""
    types = list(worker["supported_activity_types"] or [])
    if not types:
        return []  # a worker that registered no activity would poll none: it is handed none
    left = list(task_ids)
    handed: list[ActivityTask] = []
    # Scheduled by this transaction: their run is locked (and kept current) by it, and their
    # execution rows are as it wrote them, so neither is read again.
    known = [tx.scheduled[task_id] for task_id in left if task_id in tx.scheduled]
    held = cast(RunRow, known[0][0]) if known and all(run is known[0][0] for run, _ in known) else None
    executions = {str(row["activity_execution_id"]): cast(ActivityExecutionRow, row) for _, row in known}
    while left and len(handed) < slots:
        task, _ = await claim_activity_task(
            tx,
            namespace=worker["namespace"],
            queue=worker["task_queue"],
            worker_id=worker["worker_id"],
            activity_types=types,
            lease_seconds=lease_seconds,
            build_id=worker["build_id"],
            task_ids=left,
            held_run=held,
            executions=executions,
        )
        if task is None:
            # None of the rest is claimable (another queue or type, a paused run, a drained
            # cohort); a busy run cannot be the reason, the completion holds it.
            break
        handed.append(task)
        left.remove(task["task_id"])
    return handed
