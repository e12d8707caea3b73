"""Eager activity dispatch: the activities a workflow-task completion scheduled, leased to its worker.

A completing worker that declared free activity slots (``eager_activity_slots``) gets up to that
many of the activities this completion scheduled on its own queue, in the completion's
transaction, through :func:`.claims.claim_activity_task` restricted to those tasks: the same
lease, attempt row, ``ActivityStarted`` event, cohort and pause rules as a poll (see
docs/protocol.md, "Fewer round trips"). What it is handed and never runs is redelivered like any
lost lease: re-poll hand-back, worker liveness, lease expiry.

Leased as it is made: when the completion cannot close its run (no terminal command), nothing
later in its transaction can change what that claim would decide, so :class:`EagerActivities`
decides it as each activity is scheduled (``scheduling.schedule`` asks :meth:`~EagerActivities.
lease`) and the rows go in leased: the task with the claim's lease, fence and deadline columns,
its attempt row, the execution started. :func:`hand_leased` then records their
``ActivityStarted`` events after the completion's own and answers the tasks. Otherwise (a
closing completion, a drain that cannot be read) the activities go in ready and
:func:`hand_scheduled` claims them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from durable_workflow.protocol.history import EventType
from durable_workflow.protocol.wire import ActivityTask

from ...store.rows import ActivityExecutionRow, ActivityTaskRow, RunRow, WorkerRow
from ...store.statuses import ActivityAttemptStatus, ActivityExecutionStatus, ActivityTaskStatus
from ..history.rows import append
from ..transaction import Tx
from ..util import new_id, seconds
from . import deadlines
from .claims import activity_event_ids, claim_activity_task, task_object

#: An eager hand-out's read of the worker: its live registration (``None``: none) and whether its
#: cohort is drained (``None``: not known).
ResolveWorker = Callable[[Tx], Awaitable[tuple[WorkerRow | None, bool | None]]]


@dataclass
class Leased:
    """One activity leased as it was scheduled: its rows as inserted."""

    run: RunRow
    task: ActivityTaskRow
    execution: ActivityExecutionRow
    attempt_id: str


@dataclass
class EagerActivities:
    """A completion's eager activity hand-out, decided as its activities are scheduled.

    ``engaged`` once the first activity asked (the worker is read then, once); ``certain`` is
    false when the claim's decision cannot be made here (the drain not known): every activity
    then goes in ready and :func:`hand_scheduled` claims as before.
    """

    resolve: ResolveWorker
    slots: int
    lease_seconds: float
    engaged: bool = False
    certain: bool = True
    worker: WorkerRow | None = None
    draining: bool = False
    leased: list[Leased] = field(default_factory=list)

    async def lease(
        self, tx: Tx, run: RunRow, execution: dict[str, Any], task: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The claim's columns for ``task`` (about to be inserted ready) if it is handed out.

        ``execution`` and ``task`` are updated to their leased form; returns the attempt row to
        insert with them, or ``None`` (inserted ready: another queue or type, no slot left, a
        paused run, a drained cohort, a deadline already past).
        """
        if not self.engaged:
            self.engaged = True
            self.worker, draining = await self.resolve(tx)
            self.certain = draining is not None or self.worker is None
            self.draining = bool(draining)
        worker = self.worker
        if not self.certain or worker is None or self.draining or len(self.leased) >= self.slots:
            return None
        types = list(worker["supported_activity_types"] or [])
        if (
            task["activity_type"] not in types
            or task["task_queue"] != worker["task_queue"]
            or task["namespace"] != worker["namespace"]
            or task["status"] != ActivityTaskStatus.READY
            or deadlines.fired(task, tx.now) is not None
        ):
            return None
        # What ``claims.claim_activity_task`` writes for a new attempt of this ready task.
        attempt_id = new_id()
        timing = deadlines.claimed(execution["retry_policy"], task, tx.now)
        task.update(
            status=ActivityTaskStatus.LEASED,
            lease_owner=worker["worker_id"],
            lease_expires_at=deadlines.lease_until(tx.now + seconds(self.lease_seconds), timing),
            current_attempt_id=attempt_id,
            updated_at=tx.now,
            **timing,
        )
        tx.due(timing["timeout_at"])
        execution.update(
            status=ActivityExecutionStatus.RUNNING,
            attempt_count=int(execution["attempt_count"]) + 1,
            current_attempt_id=attempt_id,
        )
        self.leased.append(
            Leased(run, cast(ActivityTaskRow, task), cast(ActivityExecutionRow, execution), attempt_id)
        )
        return {
            "attempt_id": attempt_id,
            "task_id": task["task_id"],
            "activity_execution_id": execution["activity_execution_id"],
            "namespace": task["namespace"],
            "attempt_number": execution["attempt_count"],
            "status": ActivityAttemptStatus.RUNNING,
            "lease_owner": worker["worker_id"],
            "started_at": tx.now,
        }


async def hand_leased(tx: Tx, plan: EagerActivities) -> list[ActivityTask]:
    """Record ``ActivityStarted`` for the activities ``plan`` leased, and answer them as a poll would.

    The events follow the completion's own, in the order the claims would have appended them.
    """
    handed: list[ActivityTask] = []
    by_run: dict[str, tuple[RunRow, list[tuple[str, dict[str, Any]]]]] = {}
    for leased in plan.leased:
        number = int(leased.execution["attempt_count"])
        run_events = by_run.setdefault(leased.run["run_id"], (leased.run, []))[1]
        ids = activity_event_ids(leased.execution, leased.attempt_id, number)
        run_events.append((EventType.ACTIVITY_STARTED, ids))
        handed.append(task_object(leased.task, leased.run, leased.execution, leased.attempt_id, number))
    for run, events in by_run.values():
        await append(tx, run, events)
    return handed


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
