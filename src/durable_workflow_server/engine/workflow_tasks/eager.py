"""Eager workflow tasks: a run's ready task leased to a named worker in the transaction that made it.

Two requests hand one out without a poll (see docs/protocol.md, "Fewer round trips"): an
activity completion whose worker asked for the run's next workflow task, and a start whose
client runs a worker for the queue in its own process. Both go through
:func:`.claims.lease_workflow_task` restricted to the run, so the poll's rules hold: the lease
and its fence, held tasks of the run, paused runs, build-id cohorts and pinning, unrenderable
histories set aside. A task handed out and never completed is redelivered like any lost lease.

On an activity completion the task can go in leased (:class:`NextTaskLease`): the wake rule
queues it through :meth:`NextTaskLease.queue`, which inserts it with the claim's lease columns
when the claim could only take that task, for that worker (the worker live, of the run's queue,
type, pinned build and a cohort not drained; the run open, not paused, not sticky to another;
no other open task of the run, checked in the insert). :func:`hand_leased` then writes what the
claim writes of the run and answers the task. Otherwise it is queued as usual and
:func:`hand_ready_task` claims it.

On a start the first task goes in leased (:class:`FirstTaskLease`) when the claim could only
take it, for that worker (:func:`first_task_claimable`: the worker live, of the start's queue,
type and pinned build, a cohort not drained; a new run is open, not paused, sticky to no one and
has no other task). The run is inserted as the claim leaves it (``running``) and
:func:`hand_first_leased` answers the task as a poll would. Otherwise the task is queued ready
and :func:`hand_ready_task` claims it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from ...store.rows import RunRow, WorkerRow, WorkflowTaskRow
from ...store.statuses import RunStatus
from ...store.statuses import WorkflowTaskStatus as S
from ..rendering import bad_events
from ..runs.rows import is_paused, is_terminal_run, update_run
from ..shapes import WorkflowTaskBody
from ..task_queues import cohorts
from ..transaction import Tx
from ..util import seconds
from . import rows, sticky
from .claims import lease_workflow_task, set_aside_unrenderable, workflow_task_payload

#: The worker's live registration (``None``: none) and whether its cohort is drained (``None``:
#: not known).
ResolveWorker = Callable[[Tx], Awaitable[tuple[WorkerRow | None, bool | None]]]


@dataclass
class NextTaskLease:
    """An activity completion's eager workflow task, inserted leased when that is certain.

    ``engaged`` once the wake rule queued a task through :meth:`queue` (the worker is read then);
    ``leased`` the task row as inserted leased, else ``None`` (queued ready, or not queued).
    """

    resolve: ResolveWorker
    lease_seconds: float
    sticky_window: float
    engaged: bool = False
    worker: WorkerRow | None = None
    leased: WorkflowTaskRow | None = None

    async def queue(self, tx: Tx, run: RunRow) -> str | None:
        """Queue ``run``'s next workflow task (``rows.ensure_workflow_task``), leased if certain."""
        self.engaged = True
        self.worker, draining = await self.resolve(tx)
        values = rows.queued_values(tx, run)
        worker = self.worker
        if worker is not None and draining is False and self._claimable(worker, run, values, tx):
            values.update(
                status=S.LEASED,
                lease_owner=worker["worker_id"],
                lease_expires_at=tx.now + seconds(self.lease_seconds),
                attempt_count=1,
                history_sequence=run["last_history_sequence"],
            )
            if (await tx.conn.execute(rows.INSERT_LEASED_UNLESS_OPEN, values)).rowcount == 1:
                tx.wakes.add(("workflow", run["namespace"], run["task_queue"]))
                self.leased = cast(WorkflowTaskRow, {**values, "workflow_update_id": None})
                return str(values["task_id"])
        return await rows.ensure_workflow_task(tx, run)

    def _claimable(self, worker: WorkerRow, run: RunRow, task: dict[str, Any], tx: Tx) -> bool:
        """What the claim's candidate query and attempt ask of this task, for this worker."""
        types = list(worker["supported_workflow_types"] or [])
        return (
            worker["namespace"] == run["namespace"]
            and worker["task_queue"] == run["task_queue"]
            and run["workflow_type"] in types
            and not is_terminal_run(run)
            and not is_paused(run)
            and cohorts.may_claim_for(run["pinned_build_key"], worker["build_id"])
            and not sticky.held_for_another(task, worker["worker_id"], tx.now, self.sticky_window)
        )


