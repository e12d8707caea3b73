"""``workflow_tasks`` statements, and queuing a workflow task for a run."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import RunRow
from ...store.statuses import TERMINAL_RUN_STATUSES, RunStatus
from ...store.statuses import WorkflowTaskStatus as S
from ..queues import Candidates, still_due
from ..runs.rows import RUN_COLUMNS, is_paused, run_of
from ..task_queues.rows import CLAIMER_NOT_DRAINED
from ..transaction import Tx
from ..util import new_id
from ..workers.rows import EAGER_WORKER_COLUMNS, EAGER_WORKER_ON
from .sticky import FREE_FOR_CLAIMER

_wt, _wr = t.workflow_tasks, t.workflow_runs
_OPEN = (S.READY, S.LEASED)

INSERT = sa.insert(_wt)
# The merge rule's insert in one statement: a new plain task unless one already waits (as
# QUEUED_PLAIN_OF_RUN finds it); ``rowcount`` says which. Its values are the parameters.
_QUEUED_COLUMNS = (
    "task_id", "run_id", "workflow_id", "namespace", "task_queue", "workflow_type", "status",
    "available_at", "attempt_count", "created_at", "updated_at", "pinned_build_key", "sticky_worker_id",
)  # fmt: skip
_waiting = _wt.alias("waiting")
INSERT_UNLESS_QUEUED = sa.insert(_wt).from_select(
    list(_QUEUED_COLUMNS),
    sa.select(*(sa.bindparam(name, type_=_wt.c[name].type) for name in _QUEUED_COLUMNS)).where(
        ~sa.exists().where(
            _waiting.c.run_id == sa.bindparam("run_id"),
            _waiting.c.status.in_((S.READY, S.PAUSED)),
            _waiting.c.workflow_update_id.is_(None),
        )
    ),
)
# An eager hand-out's task, inserted already leased (the claim's lease columns with the queued
# ones) unless the run has another open task: one the merge rule would merge into, a leased one
# that would hold this one back, or an older one the claim would take first. Then nothing goes in
# (``rowcount`` 0) and the task is queued and claimed as usual.
_LEASED_COLUMNS = (*_QUEUED_COLUMNS, "lease_owner", "lease_expires_at", "history_sequence")
_open = _wt.alias("open")
INSERT_LEASED_UNLESS_OPEN = sa.insert(_wt).from_select(
    list(_LEASED_COLUMNS),
    sa.select(*(sa.bindparam(name, type_=_wt.c[name].type) for name in _LEASED_COLUMNS)).where(
        ~sa.exists().where(
            _open.c.run_id == sa.bindparam("run_id"),
            _open.c.status.in_((S.READY, S.PAUSED, S.LEASED)),
        )
    ),
)
TASK = sa.select(_wt).where(_wt.c.task_id == sa.bindparam("b_task_id"))
# The task while it can still be claimed (ready, or leased with a lease that may have expired).
OPEN_TASK = sa.select(_wt).where(_wt.c.task_id == sa.bindparam("b_task_id"), _wt.c.status.in_(_OPEN))
TASK_IN = sa.select(_wt).where(
    _wt.c.task_id == sa.bindparam("b_task_id"), _wt.c.namespace == sa.bindparam("b_namespace")
)
RUN_OF_TASK_IN = run_of(_wt, "task_id", in_namespace=True)
# The fence's one read: the task and its run (``RUN_COLUMNS``), both locked where the database has
# row locks, the run first (``FOR UPDATE OF`` locks in the order it names): the engine's lock order.
TASK_AND_RUN_IN = (
    sa.select(_wt, *RUN_COLUMNS)
    .select_from(_wr.join(_wt, _wt.c.run_id == _wr.c.run_id))
    .where(_wt.c.task_id == sa.bindparam("b_task_id"), _wt.c.namespace == sa.bindparam("b_namespace"))
    .with_for_update(of=[_wr, _wt])
)
# Its eager variant (a completion asking for an eager hand-out): the completing worker's
# registration too (``workers.rows.EAGER_WORKER_COLUMNS``, ``b_worker_id``), read, not locked.
TASK_AND_RUN_AND_WORKER_IN = (
    sa.select(_wt, *RUN_COLUMNS, *EAGER_WORKER_COLUMNS)
    .select_from(_wr.join(_wt, _wt.c.run_id == _wr.c.run_id).outerjoin(t.workers, EAGER_WORKER_ON))
    .where(_wt.c.task_id == sa.bindparam("b_task_id"), _wt.c.namespace == sa.bindparam("b_namespace"))
    .with_for_update(of=[_wr, _wt])
)
UPDATE = sa.update(_wt).where(_wt.c.task_id == sa.bindparam("b_task_id"))
# Only an open task is cancelled: a task another poller completed meanwhile keeps its status.
CANCEL = (
    sa.update(_wt)
    .where(_wt.c.task_id == sa.bindparam("b_task_id"), _wt.c.status.in_(_OPEN))
    .values(status=S.CANCELLED)
)
CANCEL_OPEN_OF_RUN = (
    sa.update(_wt)
    .where(_wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status.in_((*_OPEN, S.PAUSED)))
    .values(status=S.CANCELLED, updated_at=sa.bindparam("b_now"))
)
READY_OF_RUN = (
    sa.select(_wt.c.task_id).where(_wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status == S.READY).limit(1)
)
# A task without an update waiting to be claimed (ready, or held back while its run is paused):
# the one later wake-ups merge into. A task carrying an update answers only that update (SDK
# 0.4.84 never advances the workflow in it), so nothing merges there.
QUEUED_PLAIN_OF_RUN = (
    sa.select(_wt.c.task_id)
    .where(
        _wt.c.run_id == sa.bindparam("b_run_id"),
        _wt.c.status.in_((S.READY, S.PAUSED)),
        _wt.c.workflow_update_id.is_(None),
    )
    .limit(1)
)
# The debug view (runs/diagnostics.py): the run's waiting or leased tasks, and its closed ones.
PENDING_OF_RUN = (
    sa.select(_wt)
    .where(_wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status.in_((*_OPEN, S.PAUSED)))
    .order_by(_wt.c.available_at, _wt.c.task_id)
)
CLOSED_OF_RUN = (
    sa.select(_wt)
    .where(_wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status.in_((S.COMPLETED, S.FAILED)))
    .order_by(_wt.c.updated_at.desc(), _wt.c.task_id.desc())
    .limit(sa.bindparam("b_limit"))
)
# Pausing and resuming a run move its waiting tasks between these two statuses.
MOVE_OF_RUN = (
    sa.update(_wt)
    .where(_wt.c.run_id == sa.bindparam("b_run_id"), _wt.c.status == sa.bindparam("b_from"))
    .values(status=sa.bindparam("b_to"), updated_at=sa.bindparam("b_now"))
)
OTHER_READY_OF_RUN = sa.select(_wt.c.task_id).where(
    _wt.c.run_id == sa.bindparam("b_run_id"),
    _wt.c.status == S.READY,
    _wt.c.task_id != sa.bindparam("b_task_id"),
)
# Another task of the run whose lease still holds: a run is worked on by one worker at a time.
LEASED_OTHER_OF_RUN = sa.select(_wt.c.task_id).where(
    _wt.c.run_id == sa.bindparam("b_run_id"),
    _wt.c.status == S.LEASED,
    _wt.c.task_id != sa.bindparam("b_task_id"),
    _wt.c.lease_expires_at > sa.bindparam("b_now"),
)
_held = _wt.alias("held")
# Ready tasks of a run another worker holds a lease on wait (claims re-check under the run lock);
# filtering them here keeps them from filling the candidate page ahead of other runs' tasks.
_NOT_HELD = ~sa.exists().where(
    _held.c.run_id == _wt.c.run_id,
    _held.c.status == S.LEASED,
    _held.c.lease_expires_at > sa.bindparam("b_now"),
)
# A task of a run pinned to a build-id cohort is a candidate only for that cohort's workers
# (``b_build_key``: the claimer's cohort, ``''`` when unversioned; see task_queues/cohorts.py).
_FOR_CLAIMER = sa.or_(_wt.c.pinned_build_key.is_(None), _wt.c.pinned_build_key == sa.bindparam("b_build_key"))
# A drained cohort claims none (CLAIMER_NOT_DRAINED, on the same ``b_build_key``).
# A task held sticky for another worker is not a candidate until its window passed (sticky.py).
_ALL_CANDIDATES = Candidates.of(_wt, "workflow_type", ready=S.READY, leased=S.LEASED).where(
    _FOR_CLAIMER, CLAIMER_NOT_DRAINED, FREE_FOR_CLAIMER
)
CANDIDATES = dataclasses.replace(
    _ALL_CANDIDATES,
    ready=_ALL_CANDIDATES.ready.where(_NOT_HELD),
    ready_typed=_ALL_CANDIDATES.ready_typed.where(_NOT_HELD),
)
# The candidates of one run only (an eager hand-out of the task a completion made ready).
CANDIDATES_OF_RUN = CANDIDATES.where(_wt.c.run_id == sa.bindparam("b_run_id"))
# Fenced lease: only if the row is still exactly what the claimer saw, and still due.
LEASE = sa.update(_wt).where(
    _wt.c.task_id == sa.bindparam("b_task_id"),
    _wt.c.status == sa.bindparam("b_status"),
    _wt.c.attempt_count == sa.bindparam("b_attempt_count"),
    still_due(_wt, S.READY, S.LEASED),
)
_other = _wt.alias("other")
# A worker's claim: the fenced lease, and only while no other task of the run (``b_run_id``) is
# leased, checked in the same statement under the run lock (one statement, not a read first).
LEASE_UNHELD = LEASE.where(
    ~sa.exists().where(
        _other.c.run_id == sa.bindparam("b_run_id"),
        _other.c.status == S.LEASED,
        _other.c.task_id != sa.bindparam("b_task_id"),
        _other.c.lease_expires_at > sa.bindparam("b_now"),
    )
)
# A worker's claim, its first statement (the fast pass): the candidate's run (``b_run_id``) tried
# (``SKIP LOCKED``: never waiting while the claim holds task rows, as ``engine.queues`` requires)
# and, if the candidate's lease can follow, moved on as that lease moves it, ``RETURNING`` the run
# as it is then: running (from pending or waiting), and no longer sticky for another worker than
# the claimer (``b_worker_id``, see ``sticky.after_claim``). "Can follow": the run is open, not
# paused, not pinned to another build than the claimer's (``b_build_key``) and has no other
# live lease (what :data:`LEASE_UNHELD` checks again, under this statement's lock). No row: the
# run is held by another transaction, gone, or its task is not to be leased now; the claim then
# reads it the usual way (``runs.rows.try_lock_run``) and decides as before. ``SET`` reads the
# row as it was, on both databases. This saves the run's own ``UPDATE`` after the lease.
_locked = _wr.alias("locked_run")
_sticky_elsewhere = sa.and_(
    _wr.c.sticky_worker_id.is_not(None), _wr.c.sticky_worker_id != sa.bindparam("b_worker_id")
)
CLAIM_RUN = (
    sa.update(_wr)
    .where(
        _wr.c.run_id
        == sa.select(_locked.c.run_id)
        .where(_locked.c.run_id == sa.bindparam("b_run_id"))
        .with_for_update(skip_locked=True)
        .scalar_subquery(),
        _wr.c.status.not_in(sorted(TERMINAL_RUN_STATUSES)),
        _wr.c.paused_at.is_(None),
        sa.or_(_wr.c.pinned_build_key.is_(None), _wr.c.pinned_build_key == sa.bindparam("b_build_key")),
        ~sa.exists().where(
            _other.c.run_id == sa.bindparam("b_run_id"),
            _other.c.status == S.LEASED,
            _other.c.task_id != sa.bindparam("b_task_id"),
            _other.c.lease_expires_at > sa.bindparam("b_now"),
        ),
    )
    .values(
        status=sa.case(
            (_wr.c.status.in_((RunStatus.PENDING, RunStatus.WAITING)), RunStatus.RUNNING.value),
            else_=_wr.c.status,
        ),
        sticky_worker_id=sa.case((_sticky_elsewhere, sa.null()), else_=_wr.c.sticky_worker_id),
        sticky_history_sequence=sa.case((_sticky_elsewhere, sa.null()), else_=_wr.c.sticky_history_sequence),
    )
    .returning(*_wr.c)
)
# Back to ready (or retired), fenced on the exact lease handed out.
REQUEUE = (
    sa.update(_wt)
    .where(
        _wt.c.task_id == sa.bindparam("b_task_id"),
        _wt.c.status == S.LEASED,
        _wt.c.attempt_count == sa.bindparam("b_attempt_count"),
        _wt.c.lease_owner == sa.bindparam("b_lease_owner"),
    )
    .values(
        status=sa.bindparam("b_new_status"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=sa.bindparam("b_now"),
        last_error=sa.bindparam("b_reason"),
    )
)
# The same, and anyone's at once: the holder let its lease run out or was declared dead, so the
# task is not held for it for another sticky window from this re-dating (see sticky.py).
REQUEUE_UNSTICKY = REQUEUE.values(sticky_worker_id=None)
EXPIRED_LEASES = (
    sa.select(_wt)
    .where(_wt.c.status == S.LEASED, _wt.c.lease_expires_at <= sa.bindparam("b_now"))
    .limit(sa.bindparam("b_limit"))
)
EARLIEST_LEASE_EXPIRY = sa.select(sa.func.min(_wt.c.lease_expires_at)).where(_wt.c.status == S.LEASED)
# Leased tasks of one worker (the re-poll hand-back and the stop notice).
LEASES_OF_WORKER = sa.select(_wt).where(
    _wt.c.namespace == sa.bindparam("b_namespace"),
    _wt.c.lease_owner == sa.bindparam("b_worker_id"),
    _wt.c.status == S.LEASED,
)
_wk = t.workers
# Leased tasks whose registered worker has been silent since ``b_cutoff`` or before (worker
# liveness). A deregistered worker has no row: its leases run on to expiry.
SILENT_LEASES = (
    sa.select(_wt)
    .where(
        _wt.c.status == S.LEASED,
        sa.exists().where(
            _wk.c.namespace == _wt.c.namespace,
            _wk.c.worker_id == _wt.c.lease_owner,
            _wk.c.last_heartbeat_at <= sa.bindparam("b_cutoff"),
        ),
    )
    .limit(sa.bindparam("b_limit"))
)
OF_RUN = (
    sa.select(_wt).where(_wt.c.run_id == sa.bindparam("b_run_id")).order_by(_wt.c.created_at, _wt.c.task_id)
)

# The tasks a poll (``b_poll_request_id``, of worker ``b_worker_id``) leased: the one whose lease
# still holds is the one a retry gets (``workers.registry.poll_lease_holds``). No lease-time range
# here: see ``workers.rows.WORKER_AND_POLL``.
POLLED = sa.select(_wt).where(
    _wt.c.poll_request_id == sa.bindparam("b_poll_request_id"),
    _wt.c.namespace == sa.bindparam("b_namespace"),
    _wt.c.lease_owner == sa.bindparam("b_worker_id"),
)
# The same poll's columns written on a task leased without the claim, fenced on that lease.
RECORD_POLL = sa.update(_wt).where(
    _wt.c.task_id == sa.bindparam("b_task_id"),
    _wt.c.namespace == sa.bindparam("b_namespace"),
    _wt.c.status == S.LEASED,
    _wt.c.lease_owner == sa.bindparam("b_lease_owner"),
    _wt.c.attempt_count == sa.bindparam("b_attempt_count"),
)


async def ensure_workflow_task(
    tx: Tx,
    run: RunRow,
    *,
    available_at: datetime | None = None,
    new_run: bool = False,
    update_id: str | None = None,
) -> str | None:
    """Queue a ready workflow task for ``run`` unless a plain one is already waiting (merge rule).

    A paused run's task is queued as ``paused``: it becomes ready when the run resumes.
    ``new_run=True`` skips the lookup: a run created in this transaction has no tasks yet.
    ``update_id`` queues the task that delivers that accepted update: always a task of its own.
    """
    values = queued_values(tx, run, available_at=available_at, update_id=update_id)
    if update_id is None and not new_run:
        # The lookup and the insert in one statement (the run lock keeps it from racing).
        if (await tx.conn.execute(INSERT_UNLESS_QUEUED, values)).rowcount != 1:
            return None
    else:
        await tx.conn.execute(INSERT, {**values, "workflow_update_id": update_id})
    tx.wakes.add(("workflow", run["namespace"], run["task_queue"]))
    return str(values["task_id"])


def queued_values(
    tx: Tx, run: RunRow, *, available_at: datetime | None = None, update_id: str | None = None
) -> dict[str, Any]:
    """The columns of a new workflow task of ``run`` waiting to be claimed (a new task id)."""
    task_id = new_id()
    return {
        "task_id": task_id,
        "run_id": run["run_id"],
        "workflow_id": run["workflow_id"],
        "namespace": run["namespace"],
        "task_queue": run["task_queue"],
        "workflow_type": run["workflow_type"],
        "status": S.PAUSED if is_paused(run) else S.READY,
        "available_at": available_at or tx.now,
        "attempt_count": 0,
        "created_at": tx.now,
        "updated_at": tx.now,
        "pinned_build_key": run["pinned_build_key"],
        # The worker keeping the run's replay claims it first (see sticky.py).
        "sticky_worker_id": run["sticky_worker_id"] if update_id is None else None,
    }


async def cancel_open_of_run(tx: Tx, run_id: str) -> None:
    """Retire the run's ready and leased workflow tasks (the run closed)."""
    await tx.conn.execute(CANCEL_OPEN_OF_RUN, {"b_run_id": run_id, "b_now": tx.now})
