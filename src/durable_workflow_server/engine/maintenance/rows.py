"""The statements of the maintenance passes: their scans, and retention's deletes.

Every scan is namespace-scoped and bounded (``LIMIT``); the passes then act on each selected
row in its own transaction, re-checking it under its run's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import OPEN_RUN_STATUSES, TERMINAL_RUN_STATUSES
from ...store.statuses import WorkflowTaskStatus as TaskStatus
from ..activities import rows as activity_rows
from ..repair import OPEN_TASK_STATUSES, waker_of

_wr, _wt, _wi = t.workflow_runs, t.workflow_tasks, t.workflow_instances
_at, _ae = t.activity_tasks, t.activity_executions
_OPEN = sorted(OPEN_RUN_STATUSES)
_TERMINAL = sorted(TERMINAL_RUN_STATUSES)


# --------------------------------------------------------------------------- repair


def _run_filters(
    run_id: sa.ColumnElement[Any],
    workflow_id: sa.ColumnElement[Any],
    run_ids: Sequence[str] | None,
    instance_id: str | None,
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if run_ids:
        where.append(run_id.in_(list(run_ids)))
    if instance_id:
        where.append(workflow_id == instance_id)
    return where


def existing_task_candidates(
    namespace: str,
    now: datetime,
    redispatch_before: datetime,
    *,
    run_ids: Sequence[str] | None = None,
    instance_id: str | None = None,
) -> sa.Select[Any]:
    """Workflow tasks of open, unpaused runs that exist but are stuck, oldest first.

    Two kinds: a lease that ran out (the background loop requeues it within its interval; the
    pass does it now), and a ready task nobody has claimed or re-announced since
    ``redispatch_before`` (its queue has no live poller, or a wake-up was lost).
    """
    stuck = sa.or_(
        sa.and_(_wt.c.status == TaskStatus.LEASED, _wt.c.lease_expires_at <= now),
        sa.and_(
            _wt.c.status == TaskStatus.READY,
            _wt.c.available_at <= redispatch_before,
            _wt.c.updated_at <= redispatch_before,
        ),
    )
    return (
        sa.select(
            _wt.c.task_id,
            _wt.c.run_id,
            _wt.c.task_queue,
            _wt.c.status,
            _wt.c.created_at,
        )
        .select_from(_wt.join(_wr, _wr.c.run_id == _wt.c.run_id))
        .where(
            _wt.c.namespace == namespace,
            stuck,
            _wr.c.status.in_(_OPEN),
            _wr.c.paused_at.is_(None),
            *_run_filters(_wt.c.run_id, _wt.c.workflow_id, run_ids, instance_id),
        )
        .order_by(_wt.c.created_at, _wt.c.task_id)
    )


def missing_task_candidates(
    namespace: str, *, run_ids: Sequence[str] | None = None, instance_id: str | None = None
) -> sa.Select[Any]:
    """Open, unpaused runs with no open workflow task and nothing that would wake them, oldest first."""
    has_task = sa.exists().where(_wt.c.run_id == _wr.c.run_id, _wt.c.status.in_(OPEN_TASK_STATUSES))
    return (
        sa.select(_wr.c.run_id, _wr.c.task_queue, _wr.c.started_at)
        .where(
            _wr.c.namespace == namespace,
            _wr.c.status.in_(_OPEN),
            _wr.c.paused_at.is_(None),
            ~has_task,
            ~waker_of(_wr.c.run_id),
            *_run_filters(_wr.c.run_id, _wr.c.workflow_id, run_ids, instance_id),
        )
        .order_by(_wr.c.started_at, _wr.c.run_id)
    )


# An overdue ready task re-announced to pollers: fenced on it still being ready and overdue.
TOUCH_OVERDUE_TASK = (
    sa.update(_wt)
    .where(
        _wt.c.task_id == sa.bindparam("b_task_id"),
        _wt.c.status == TaskStatus.READY,
        _wt.c.updated_at <= sa.bindparam("b_before"),
    )
    .values(updated_at=sa.bindparam("b_now"))
)
INSTANCE = sa.select(_wi).where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))


# --------------------------------------------------------------------------- activity timeouts


def due_activity_tasks(
    namespace: str, now: datetime, *, execution_ids: Sequence[str] | None, limit: int
) -> sa.Select[Any]:
    """Open activity tasks of ``namespace`` with a deadline due at ``now``, earliest first."""
    stmt = sa.select(_at.c.task_id, _at.c.activity_execution_id).where(
        _at.c.namespace == namespace,
        _at.c.status.in_(activity_rows.OPEN_TASK_STATUSES),
        _at.c.timeout_at <= now,
    )
    if execution_ids:
        stmt = stmt.where(_at.c.activity_execution_id.in_(list(execution_ids)))
    return stmt.order_by(_at.c.timeout_at, _at.c.task_id).limit(limit)


# The execution's open task (at most one at a time), in the namespace.
OPEN_TASK_OF_EXECUTION = sa.select(_at.c.task_id).where(
    _at.c.activity_execution_id == sa.bindparam("b_execution_id"),
    _at.c.namespace == sa.bindparam("b_namespace"),
    _at.c.status.in_(activity_rows.OPEN_TASK_STATUSES),
)
EXECUTION_IN = sa.select(_ae.c.activity_execution_id, _ae.c.status).where(
    _ae.c.activity_execution_id == sa.bindparam("b_execution_id"),
    _ae.c.namespace == sa.bindparam("b_namespace"),
)


# --------------------------------------------------------------------------- retention


def expired_runs(namespace: str, cutoff: datetime, limit: int) -> sa.Select[Any]:
    """Closed runs of ``namespace`` that closed before ``cutoff``, oldest first."""
    return (
        sa.select(_wr.c.run_id)
        .where(_wr.c.namespace == namespace, _wr.c.closed_at < cutoff, _wr.c.status.in_(_TERMINAL))
        .order_by(_wr.c.closed_at, _wr.c.run_id)
        .limit(limit)
    )


RUN_IN = sa.select(_wr).where(
    _wr.c.run_id == sa.bindparam("b_run_id"), _wr.c.namespace == sa.bindparam("b_namespace")
)
OTHER_RUNS_LEFT = (
    sa.select(_wr.c.run_id)
    .where(_wr.c.workflow_id == sa.bindparam("b_workflow_id"), _wr.c.run_id != sa.bindparam("b_run_id"))
    .order_by(_wr.c.run_number.desc())
    .limit(1)
)
# The instance goes with its last run, and only while that run is still its current one (a
# start that moved it on in the meantime keeps it).
DELETE_INSTANCE = sa.delete(_wi).where(
    _wi.c.workflow_id == sa.bindparam("b_workflow_id"), _wi.c.current_run_id == sa.bindparam("b_run_id")
)
# When the pruned run was the current one and older runs remain, the newest of them becomes current.
REPOINT_INSTANCE = (
    sa.update(_wi)
    .where(
        _wi.c.workflow_id == sa.bindparam("b_workflow_id"), _wi.c.current_run_id == sa.bindparam("b_run_id")
    )
    .values(current_run_id=sa.bindparam("b_new_run_id"))
)
DELETE_RUN = sa.delete(_wr).where(_wr.c.run_id == sa.bindparam("b_run_id"))


def _by_run(table: sa.Table, column: str = "run_id") -> sa.Delete:
    return sa.delete(table).where(table.c[column] == sa.bindparam("b_run_id"))


#: What pruning a run deletes, in order, keyed by table name: every row the run owns. The
#: attempts go through their executions, so those come before the rows they are found through.
PRUNE_STATEMENTS: dict[str, sa.Delete] = {
    "activity_attempts": sa.delete(t.activity_attempts).where(
        t.activity_attempts.c.activity_execution_id.in_(
            sa.select(_ae.c.activity_execution_id).where(_ae.c.run_id == sa.bindparam("b_run_id"))
        )
    ),
    "history_events": _by_run(t.history_events),
    "workflow_tasks": _by_run(t.workflow_tasks),
    "activity_tasks": _by_run(t.activity_tasks),
    "activity_executions": _by_run(t.activity_executions),
    "timers": _by_run(t.timers),
    "signals": _by_run(t.signals),
    "updates": _by_run(t.updates),
    "condition_waits": _by_run(t.condition_waits),
    "child_links": _by_run(t.child_links, "parent_run_id"),
    "query_tasks": _by_run(t.query_tasks),
    "search_attribute_values": _by_run(t.search_attribute_values),
}
#: Tables holding a run id that pruning leaves alone, and why (a test checks every table with a
#: run column is in one of the two maps, so a new table needs a decision here).
PRUNE_KEEPS: dict[str, str] = {
    "workflow_runs": "the run row itself goes last (DELETE_RUN)",
    "external_payloads": "deleted by external_storage.retention.delete_run_payloads, which also "
    "deletes the stored objects no other run refers to",
    "bridge_outcomes": "a webhook event's first outcome answers its later deliveries (idempotency), "
    "whatever became of the run it started",
}
RETENTION_DAYS = sa.select(t.namespaces.c.retention_days).where(
    t.namespaces.c.name == sa.bindparam("b_namespace")
)