def first_task_claimable(
    worker: WorkerRow,
    draining: bool | None,
    *,
    namespace: str,
    queue: str,
    workflow_type: str,
    pinned: str | None,
) -> bool:
    """What the claim's candidate query and attempt ask of a new run's first task, for ``worker``."""
    types = list(worker["supported_workflow_types"] or [])
    return (
        draining is False
        and worker["namespace"] == namespace
        and worker["task_queue"] == queue
        and workflow_type in types
        and cohorts.may_claim_for(pinned, worker["build_id"])
    )


@dataclass
class FirstTaskLease:
    """A start's first workflow task, inserted leased to ``worker`` (``task``: the row as inserted)."""

    worker: WorkerRow
    lease_seconds: float
    task: WorkflowTaskRow | None = None

    async def insert(self, tx: Tx, run: RunRow) -> None:
        """Insert ``run``'s first task with the claim's lease columns (the run is new: no other task)."""
        values = self.values(tx, run)
        await tx.conn.execute(rows.INSERT, values)
        self.task = cast(WorkflowTaskRow, values)

    def values(self, tx: Tx, run: RunRow) -> dict[str, Any]:
        """The columns :meth:`insert` writes; a caller inserting them itself sets :attr:`task` to them."""
        values = rows.queued_values(tx, run)
        values.update(
            status=S.LEASED,
            lease_owner=self.worker["worker_id"],
            lease_expires_at=tx.now + seconds(self.lease_seconds),
            attempt_count=values["attempt_count"] + 1,
            history_sequence=run["last_history_sequence"],
            workflow_update_id=None,
        )
        return values


async def hand_first_leased(
    tx: Tx, lease: FirstTaskLease, run: RunRow, *, page_size: int
) -> WorkflowTaskBody | None:
    """The start's task ``lease`` inserted leased, answered as a poll would."""
    task = lease.task
    assert task is not None and run["status"] == RunStatus.RUNNING  # inserted as the claim leaves it
    payload = await workflow_task_payload(tx, task, run, page_size)
    if bad_events(payload["history_events"]):
        await set_aside_unrenderable(tx, task, run)
        return None
    return payload


async def hand_leased(tx: Tx, plan: NextTaskLease, run: RunRow, *, page_size: int) -> WorkflowTaskBody | None:
    """The task ``plan`` inserted leased, answered as a poll would: the claim's run write first."""
    task, worker = plan.leased, plan.worker
    assert task is not None and worker is not None
    run_values = sticky.after_claim(run, worker["worker_id"])
    if run["status"] == RunStatus.PENDING or run["status"] == RunStatus.WAITING:
        run_values["status"] = RunStatus.RUNNING
    await update_run(tx, run, **run_values)
    payload = await workflow_task_payload(tx, task, run, page_size)
    if bad_events(payload["history_events"]):
        await set_aside_unrenderable(tx, task, run)
        return None
    return payload


async def hand_ready_task(
    tx: Tx,
    worker: WorkerRow,
    run: RunRow,
    *,
    lease_seconds: float,
    page_size: int,
    sticky_window: float,
    held: bool = False,
    new_run: bool = False,
) -> WorkflowTaskBody | None:
    """Lease ``run``'s due workflow task to ``worker``, if it may take it; the poll's task object.

    ``held``: this transaction has ``run`` locked (or created it) and ``run`` is its current
    row. ``new_run``: this transaction created the run, so none of its tasks was ever leased.
    """
    types = list(worker["supported_workflow_types"] or [])
    if not types or worker["task_queue"] != run["task_queue"]:
        return None  # it would never poll this task
    payload, _ = await lease_workflow_task(
        tx,
        namespace=run["namespace"],
        queue=run["task_queue"],
        worker_id=worker["worker_id"],
        workflow_types=types,
        lease_seconds=lease_seconds,
        build_id=worker["build_id"],
        page_size=page_size,
        run_id=run["run_id"],
        sticky_window=sticky_window,
        held_run=run if held or new_run else None,
        leased=not new_run,
    )
    return payload
