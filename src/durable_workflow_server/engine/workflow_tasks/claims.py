"""Leasing a workflow task to a poller, and the task object the poll answers with."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from ...store.rows import RunRow, WorkflowTaskRow
from ...store.statuses import RunStatus, WorkflowTaskStatus
from ..external_storage.stored import wire_envelope
from ..history.pages import history_page
from ..queues import claim_first, claim_waiting
from ..rendering import bad_events, log_unrenderable
from ..runs.rows import is_paused, is_terminal_run, load_run, try_lock_run, update_run, write_pending
from ..shapes import WorkflowTaskBody
from ..task_queues import cohorts
from ..transaction import Tx
from ..util import rfc3339, seconds
from ..workers.registry import poll_lease_holds
from . import rows, sticky


class LeaseRaced(Exception):
    """A claim's run was moved on for a lease that another transaction's lease then forestalled.

    Reported as a serialization failure (SQLSTATE ``40001``), so the transaction runs again whole
    (``engine.transaction``): what it wrote to the run is rolled back with it.
    """

    sqlstate = "40001"


def _run_id(candidate: WorkflowTaskRow) -> str:
    return str(candidate["run_id"])


async def claim_workflow_task(
    tx: Tx,
    *,
    namespace: str,
    queue: str,
    worker_id: str,
    workflow_types: list[str],
    lease_seconds: float,
    build_id: str | None = None,
    busy: list[WorkflowTaskRow] | None = None,
    run_id: str | None = None,
    sticky_window: float = sticky.DEFAULT_STICKY_SCHEDULE_TO_START_SECONDS,
    held_run: RunRow | None = None,
    leased: bool = True,
    poll_request_id: str | None = None,
) -> tuple[tuple[WorkflowTaskRow, RunRow] | None, list[WorkflowTaskRow]]:
    """Lease the next due workflow task on ``queue``: ``((task, run) or None, busy candidates)``.

    Without ``busy`` this is the fast pass over the queue; with it, the waiting pass over those
    candidates (in a fresh transaction; see :mod:`..queues`). ``build_id`` is the claimer's
    registered build: a drained cohort claims nothing, and a run pinned to another build is
    skipped (see :mod:`..task_queues.cohorts`). ``run_id`` restricts the candidates to that
    run's tasks (an eager hand-out, see :mod:`.eager`); every other rule is the poll's.
    A task another worker holds sticky is skipped while it is younger than ``sticky_window``
    seconds (see :mod:`.sticky`). ``held_run``: the run, already locked by this transaction (an
    eager hand-out inside the completion that locked it), so it is not tried again.
    ``leased=False``: none of the candidates can have been leased (the run is new), so the
    expired-lease query is left out. ``poll_request_id``: the poll the lease goes to, written by
    the lease's own update so a retry of that poll gets it back (:func:`poll_columns`).
    """

    # Runs the fast pass locked and moved on with CLAIM_RUN, by run id: their candidate's lease
    # is all that is left to write.
    moved_on: dict[str, str] = {}

    async def try_run(candidate: WorkflowTaskRow) -> RunRow | None:
        """The candidate's run, tried without waiting (``None``: another transaction holds it)."""
        run_id = _run_id(candidate)
        if not sticky.held_for_another(candidate, worker_id, tx.now, sticky_window):
            await write_pending(tx, run_id)
            params = {
                "b_run_id": run_id,
                "b_task_id": candidate["task_id"],
                "b_worker_id": worker_id,
                "b_build_key": cohorts.build_key(build_id),
                "b_now": tx.now,
            }
            moved = cast(RunRow | None, await tx.one(rows.CLAIM_RUN, params))
            if moved is not None:
                moved_on[run_id] = candidate["task_id"]
                return moved
        return await try_lock_run(tx, run_id)

    async def attempt(
        candidate: WorkflowTaskRow, run: RunRow | None
    ) -> tuple[WorkflowTaskRow, RunRow] | None:
        if run is not None and moved_on.get(run["run_id"]) == candidate["task_id"]:
            return await lease(candidate, run, moved_on=True)
        if sticky.held_for_another(candidate, worker_id, tx.now, sticky_window):
            return None  # the run's sticky worker takes it (re-checked: a re-locked candidate)
        if run is None or is_terminal_run(run):
            await tx.conn.execute(rows.CANCEL, {"b_task_id": candidate["task_id"]})
            return None
        if is_paused(run):
            # Queued before the pause reached it (a requeued lease, a task another module
            # inserted): held back like the rest of the run's work.
            await tx.conn.execute(
                rows.UPDATE,
                {
                    "b_task_id": candidate["task_id"],
                    "status": WorkflowTaskStatus.PAUSED,
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "updated_at": tx.now,
                },
            )
            return None
        if not cohorts.may_claim_for(run["pinned_build_key"], build_id):
            return None  # pinned to another build: only that build's workers take it
        return await lease(candidate, run, moved_on=False)

    async def lease(
        candidate: WorkflowTaskRow, run: RunRow, *, moved_on: bool
    ) -> tuple[WorkflowTaskRow, RunRow] | None:
        """The candidate's fenced lease; ``moved_on``: CLAIM_RUN has written the run already."""
        lease_expires_at = tx.now + seconds(lease_seconds)
        values = {
            "status": WorkflowTaskStatus.LEASED,
            "lease_owner": worker_id,
            "lease_expires_at": lease_expires_at,
            "attempt_count": candidate["attempt_count"] + 1,
            "updated_at": tx.now,
            "history_sequence": run["last_history_sequence"],
            **poll_columns(poll_request_id, lease_expires_at),
        }
        # Not while another task of the run is leased (a signal or a step's result queued this
        # one meanwhile): it waits until that one completes, then sees everything in one history.
        result = await tx.conn.execute(
            rows.LEASE_UNHELD,
            {
                "b_run_id": run["run_id"],
                "b_task_id": candidate["task_id"],
                "b_status": candidate["status"],
                "b_attempt_count": candidate["attempt_count"],
                "b_now": tx.now,
                **values,
            },
        )
        if result.rowcount != 1:
            if moved_on:
                # CLAIM_RUN moved the run on for this lease: only a lease committed between its
                # snapshot and its lock (PostgreSQL) gets here. The whole claim runs again.
                raise LeaseRaced(candidate["task_id"])
            return None
        if moved_on:
            return cast(WorkflowTaskRow, {**candidate, **values}), run
        # Another worker's lease (with the full history) ends the run's stickiness.
        run_values = sticky.after_claim(run, worker_id)
        if run["status"] == RunStatus.PENDING or run["status"] == RunStatus.WAITING:
            run_values["status"] = RunStatus.RUNNING
        await update_run(tx, run, **run_values)
        return cast(WorkflowTaskRow, {**candidate, **values}), run

    if busy is not None:

        async def relock(candidate: WorkflowTaskRow) -> WorkflowTaskRow | None:
            fresh = await tx.one(tx.store.lock(rows.OPEN_TASK), {"b_task_id": candidate["task_id"]})
            return cast(WorkflowTaskRow | None, fresh)

        if await cohorts.cohort_draining(tx, namespace, queue, build_id):
            return None, []
        return await claim_waiting(tx, busy, _run_id, relock, attempt), []
    # None for a drained cohort (its leases run on) and none pinned to another build.
    claimer = cohorts.build_key(build_id)
    sticky_params = sticky.claim_params(worker_id, tx.now, sticky_window)
    if run_id is None:
        due = await rows.CANDIDATES.due(
            tx, namespace, queue, workflow_types, b_build_key=claimer, **sticky_params
        )
    else:
        due = await rows.CANDIDATES_OF_RUN.due(
            tx,
            namespace,
            queue,
            workflow_types,
            leased=leased,
            b_build_key=claimer,
            b_run_id=run_id,
            **sticky_params,
        )
    # CLAIM_RUN only where the claim is its own transaction (a poll, ``run_id`` unset): a lease
    # it forestalled runs that transaction again whole (LeaseRaced), which a completion or a
    # start handing out its run's task eagerly must not do for a task it may simply not hand out.
    return await claim_first(
        tx,
        cast(list[WorkflowTaskRow], due),
        _run_id,
        attempt,
        held=held_run,
        try_run=try_run if run_id is None else None,
    )


