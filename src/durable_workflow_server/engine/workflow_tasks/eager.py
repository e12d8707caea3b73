"""Eager workflow tasks: a run's ready task leased to a named worker in the transaction that made it.

Two requests hand one out without a poll (see docs/protocol.md, "Fewer round trips"): an
activity completion whose worker asked for the run's next workflow task, and a start whose
client runs a worker for the queue in its own process. Both go through
:func:`.claims.lease_workflow_task` restricted to the run, so the poll's rules hold: the lease
and its fence, held tasks of the run, paused runs, build-id cohorts and pinning, unrenderable
histories set aside. A task handed out and never completed is redelivered like any lost lease.
"""

from __future__ import annotations

from ...store.rows import RunRow, WorkerRow
from ..shapes import WorkflowTaskBody
from ..transaction import Tx
from .claims import lease_workflow_task


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
