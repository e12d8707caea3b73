"""Statements of the task-queue views: ``task_queue_build_ids``, and the counts over both task tables.

Every read here is an index range: the queue's tasks through ``(namespace, task_queue, status,
available_at)``, live leases of a namespace through ``(status, lease_expires_at)``, the queues
of a namespace by a loose index scan (one index probe per distinct queue, however many tasks
each holds), a queue's cohorts by the primary key's ``(namespace, task_queue)`` prefix.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import ActivityTaskStatus, QueryTaskStatus, WorkflowTaskStatus

_bi = t.task_queue_build_ids
_wt, _at, _aa, _ae = t.workflow_tasks, t.activity_tasks, t.activity_attempts, t.activity_executions
_qt = t.query_tasks

# ---------------------------------------------------------------------- task_queue_build_ids

_QUEUE = (_bi.c.namespace == sa.bindparam("b_namespace"), _bi.c.task_queue == sa.bindparam("b_queue"))
COHORT = sa.select(_bi).where(*_QUEUE, _bi.c.build_key == sa.bindparam("b_build_key"))
COHORTS_OF_QUEUE = sa.select(_bi).where(*_QUEUE)
# Two promotions racing on PostgreSQL may each insert a new row before seeing the other's: the
# latest promotion is the selected one (and the next promotion clears every other).
PROMOTED_OF_QUEUE = (
    sa.select(_bi.c.build_key)
    .where(*_QUEUE, _bi.c.promoted_at.is_not(None))
    .order_by(_bi.c.promoted_at.desc(), _bi.c.build_key)
    .limit(1)
)
DRAINING = sa.select(_bi.c.build_key).where(
    *_QUEUE, _bi.c.build_key == sa.bindparam("b_build_key"), _bi.c.drain_intent == "draining"
)
# The claimer's cohort (``b_build_key`` on ``(b_namespace, b_queue)``) is not drained: a clause
# every claim's candidate query carries, so a drained cohort's claim finds no candidate without a
# statement of its own. Uncorrelated, it is one primary-key probe per query, evaluated once.
CLAIMER_NOT_DRAINED = ~DRAINING.exists()
INSERT_COHORT = sa.insert(_bi)
UPDATE_COHORT = sa.update(_bi).where(*_QUEUE, _bi.c.build_key == sa.bindparam("b_build_key"))
CLEAR_PROMOTION = (
    sa.update(_bi)
    .where(*_QUEUE, _bi.c.build_key != sa.bindparam("b_build_key"), _bi.c.promoted_at.is_not(None))
    .values(promoted_at=None, updated_at=sa.bindparam("b_now"))
)

# ---------------------------------------------------------------------- queues of a namespace


def _distinct_queues(table: str) -> sa.TextClause:
    """The distinct ``task_queue`` values of ``table`` in one namespace, by a loose index scan.

    ``SELECT DISTINCT`` would read every index entry of the namespace (every task ever queued);
    this recursive walk asks the ``(namespace, task_queue, ...)`` index for the next queue name
    after the previous one, so it costs one probe per queue. Both SQLite and PostgreSQL run it.
    """
    return sa.text(
        f"""
        WITH RECURSIVE q(name) AS (
            SELECT MIN(task_queue) FROM {table} WHERE namespace = :b_namespace
            UNION ALL
            SELECT (SELECT MIN(task_queue) FROM {table}
                    WHERE namespace = :b_namespace AND task_queue > q.name)
            FROM q WHERE q.name IS NOT NULL
        )
        SELECT name FROM q WHERE name IS NOT NULL
        """
    )


QUEUE_NAMES = tuple(_distinct_queues(table.name) for table in (_wt, _at, t.workers))

# ---------------------------------------------------------------------- counts of one queue


def _counts(table: sa.Table, ready: str, leased: str) -> sa.Select[Any]:
    now: sa.BindParameter[Any] = sa.bindparam("b_now")
    is_ready = sa.and_(table.c.status == ready, table.c.available_at <= now)
    live = sa.and_(table.c.status == leased, table.c.lease_expires_at > now)
    expired = sa.and_(table.c.status == leased, table.c.lease_expires_at <= now)
    return sa.select(
        sa.func.coalesce(sa.func.sum(sa.case((is_ready, 1), else_=0)), 0).label("ready_count"),
        sa.func.coalesce(sa.func.sum(sa.case((live, 1), else_=0)), 0).label("leased_count"),
        sa.func.coalesce(sa.func.sum(sa.case((expired, 1), else_=0)), 0).label("expired_lease_count"),
        sa.func.min(sa.case((is_ready, table.c.available_at))).label("oldest_ready_at"),
    ).where(
        table.c.namespace == sa.bindparam("b_namespace"),
        table.c.task_queue == sa.bindparam("b_queue"),
        table.c.status.in_((ready, leased)),
    )


WORKFLOW_COUNTS = _counts(_wt, WorkflowTaskStatus.READY, WorkflowTaskStatus.LEASED)
ACTIVITY_COUNTS = _counts(_at, ActivityTaskStatus.READY, ActivityTaskStatus.LEASED)


def _oldest_ready(table: sa.Table, ready: str, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    return (
        sa.select(table.c.task_id, table.c.run_id, table.c.available_at, *columns)
        .where(
            table.c.namespace == sa.bindparam("b_namespace"),
            table.c.task_queue == sa.bindparam("b_queue"),
            table.c.status == ready,
            table.c.available_at <= sa.bindparam("b_now"),
        )
        .order_by(table.c.available_at, table.c.task_id)
        .limit(1)
    )


OLDEST_READY_WORKFLOW = _oldest_ready(_wt, WorkflowTaskStatus.READY, _wt.c.workflow_id)
OLDEST_READY_ACTIVITY = _oldest_ready(_at, ActivityTaskStatus.READY, _at.c.activity_execution_id)
WORKFLOW_ID_OF_EXECUTION = sa.select(_ae.c.workflow_id).where(
    _ae.c.activity_execution_id == sa.bindparam("b_execution_id")
)


def _namespace_leases(table: sa.Table, leased: str) -> sa.Select[Any]:
    # Through (status, lease_expires_at): only the leased rows of every namespace are visited.
    return sa.select(sa.func.count()).where(
        table.c.status == leased,
        table.c.lease_expires_at > sa.bindparam("b_now"),
        table.c.namespace == sa.bindparam("b_namespace"),
    )


NAMESPACE_WORKFLOW_LEASES = _namespace_leases(_wt, WorkflowTaskStatus.LEASED)
NAMESPACE_ACTIVITY_LEASES = _namespace_leases(_at, ActivityTaskStatus.LEASED)

# Leases held now (or past their lease and not yet recovered), at most ``b_limit`` of each kind.
WORKFLOW_LEASES = (
    sa.select(
        _wt.c.task_id, _wt.c.workflow_id, _wt.c.run_id, _wt.c.lease_owner, _wt.c.lease_expires_at,
        _wt.c.attempt_count,
    )
    .where(
        _wt.c.namespace == sa.bindparam("b_namespace"),
        _wt.c.task_queue == sa.bindparam("b_queue"),
        _wt.c.status == WorkflowTaskStatus.LEASED,
    )
    .order_by(_wt.c.lease_expires_at, _wt.c.task_id)
    .limit(sa.bindparam("b_limit"))
)  # fmt: skip
ACTIVITY_LEASES = (
    sa.select(
        _at.c.task_id, _ae.c.workflow_id, _at.c.run_id, _at.c.lease_owner, _at.c.lease_expires_at,
        _at.c.current_attempt_id, _aa.c.attempt_number,
    )
    .select_from(
        _at.join(_ae, _ae.c.activity_execution_id == _at.c.activity_execution_id).outerjoin(
            _aa, _aa.c.attempt_id == _at.c.current_attempt_id
        )
    )
    .where(
        _at.c.namespace == sa.bindparam("b_namespace"),
        _at.c.task_queue == sa.bindparam("b_queue"),
        _at.c.status == ActivityTaskStatus.LEASED,
    )
    .order_by(_at.c.lease_expires_at, _at.c.task_id)
    .limit(sa.bindparam("b_limit"))
)  # fmt: skip

# Overdue: claimable for longer than the repair policy allows (nobody took it).
OVERDUE_WORKFLOW = sa.select(sa.func.count()).where(
    _wt.c.namespace == sa.bindparam("b_namespace"),
    _wt.c.task_queue == sa.bindparam("b_queue"),
    _wt.c.status == WorkflowTaskStatus.READY,
    _wt.c.available_at <= sa.bindparam("b_overdue_before"),
)
OVERDUE_ACTIVITY = sa.select(sa.func.count()).where(
    _at.c.namespace == sa.bindparam("b_namespace"),
    _at.c.task_queue == sa.bindparam("b_queue"),
    _at.c.status == ActivityTaskStatus.READY,
    _at.c.available_at <= sa.bindparam("b_overdue_before"),
)

# Query tasks waiting for a worker (or leased to one) whose caller still waits.
PENDING_QUERIES = sa.select(sa.func.count()).where(
    _qt.c.namespace == sa.bindparam("b_namespace"),
    _qt.c.task_queue == sa.bindparam("b_queue"),
    _qt.c.status.in_((QueryTaskStatus.PENDING, QueryTaskStatus.LEASED)),
    _qt.c.expires_at > sa.bindparam("b_now"),
)

# Live leases of one worker (its admission on describe).
WORKER_WORKFLOW_LEASES = sa.select(sa.func.count()).where(
    _wt.c.namespace == sa.bindparam("b_namespace"),
    _wt.c.task_queue == sa.bindparam("b_queue"),
    _wt.c.status == WorkflowTaskStatus.LEASED,
    _wt.c.lease_owner == sa.bindparam("b_worker_id"),
    _wt.c.lease_expires_at > sa.bindparam("b_now"),
)
WORKER_ACTIVITY_LEASES = sa.select(sa.func.count()).where(
    _at.c.namespace == sa.bindparam("b_namespace"),
    _at.c.task_queue == sa.bindparam("b_queue"),
    _at.c.status == ActivityTaskStatus.LEASED,
    _at.c.lease_owner == sa.bindparam("b_worker_id"),
    _at.c.lease_expires_at > sa.bindparam("b_now"),
)