async def lease_workflow_task(
    tx: Tx,
    *,
    namespace: str,
    queue: str,
    worker_id: str,
    workflow_types: list[str],
    lease_seconds: float,
    build_id: str | None,
    page_size: int,
    busy: list[WorkflowTaskRow] | None = None,
    run_id: str | None = None,
    poll_request_id: str | None = None,
    sticky_window: float = sticky.DEFAULT_STICKY_SCHEDULE_TO_START_SECONDS,
    held_run: RunRow | None = None,
    leased: bool = True,
) -> tuple[WorkflowTaskBody | None, list[WorkflowTaskRow]]:
    """:func:`claim_workflow_task`, answered as the task object a poll returns.

    A claimed task whose history cannot be rendered is set aside and the next candidate tried;
    with ``poll_request_id`` the lease is remembered for a retry of that poll (:func:`poll_columns`).
    Every path that hands a workflow task to a worker (the poll, the eager hand-outs) comes here.
    """
    while True:
        claimed, still_busy = await claim_workflow_task(
            tx,
            namespace=namespace,
            queue=queue,
            worker_id=worker_id,
            workflow_types=workflow_types,
            lease_seconds=lease_seconds,
            build_id=build_id,
            busy=busy,
            run_id=run_id,
            sticky_window=sticky_window,
            held_run=held_run,
            leased=leased,
            poll_request_id=poll_request_id,
        )
        if claimed is None:
            return None, still_busy
        task, run = claimed
        payload = await workflow_task_payload(tx, task, run, page_size)
        if not bad_events(payload["history_events"]):
            return payload, []
        # A set-aside task is no longer a candidate, so this loop moves on to the next.
        await set_aside_unrenderable(tx, task, run)
        if busy:
            busy = [candidate for candidate in busy if candidate["task_id"] != task["task_id"]]


