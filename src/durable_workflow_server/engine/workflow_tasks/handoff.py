"""A start's first workflow task handed straight to a workflow-task poll parked in this process.

The start reserves a parked poll of its queue whose worker runs the workflow type
(:meth:`..parked.ParkedPolls.reserve`) before its transaction. Its first read also answers
whether that worker's cohort is drained (``claimer_draining``, the probe a claim's candidate
query carries), beside the queue's promoted cohort the new run pins to. When the poll's claim
could take the task (:meth:`PollHandoff.lease_for`: the cohort not drained, the run's pin that
build or none; a new run is open, not paused, sticky to no one and has no other task; queue and
type were matched by the reservation) the first task goes in leased to that worker
(:class:`.eager.FirstTaskLease`), the poll's request id is recorded as a claim records it
(:func:`.claims.record_poll`) and the task is answered as the eager start answers it
(:func:`.eager.hand_first_leased`). After the commit the task is delivered to the poll
(:func:`settle`); a poll that went away meanwhile gets it handed back at once with the poll's
own release, fenced on the lease, as a cancelled claim's is. Otherwise the task is queued ready,
the poll is unreserved and the usual wake-up and claim follow.

The claim's registration rule is the parked poll's own: the registration its first probe read
(types and build id), as the probes of a poll waiting for work use it. A poll whose request id
already has a recorded lease (a retry of an earlier try) is not offered: its record belongs to
that earlier lease, and it claims as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from ...store.rows import RunRow
from ..parked import ParkedPoll, ParkedPolls, Release
from ..shapes import WorkflowTaskBody
from ..task_queues import cohorts
from ..transaction import OpenTx, Tx
from . import leases
from .claims import record_poll
from .eager import FirstTaskLease, hand_first_leased


@dataclass
class PollHandoff:
    """What one start does with the parked poll ``offer`` it reserved (see the module docstring).

    ``task``: the task answered in the transaction, to deliver after its commit (``None``: nothing
    to hand over; reset by every attempt of the transaction, :meth:`begin`).
    """

    offer: ParkedPoll
    lease_seconds: float
    lease: FirstTaskLease | None = None
    task: WorkflowTaskBody | None = None

    @property
    def build_key(self) -> str:
        """The poll's cohort (``b_build_key`` of the drain probe in the start's first read)."""
        return cohorts.build_key(self.offer.worker["build_id"])

    def begin(self) -> None:
        """A new attempt of the start's transaction: nothing leased or answered yet."""
        self.lease, self.task = None, None

    def lease_for(self, pinned: str | None, draining: bool) -> FirstTaskLease | None:
        """The first task's lease to the poll's worker, when its claim could take the task."""
        self.begin()
        if draining or not cohorts.may_claim_for(pinned, self.offer.worker["build_id"]):
            return None
        self.lease = FirstTaskLease(self.offer.worker, self.lease_seconds)
        return self.lease

    async def answer(self, tx: Tx, run: RunRow) -> WorkflowTaskBody | None:
        """The task ``lease`` inserted with ``run``, answered as the poll's claim would answer it."""
        lease = self.lease
        assert lease is not None and lease.task is not None
        self.task = await hand_first_leased(tx, lease, run, page_size=self.offer.page_size)
        poll_request_id = self.offer.poll_request_id
        if self.task is not None and poll_request_id:
            await record_poll(tx, run["namespace"], lease.worker["worker_id"], poll_request_id, lease.task)
        return self.task


async def settle(parked: ParkedPolls, handoff: PollHandoff, release: Release) -> bool:
    """After the start committed: deliver its task to the poll (``True``), else unreserve it.

    Called straight after the commit and decided before its first ``await``: no turn of the
    event loop (nor a cancellation of the start) comes between the commit and the poll's
    wake-up. On Python 3.11+ a delivered poll has answered by the time this returns (it resumes
    in the turn given up; 3.10's ``wait_for`` takes a few turns more). A poll that went away
    since the reservation (cancelled) cannot answer: the task is handed back with ``release``
    (fenced on its lease; shielded, so a start cancelled meanwhile still hands it back) and
    redelivered; should that fail, its lease runs out as any lost lease does.
    """
    task = handoff.task
    if task is None:
        parked.unreserve(handoff.offer)
        return False
    if parked.deliver(handoff.offer, task):
        # One turn of the event loop: the woken poll (its wake-up already scheduled) answers and
        # writes its response before the start goes on to render its own, so the task reaches
        # the worker first; the start's caller waits one turn longer (microseconds).
        await asyncio.sleep(0)
        return True
    await asyncio.shield(release(task))
    return False


async def hand_back(open_tx: OpenTx, namespace: str, task: WorkflowTaskBody) -> None:
    """The poll's own hand-back of ``task`` (a cancelled claim's), fenced on its lease; best effort."""
    with contextlib.suppress(Exception):  # else its lease runs out and it is redelivered
        async for txn in open_tx():
            async with txn as tx:
                await leases.release_workflow_task(
                    tx,
                    namespace,
                    task["task_id"],
                    lease_owner=task["lease_owner"],
                    workflow_task_attempt=task["workflow_task_attempt"],
                )
