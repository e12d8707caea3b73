"""``activity_executions``, ``activity_tasks`` and ``activity_attempts`` statements."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import ActivityAttemptStatus as AttemptStatus
from ...store.statuses import ActivityExecutionStatus as ExecutionStatus
from ...store.statuses import ActivityTaskStatus as TaskStatus
from ..queues import Candidates, still_due
from ..row_split import PrefixSplit
from ..runs.rows import RUN_COLUMNS, RUN_PREFIX, run_of
from ..runs.steps import OTHER_STEPS_COLUMNS
from ..task_queues.rows import CLAIMER_NOT_DRAINED
from ..transaction import Tx
from ..workers.rows import EAGER_WORKER_COLUMNS, EAGER_WORKER_ON, EAGER_WORKER_PREFIX

_ae, _at, _aa = t.activity_executions, t.activity_tasks, t.activity_attempts
OPEN_TASK_STATUSES = (TaskStatus.READY, TaskStatus.LEASED)
OPEN_EXECUTION_STATUSES = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)

# --------------------------------------------------------------------------- executions
INSERT_EXECUTION = sa.insert(_ae)
EXECUTION = sa.select(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
UPDATE_EXECUTION = sa.update(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
# A completion's update of its execution, answering the wake rule's facts of the run's other
# steps (``runs.steps.OTHER_STEPS_COLUMNS``) in the same statement.
UPDATE_EXECUTION_WITH_OTHER_STEPS = UPDATE_EXECUTION.returning(*OTHER_STEPS_COLUMNS)
RETRY_POLICY = sa.select(_ae.c.retry_policy).where(
    _ae.c.activity_execution_id == sa.bindparam("b_execution_id")
)
EXECUTIONS_OF_RUN = sa.select(_ae).where(_ae.c.run_id == sa.bindparam("b_run_id")).order_by(_ae.c.sequence)


def open_executions_of(run_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The run's pending or running executions: work that will wake the run by itself."""
    return sa.and_(_ae.c.run_id == run_id, _ae.c.status.in_(OPEN_EXECUTION_STATUSES))


OPEN_EXECUTIONS_OF_RUN = (
    sa.select(_ae).where(open_executions_of(sa.bindparam("b_run_id"))).order_by(_ae.c.sequence)
)
CANCEL_OPEN_EXECUTIONS_OF_RUN = (
    sa.update(_ae)
    .where(open_executions_of(sa.bindparam("b_run_id")))
    .values(status=ExecutionStatus.CANCELLED, closed_at=sa.bindparam("b_now"))
)

# The debug view (runs/diagnostics.py) and describe's waiting_on (runs/waiting.py): each open
# execution with its open task (if any), the heartbeat of its current attempt (if any), and the
# failure its pending retry follows (if any).
_open_task = sa.and_(
    _at.c.activity_execution_id == _ae.c.activity_execution_id,
    _at.c.status.in_((*OPEN_TASK_STATUSES, TaskStatus.PAUSED)),
)
PENDING_OF_RUN = (
    sa.select(
        _ae.c.activity_execution_id,
        _ae.c.activity_type,
        _ae.c.sequence,
        _ae.c.status,
        _ae.c.attempt_count,
        _ae.c.task_queue,
        _ae.c.scheduled_at,
        _at.c.task_id,
        _at.c.status.label("task_status"),
        _at.c.available_at,
        _at.c.lease_owner,
        _at.c.lease_expires_at,
        _aa.c.last_heartbeat_at,
        _ae.c.last_failure,
    )
    .select_from(_ae.outerjoin(_at, _open_task).outerjoin(_aa, _aa.c.attempt_id == _ae.c.current_attempt_id))
    .where(open_executions_of(sa.bindparam("b_run_id")))
    .order_by(_ae.c.sequence, _ae.c.activity_execution_id)
)