async def workflow_task_payload(
    tx: Tx, task: WorkflowTaskRow, run: RunRow, page_size: int
) -> WorkflowTaskBody:
    """The ``task`` object of a workflow-task poll (see docs/protocol.md).

    The run's sticky worker gets only the events after what its kept replay has seen.
    """
    after = sticky.partial_after(task, run)
    page = await history_page(tx, run, after=after or 0, page_size=page_size)
    lease_owner, lease_expires_at = task["lease_owner"], task["lease_expires_at"]
    assert lease_owner is not None and lease_expires_at is not None  # the task is leased
    blob = run["input_blob"]
    arguments = wire_envelope(run["payload_codec"], blob) if blob is not None else None
    # The resume context names only an update a task delivers (SDK 0.4.84 answers such a task
    # with that update's command alone); otherwise a task never names the step that woke it.
    update_id = task.get("workflow_update_id")
    return {
        "task_id": task["task_id"],
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_task_attempt": task["attempt_count"],
        "workflow_type": run["workflow_type"],
        "payload_codec": run["payload_codec"],
        "arguments": arguments,
        "run_status": run["status"],
        "last_history_sequence": run["last_history_sequence"],
        **page,
        "task_queue": task["task_queue"],
        "connection": None,
        "compatibility": None,
        "lease_owner": lease_owner,
        "lease_expires_at": rfc3339(lease_expires_at),
        "workflow_wait_kind": "update" if update_id else None,
        "open_wait_id": f"update:{update_id}" if update_id else None,
        "resume_source_kind": "workflow_update" if update_id else None,
        "resume_source_id": update_id,
        "workflow_update_id": update_id,
        "workflow_signal_id": None,
        "signal_name": None,
        "signal_wait_id": None,
        "workflow_command_id": None,
        "activity_execution_id": None,
        "activity_attempt_id": None,
        "activity_type": None,
        "child_call_id": None,
        "child_workflow_run_id": None,
        "workflow_sequence": None,
        "workflow_event_type": None,
        "timer_id": None,
        "condition_wait_id": None,
        "condition_key": None,
        "condition_definition_fingerprint": None,
        **(sticky.partial_fields(after) if after is not None else {}),
    }


