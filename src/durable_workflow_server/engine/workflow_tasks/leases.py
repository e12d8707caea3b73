"""Workflow-task leases: the ownership fence, handing a lease back and lease expiry.

Every release is fenced on the exact lease handed out (owner and attempt), so a release that
arrives late can never take a task back from the worker that holds it now. The next claim is a
new attempt (``workflow_task_attempt + 1``), which fences out anything the vanished holder might
still send.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import cast

from durable_workflow.protocol import errors as reasons

from ...store.rows import RunRow, WorkflowTaskRow
from ...store.statuses import RunStatus, WorkflowTaskStatus
from ..errors import DomainError
from ..history.events import stop_reason
from ..row_split import PrefixSplit
from ..runs.rows import RUN_PREFIX, is_terminal_run
from ..transaction import OpenTx, Tx
from ..util import rfc3339
from ..workers.liveness import fresh_lease, silence_cutoff, silent_leases
from ..workers.rows import EAGER_WORKER_PREFIX, registered
from . import rows, sticky

BATCH = 100


_SPLIT_FENCE = PrefixSplit(RUN_PREFIX, EAGER_WORKER_PREFIX)


async def fence(
    tx: Tx, namespace: str, task_id: str, lease_owner: str, attempt: int, *, eager_worker: bool = False
) -> tuple[WorkflowTaskRow, RunRow]:
    """The leased task and its run, both locked, if ``(lease_owner, attempt)`` holds the lease.

    ``eager_worker``: the completion asks for an eager hand-out; ``lease_owner``'s registration
    is read in the same statement, for ``workers.registry.eager_registration`` (``tx.eager_workers``).
    """
    # One read, locking the run before the task: the engine's lock order (see runs.rows).
    params = {"b_task_id": task_id, "b_namespace": namespace}
    if eager_worker:
        found = await tx.one(rows.TASK_AND_RUN_AND_WORKER_IN, {**params, "b_worker_id": lease_owner})
    else:
        found = await tx.one(rows.TASK_AND_RUN_IN, params)
    if found is None:
        raise DomainError(
            reasons.TASK_NOT_FOUND, f"Workflow task [{task_id}] was not found.", task_id=task_id
        )
    # One pass over the joined row (the worker's part is empty unless ``eager_worker``).
    task_row, run_row, worker_row = _SPLIT_FENCE(found)
    if eager_worker:
        tx.eager_workers[(namespace, lease_owner)] = registered(worker_row)
    run = cast(RunRow, run_row)
    task = cast(WorkflowTaskRow, task_row)
    if task["status"] != WorkflowTaskStatus.LEASED:
        if is_terminal_run(run):
            raise DomainError(
                reasons.RUN_CLOSED,
                "The workflow run is closed.",
                task_id=task_id,
                stop_reason=stop_reason(run["status"]),
                cancel_requested=run["status"] in (RunStatus.CANCELLED, RunStatus.TERMINATED),
                can_continue=False,
                run_status=run["status"],
                run_closed_reason=run["closed_reason"],
                run_closed_at=rfc3339(run["closed_at"]),
            )
        raise DomainError(
            reasons.TASK_NOT_LEASED,
            f"Workflow task [{task_id}] is not leased.",
            task_id=task_id,
            task_status=task["status"],
        )
    if task["lease_expires_at"] is not None and task["lease_expires_at"] <= tx.now:
        raise DomainError(
            reasons.LEASE_EXPIRED,
            f"The lease on workflow task [{task_id}] has expired.",
            task_id=task_id,
            task_status=task["status"],
            lease_owner=task["lease_owner"],
            lease_expires_at=rfc3339(task["lease_expires_at"]),
        )
    if task["lease_owner"] != lease_owner:
        raise DomainError(
            reasons.LEASE_OWNER_MISMATCH,
            f"Workflow task [{task_id}] is leased to another worker.",
            task_id=task_id,
            lease_owner=task["lease_owner"],
        )
    if int(task["attempt_count"]) != int(attempt):
        raise DomainError(
            reasons.WORKFLOW_TASK_ATTEMPT_MISMATCH,
            f"Workflow task [{task_id}] is at attempt {task['attempt_count']}, not {attempt}.",
            task_id=task_id,
            current_attempt=task["attempt_count"],
        )
    return task, run


async def requeue_workflow_task(
    tx: Tx, task: WorkflowTaskRow, reason: str, *, unsticky: bool = False
) -> bool:
    """Put the leased workflow ``task`` (as read) back to ``ready``; ``False`` if its lease changed.

    One ready task per run is enough: if the run already has another, this one retires instead
    (the run still gets its next task at once). ``unsticky``: the holder is stuck or gone, so
    the task is no longer held for the run's sticky worker.
    """
    other = await tx.one(rows.OTHER_READY_OF_RUN, {"b_run_id": task["run_id"], "b_task_id": task["task_id"]})
    result = await tx.conn.execute(
        rows.REQUEUE_UNSTICKY if unsticky else rows.REQUEUE,
        {
            "b_task_id": task["task_id"],
            "b_attempt_count": task["attempt_count"],
            "b_lease_owner": task["lease_owner"],
            "b_new_status": WorkflowTaskStatus.FAILED if other is not None else WorkflowTaskStatus.READY,
            "b_now": tx.now,
            "b_reason": reason,
        },
    )
    if result.rowcount != 1:
        return False
    tx.wakes.add(("workflow", task["namespace"], task["task_queue"]))
    return True


async def release_workflow_task(
    tx: Tx, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
) -> bool:
    """Release the lease ``(lease_owner, workflow_task_attempt)`` on ``task_id`` if it still holds."""
    key = {"b_task_id": task_id, "b_namespace": namespace}
    task = cast(WorkflowTaskRow | None, await tx.one(tx.store.lock(rows.TASK_IN), key))
    if (
        task is None
        or task["status"] != WorkflowTaskStatus.LEASED
        or task["lease_owner"] != lease_owner
        or int(task["attempt_count"]) != int(workflow_task_attempt)
    ):
        return False
    return await requeue_workflow_task(tx, task, "released: the poller hung up before receiving the task")


async def expire_leases(open_tx: OpenTx) -> int:
    """Make workflow tasks whose lease ran out claimable again (the old holder is fenced)."""
    async for txn in open_tx():
        async with txn as tx:
            params = {"b_now": tx.now, "b_limit": BATCH}
            expired = cast(list[WorkflowTaskRow], await tx.all(tx.store.claim(rows.EXPIRED_LEASES), params))
            for task in expired:
                await requeue_workflow_task(tx, task, "workflow task lease expired", unsticky=True)
            return len(expired)
    raise AssertionError("unreachable: every attempt returns or raises")


async def release_silent(open_tx: OpenTx, liveness: float, observed_since: datetime | None = None) -> int:
    """Worker liveness: requeue the tasks of registered workers silent for ``liveness`` seconds,
    and declare every such worker that runs keep as their sticky worker dead, lease or not.

    One bounded batch per pass; the loop's next pass takes the rest (``silence_cutoff`` says
    who is silent, and why nothing is released right after this process could not see the
    database). Returns the number of leases released.
    """
    silent: list[WorkflowTaskRow] = []
    keepers: list[tuple[str, str]] = []
    async for txn in open_tx():
        async with txn as tx:
            found = await silent_leases(tx, rows.SILENT_LEASES, liveness, observed_since, BATCH)
            silent = cast(list[WorkflowTaskRow], found)
            for task in silent:
                await requeue_workflow_task(
                    tx, task, "released: the worker stopped heartbeating", unsticky=True
                )
            # A worker that died holding no lease is just as dead: found by its silence alone
            # (a plain read: the runs are locked only by the transaction below).
            cutoff = silence_cutoff(tx.now, liveness, observed_since)
            keepers = await sticky.silent_keepers(tx, cutoff, BATCH) if cutoff is not None else []
    # Declared dead: the runs it kept are anyone's at once, not after the sticky window. A
    # transaction of its own, since this one holds task rows and that one locks runs first.
    holders = {(task["namespace"], str(task["lease_owner"])) for task in silent if task["lease_owner"]}
    dead = sorted(holders | set(keepers))
    if dead:
        async for txn in open_tx():
            async with txn as tx:
                for namespace, owner in dead:
                    await sticky.end_for_worker(tx, namespace, owner)
    return len(silent)


async def hand_back(
    tx: Tx, namespace: str, worker_id: str, keep: Collection[str], reason: str, grace: float | None = None
) -> int:
    """Requeue every workflow task leased to ``worker_id`` except the tasks in ``keep``.

    The re-poll hand-back (``held_task_ids``) and the stop notice (``keep`` empty) come here.
    ``grace``: leases granted or renewed less than that many seconds ago are kept too
    (``workers.liveness.fresh_lease``).
    """
    params = {"b_namespace": namespace, "b_worker_id": worker_id}
    leased = cast(list[WorkflowTaskRow], await tx.all(tx.store.claim(rows.LEASES_OF_WORKER), params))
    count = 0
    for task in leased:
        if task["task_id"] in keep or fresh_lease(task, tx.now, grace):
            continue
        if await requeue_workflow_task(tx, task, reason):
            count += 1
    return count