# --------------------------------------------------------------------------- tasks
INSERT_TASK = sa.insert(_at)
TASK_IN = sa.select(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"), _at.c.namespace == sa.bindparam("b_namespace")
)
OPEN_TASK = sa.select(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"), _at.c.status.in_(OPEN_TASK_STATUSES)
)
# An outcome's fence in one statement: the task's run (``RUN_COLUMNS``), the task, its execution,
# and the attempt ``b_attempt_id`` if it exists, the attempt's and execution's columns prefixed
# (see :func:`split_fence_row`). The run and the task are locked where the database has row locks,
# the run first (``FOR UPDATE OF`` locks in the order it names): the engine's lock order.
ATTEMPT_PREFIX, EXECUTION_PREFIX = "a__", "e__"
SPLIT_FENCE = PrefixSplit(ATTEMPT_PREFIX, EXECUTION_PREFIX)


def _fence(*, with_worker: bool) -> sa.Select[Any]:
    join = (
        t.workflow_runs.join(_at, _at.c.run_id == t.workflow_runs.c.run_id)
        .join(_ae, _ae.c.activity_execution_id == _at.c.activity_execution_id)
        .outerjoin(
            _aa,
            sa.and_(
                _aa.c.attempt_id == sa.bindparam("b_attempt_id"),
                _aa.c.namespace == sa.bindparam("b_namespace"),
            ),
        )
    )
    if with_worker:
        join = join.outerjoin(t.workers, EAGER_WORKER_ON)
    return (
        sa.select(
            _at,
            *(column.label(ATTEMPT_PREFIX + column.name) for column in _aa.c),
            *(column.label(EXECUTION_PREFIX + column.name) for column in _ae.c),
            *RUN_COLUMNS,
            *(EAGER_WORKER_COLUMNS if with_worker else ()),
        )
        .select_from(join)
        .where(_at.c.task_id == sa.bindparam("b_task_id"), _at.c.namespace == sa.bindparam("b_namespace"))
        .with_for_update(of=[t.workflow_runs, _at])
    )


RUN_TASK_ATTEMPT_EXECUTION = _fence(with_worker=False)
# Its eager variant (a completion asking for an eager hand-out): the completing worker's
# registration too (``workers.rows.EAGER_WORKER_COLUMNS``, ``b_worker_id``), read, not locked.
RUN_TASK_ATTEMPT_EXECUTION_WORKER = _fence(with_worker=True)