async def set_aside_unrenderable(tx: Tx, task: WorkflowTaskRow, run: RunRow) -> None:
    """Take a just-leased task whose payload cannot be rendered out of the queue, loudly.

    Its run's history holds a value stored by an older build that no JSON answer can carry, so
    no worker could ever take the task; left in the queue it would come back after every lease
    and hold up the tasks behind it. It is marked ``failed`` (never redelivered) and the run's
    describe and history reads name the bad value (see :mod:`..rendering`).
    """
    log_unrenderable(run["workflow_id"], run["run_id"], ["workflow task payload"])
    await tx.conn.execute(
        rows.UPDATE,
        {
            "b_task_id": task["task_id"],
            "status": WorkflowTaskStatus.FAILED,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": tx.now,
        },
    )


# How long after the lease's first expiry a retry of its poll still looks for it (the lease must
# hold too): a transport retry comes within seconds, and a renewed lease is not handed out again.
POLL_RETRY_SECONDS = 5


def poll_columns(poll_request_id: str | None, lease_expires_at: datetime) -> dict[str, Any]:
    """The task columns a lease writes so a retry of poll ``poll_request_id`` gets it back.

    Every lease writes them: ``None`` (handed out without a poll id: eagerly, or to a poll that
    sent none) clears an earlier poll's id, so a retry of that poll never gets a later lease.
    """
    return {
        "poll_request_id": poll_request_id or None,
        "poll_expires_at": lease_expires_at + seconds(POLL_RETRY_SECONDS) if poll_request_id else None,
    }


async def record_poll(
    tx: Tx, namespace: str, worker_id: str, poll_request_id: str, task: WorkflowTaskRow
) -> None:
    """Remember which lease a poll got, so a retry of that poll gets the same one.

    For a hand-out that leased ``task`` without the claim (whose update writes
    :func:`poll_columns` itself): one update, only while the task holds that very lease.
    """
    lease_expires_at = task["lease_expires_at"]
    assert lease_expires_at is not None  # just leased
    await tx.conn.execute(
        rows.RECORD_POLL,
        {
            "b_task_id": task["task_id"],
            "b_namespace": namespace,
            "b_lease_owner": worker_id,
            "b_attempt_count": task["attempt_count"],
            **poll_columns(poll_request_id, lease_expires_at),
        },
    )


async def cached_poll(
    tx: Tx,
    namespace: str,
    worker_id: str,
    poll_request_id: str,
    page_size: int,
    *,
    known: tuple[str, int] | bool | None = True,
) -> WorkflowTaskBody | None:
    """The task a poll with this ``poll_request_id`` already leased, while that lease holds.

    ``known``: the ``(task id, attempt)`` the caller read for it already, or ``None`` when it
    read that there is none (``True``: not read yet).
    """
    if known is True:
        key = {"b_namespace": namespace, "b_worker_id": worker_id, "b_poll_request_id": poll_request_id}
        polled = [row for row in await tx.all(rows.POLLED, key) if poll_lease_holds(row, tx.now)]
        known = (polled[0]["task_id"], polled[0]["attempt_count"]) if polled else None
    if known is None or known is False:
        return None
    cached_task_id, cached_attempt = known
    task = cast(WorkflowTaskRow | None, await tx.one(rows.TASK, {"b_task_id": cached_task_id}))
    if (
        task is None
        or task["status"] != WorkflowTaskStatus.LEASED
        or task["lease_owner"] != worker_id
        or task["attempt_count"] != cached_attempt
        or task["lease_expires_at"] is None
        or task["lease_expires_at"] <= tx.now
    ):
        return None
    run = await load_run(tx, task["run_id"], lock=False)
    assert run is not None
    return await workflow_task_payload(tx, task, run, page_size)
