"""``activity_executions``, ``activity_tasks`` and ``activity_attempts`` statements."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import ActivityAttemptStatus as AttemptStatus
from ...store.statuses import ActivityExecutionStatus as ExecutionStatus
from ...store.statuses import ActivityTaskStatus as TaskStatus
from ..queues import Candidates, still_due
from ..runs.rows import run_of
from ..task_queues.rows import CLAIMER_NOT_DRAINED
from ..transaction import Tx

_ae, _at, _aa = t.activity_executions, t.activity_tasks, t.activity_attempts
OPEN_TASK_STATUSES = (TaskStatus.READY, TaskStatus.LEASED)
OPEN_EXECUTION_STATUSES = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)

# --------------------------------------------------------------------------- executions
INSERT_EXECUTION = sa.insert(_ae)
EXECUTION = sa.select(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
UPDATE_EXECUTION = sa.update(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
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

# The debug view (runs/diagnostics.py): each open execution with its open task (if any) and the
# heartbeat of its current attempt (if any).
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
# The attempt is over without an outcome (its lease ran out, was handed back or timed out).
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


async def expire_attempt(tx: Tx, attempt_id: str) -> None:
    await tx.conn.execute(EXPIRE_ATTEMPT, {"b_attempt_id": attempt_id, "b_now": tx.now})


async def cancel_open_of_run(tx: Tx, run_id: str) -> None:
    """Retire the run's open activity tasks, executions and running attempts (the run closed)."""
    params = {"b_run_id": run_id, "b_now": tx.now}
    await tx.conn.execute(CANCEL_OPEN_TASKS_OF_RUN, params)
    await tx.conn.execute(CANCEL_OPEN_EXECUTIONS_OF_RUN, params)
    await tx.conn.execute(CANCEL_RUNNING_ATTEMPTS_OF_RUN, params)