def split_fence_row(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """A :data:`RUN_TASK_ATTEMPT_EXECUTION` row (its run split off, ``split_run``) as
    ``(task, attempt or None, execution)``."""
    task, attempt, execution = SPLIT_FENCE(row)
    return task, (attempt if attempt["attempt_id"] is not None else None), execution


#: A fence row, whole: ``[task, attempt, execution, run, worker (the eager variant; else {})]``.
SPLIT_FENCE_WORKER = PrefixSplit(ATTEMPT_PREFIX, EXECUTION_PREFIX, RUN_PREFIX, EAGER_WORKER_PREFIX)


RUN_OF_TASK = run_of(_at, "task_id")
RUN_OF_TASK_IN = run_of(_at, "task_id", in_namespace=True)
UPDATE_TASK = sa.update(_at).where(_at.c.task_id == sa.bindparam("b_task_id"))
CANCEL_TASK = (
    sa.update(_at).where(_at.c.task_id == sa.bindparam("b_task_id")).values(status=TaskStatus.CANCELLED)
)
CANCEL_OPEN_TASKS_OF_RUN = (
    sa.update(_at)
    .where(
        _at.c.run_id == sa.bindparam("b_run_id"), _at.c.status.in_((*OPEN_TASK_STATUSES, TaskStatus.PAUSED))
    )
    .values(status=TaskStatus.CANCELLED, updated_at=sa.bindparam("b_now"))
)
# Pausing and resuming a run move its waiting activity tasks between ``ready`` and ``paused``.
QUEUES_OF_RUN_IN = (
    sa.select(_at.c.task_queue)
    .where(_at.c.run_id == sa.bindparam("b_run_id"), _at.c.status == sa.bindparam("b_from"))
    .distinct()
)
MOVE_TASKS_OF_RUN = (
    sa.update(_at)
    .where(_at.c.run_id == sa.bindparam("b_run_id"), _at.c.status == sa.bindparam("b_from"))
    .values(status=sa.bindparam("b_to"), updated_at=sa.bindparam("b_now"))
)
# Activities are never pinned to a build; a drained cohort (``b_build_key``) claims none.
CANDIDATES = Candidates.of(_at, "activity_type", ready=TaskStatus.READY, leased=TaskStatus.LEASED).where(
    CLAIMER_NOT_DRAINED
)
# The candidates among the tasks one completion just scheduled (an eager dispatch).
CANDIDATES_OF_TASKS = CANDIDATES.where(_at.c.task_id.in_(sa.bindparam("b_task_ids", expanding=True)))
# Fenced lease: only if the row is still exactly what the claimer saw, and still due.
LEASE_TASK = sa.update(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"),
    _at.c.status == sa.bindparam("b_status"),
    sa.func.coalesce(_at.c.current_attempt_id, "") == sa.bindparam("b_current_attempt_id"),
    still_due(_at, TaskStatus.READY, TaskStatus.LEASED),
)
# A lease handed back by its holder: fenced on that exact owner and attempt.
RELEASE_TASK = sa.update(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"),
    _at.c.status == TaskStatus.LEASED,
    _at.c.lease_owner == sa.bindparam("b_lease_owner"),
    _at.c.current_attempt_id == sa.bindparam("b_attempt_id"),
)
# A lease that ran out, made claimable again (its values come from the parameters).
REQUEUE_EXPIRED_TASK = sa.update(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"), _at.c.status == TaskStatus.LEASED
)
EXPIRED_LEASES = (
    sa.select(_at)
    .where(_at.c.status == TaskStatus.LEASED, _at.c.lease_expires_at <= sa.bindparam("b_now"))
    .limit(sa.bindparam("b_limit"))
)
EARLIEST_LEASE_EXPIRY = sa.select(sa.func.min(_at.c.lease_expires_at)).where(
    _at.c.status == TaskStatus.LEASED
)
# Activity deadlines: one min() per open status so each is a single index range scan.
EARLIEST_TIMEOUTS = tuple(
    sa.select(sa.func.min(_at.c.timeout_at)).where(_at.c.status == status) for status in OPEN_TASK_STATUSES
)
DUE_TIMEOUTS = (
    sa.select(_at.c.task_id)
    .where(_at.c.status.in_(OPEN_TASK_STATUSES), _at.c.timeout_at <= sa.bindparam("b_now"))
    .order_by(_at.c.timeout_at)
    .limit(sa.bindparam("b_limit"))
)
# Fenced close: only if the task is still in the status and attempt it was read with.
CLOSE_TASK = (
    sa.update(_at)
    .where(
        _at.c.task_id == sa.bindparam("b_task_id"),
        _at.c.status == sa.bindparam("b_status"),
        sa.func.coalesce(_at.c.current_attempt_id, "") == sa.bindparam("b_attempt_id"),
    )
    .values(
        status=sa.bindparam("b_new_status"),
        lease_owner=None,
        lease_expires_at=None,
        timeout_at=None,
        updated_at=sa.bindparam("b_now"),
    )
)

# --------------------------------------------------------------------------- attempts
INSERT_ATTEMPT = sa.insert(_aa)
ATTEMPT = sa.select(_aa).where(_aa.c.attempt_id == sa.bindparam("b_attempt_id"))
ATTEMPT_IN = sa.select(_aa).where(
    _aa.c.attempt_id == sa.bindparam("b_attempt_id"), _aa.c.namespace == sa.bindparam("b_namespace")
)
UPDATE_ATTEMPT = sa.update(_aa).where(_aa.c.attempt_id == sa.bindparam("b_attempt_id"))
# The attempt is over without an outcome: its worker is gone (the lease ran out, was handed
# back, or its worker went silent / stopped). A timed-out attempt closes ``failed`` instead.
EXPIRE_ATTEMPT = (
    sa.update(_aa)
    .where(_aa.c.attempt_id == sa.bindparam("b_attempt_id"), _aa.c.status == AttemptStatus.RUNNING)
    .values(status=AttemptStatus.EXPIRED, closed_at=sa.bindparam("b_now"))
)
CANCEL_RUNNING_ATTEMPTS_OF_RUN = (
    sa.update(_aa)
    .where(
        _aa.c.activity_execution_id.in_(
            sa.select(_ae.c.activity_execution_id).where(_ae.c.run_id == sa.bindparam("b_run_id"))
        ),
        _aa.c.status == AttemptStatus.RUNNING,
    )
    .values(status=AttemptStatus.CANCELLED, closed_at=sa.bindparam("b_now"))
)


# How many attempts of an execution ended because their worker was gone (they do not count
# against the retry policy's max_attempts; see docs/protocol.md, "A worker's death").
EXPIRED_ATTEMPTS = sa.select(sa.func.count()).where(
    _aa.c.activity_execution_id == sa.bindparam("b_execution_id"), _aa.c.status == AttemptStatus.EXPIRED
)
FAIL_ATTEMPT = (
    sa.update(_aa)
    .where(_aa.c.attempt_id == sa.bindparam("b_attempt_id"), _aa.c.status == AttemptStatus.RUNNING)
    .values(status=AttemptStatus.FAILED, closed_at=sa.bindparam("b_now"))
)
# Leased tasks of one worker (the re-poll hand-back and the stop notice).
LEASES_OF_WORKER = sa.select(_at).where(
    _at.c.namespace == sa.bindparam("b_namespace"),
    _at.c.lease_owner == sa.bindparam("b_worker_id"),
    _at.c.status == TaskStatus.LEASED,
)
_wk = t.workers
# Leased tasks whose registered worker has been silent since ``b_cutoff`` or before and whose
# attempt has not heartbeat since either (worker liveness). A deregistered worker has no row:
# its leases run on (DELETE /workers/{id} does not interrupt in-flight leases).
SILENT_LEASES = (
    sa.select(_at)
    .where(
        _at.c.status == TaskStatus.LEASED,
        sa.exists().where(
            _wk.c.namespace == _at.c.namespace,
            _wk.c.worker_id == _at.c.lease_owner,
            _wk.c.last_heartbeat_at <= sa.bindparam("b_cutoff"),
        ),
        ~sa.exists().where(
            _aa.c.attempt_id == _at.c.current_attempt_id,
            _aa.c.last_heartbeat_at > sa.bindparam("b_cutoff"),
        ),
    )
    .limit(sa.bindparam("b_limit"))
)
# A sign of life from ``b_worker_id``: its leased tasks whose start-to-close or heartbeat
# deadline passed while the decision waits on liveness are decided now (``timeout_at`` = now).
DECIDE_PENDING_OF_WORKER = (
    sa.update(_at)
    .where(
        _at.c.namespace == sa.bindparam("b_namespace"),
        _at.c.lease_owner == sa.bindparam("b_worker_id"),
        _at.c.status == TaskStatus.LEASED,
        _at.c.timeout_at > sa.bindparam("b_now"),
        sa.or_(
            _at.c.start_to_close_deadline_at <= sa.bindparam("b_now"),
            _at.c.heartbeat_deadline_at <= sa.bindparam("b_now"),
        ),
    )
    .values(timeout_at=sa.bindparam("b_now"))
)


async def counted_attempts(tx: Tx, execution_id: str, attempt_number: int) -> int:
    """Attempt ``attempt_number``'s number as the retry policy counts it: lost attempts are free."""
    lost = (await tx.conn.execute(EXPIRED_ATTEMPTS, {"b_execution_id": execution_id})).scalar()
    return max(1, attempt_number - int(lost or 0))


async def fail_attempt(tx: Tx, attempt_id: str) -> None:
    await tx.conn.execute(FAIL_ATTEMPT, {"b_attempt_id": attempt_id, "b_now": tx.now})


async def expire_attempt(tx: Tx, attempt_id: str) -> None:
    await tx.conn.execute(EXPIRE_ATTEMPT, {"b_attempt_id": attempt_id, "b_now": tx.now})


async def cancel_open_of_run(tx: Tx, run_id: str) -> None:
    """Retire the run's open activity tasks, executions and running attempts (the run closed)."""
    params = {"b_run_id": run_id, "b_now": tx.now}
    await tx.conn.execute(CANCEL_OPEN_TASKS_OF_RUN, params)
    await tx.conn.execute(CANCEL_OPEN_EXECUTIONS_OF_RUN, params)
    await tx.conn.execute(CANCEL_RUNNING_ATTEMPTS_OF_RUN, params)
