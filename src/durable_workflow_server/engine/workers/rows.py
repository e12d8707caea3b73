"""``workers`` statements."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import WorkflowTaskStatus
from ..row_split import PrefixSplit

_wk, _wt, _bi = t.workers, t.workflow_tasks, t.task_queue_build_ids

WORKER = sa.select(_wk).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id")
)
# The worker's cohort key as ``task_queues.cohorts.build_key`` makes it (blank is ``''``; SQL's
# ``trim`` strips spaces only, so a build id of other whitespace is left to the caller).
_COHORT_KEY = sa.case((sa.func.coalesce(sa.func.trim(_wk.c.build_id), "") == "", ""), else_=_wk.c.build_id)
# An eager hand-out's read of the worker it leases to: the registration, and whether its cohort
# on its own queue is drained (``cohort_draining``, the claims' ``CLAIMER_NOT_DRAINED`` negated).
_cohort_draining = sa.exists().where(
    _bi.c.namespace == _wk.c.namespace,
    _bi.c.task_queue == _wk.c.task_queue,
    _bi.c.build_key == _COHORT_KEY,
    _bi.c.drain_intent == "draining",
)
EAGER_WORKER = sa.select(_wk, _cohort_draining.label("cohort_draining")).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id")
)
# The same read folded into a completion's fence (its eager variant): the worker's columns and
# ``cohort_draining``, prefixed, from ``workers`` outer-joined ``ON`` :data:`EAGER_WORKER_ON`
# (all NULL when the worker is not registered). The fence's ``FOR UPDATE OF`` does not name
# ``workers``: the registration is read, never locked, as :data:`EAGER_WORKER` reads it.
EAGER_WORKER_PREFIX = "w__"
EAGER_WORKER_ON = sa.and_(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id")
)
EAGER_WORKER_COLUMNS = (
    *(column.label(EAGER_WORKER_PREFIX + column.name) for column in _wk.c),
    _cohort_draining.label(EAGER_WORKER_PREFIX + "cohort_draining"),
)
_SPLIT_EAGER_WORKER = PrefixSplit(EAGER_WORKER_PREFIX)


def split_eager_worker(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A row selecting :data:`EAGER_WORKER_COLUMNS` beside others, as ``(the others, the
    :data:`EAGER_WORKER` row or None: no such worker)``."""
    rest, worker = _SPLIT_EAGER_WORKER(row)
    return rest, registered(worker)


def registered(worker: dict[str, Any]) -> dict[str, Any] | None:
    """The :data:`EAGER_WORKER_COLUMNS` part of a row (unprefixed) as the worker's row, or None:
    the outer join found no such worker (all its columns are NULL)."""
    return worker if worker.get("worker_id") is not None else None


# A workflow-task poll's first read: the registration, the tasks an earlier try of this poll
# (``b_poll_request_id``) leased to the worker (``poll__*``, NULL without; a claim writes the poll's
# id on the task it leases and every later claim of that task rewrites it, so a task found here
# whose lease still holds holds the lease that try got; :func:`..registry.registered_worker_and_poll`
# checks that, on one row per such task), and whether the worker holds any workflow-task lease
# that the re-poll hand-back would hand back (``holds_leases``: one it does not name as held,
# ``b_held_task_ids``, last granted or renewed at or before ``b_stale_before``, the end of the
# hand-back's grace: the hand-back has nothing to look at otherwise). The join names only
# the poll's id and the worker: a lease-time range beside it would draw SQLite's planner, which
# has no statistics, to the lease index instead of the poll index (one row).
POLL_PREFIX = "poll__"
_holds_leases = sa.exists().where(
    _wt.c.namespace == _wk.c.namespace,
    _wt.c.lease_owner == _wk.c.worker_id,
    _wt.c.status == WorkflowTaskStatus.LEASED,
    _wt.c.task_id.not_in(sa.bindparam("b_held_task_ids", expanding=True)),
    _wt.c.updated_at <= sa.bindparam("b_stale_before"),
)
_polled = _wt.alias("polled")  # not the table _holds_leases correlates with
WORKER_AND_POLL = (
    sa.select(
        _wk,
        *(
            _polled.c[name].label(POLL_PREFIX + name)
            for name in ("task_id", "attempt_count", "status", "lease_expires_at", "poll_expires_at")
        ),
        _holds_leases.label("holds_leases"),
    )
    .select_from(
        _wk.outerjoin(
            _polled,
            sa.and_(
                _polled.c.poll_request_id == sa.bindparam("b_poll_request_id"),
                _polled.c.namespace == _wk.c.namespace,
                _polled.c.lease_owner == _wk.c.worker_id,
            ),
        )
    )
    .where(_wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id"))
)
# Most recent heartbeat first: without an order PostgreSQL returns rows in whatever place their
# last update left them, and the cluster-info fleet would change order from one read to the next.
WORKERS_IN_NAMESPACE = (
    sa.select(_wk)
    .where(_wk.c.namespace == sa.bindparam("b_namespace"))
    .order_by(_wk.c.last_heartbeat_at.desc(), _wk.c.worker_id)
)
INSERT = sa.insert(_wk)
UPDATE = sa.update(_wk).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id")
)
WORKERS_ON_QUEUE = sa.select(_wk).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.task_queue == sa.bindparam("b_queue")
)

# ---- issue 8: the operator's view of the registry (list, deregister, cohorts, pruning)
DELETE = sa.delete(_wk).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id")
)


def in_cohort(build_key_param: str = "b_build_key") -> sa.ColumnElement[bool]:
    """The workers of one build-id cohort (``''``: registered without a build id)."""
    key: sa.BindParameter[str] = sa.bindparam(build_key_param)
    return sa.func.coalesce(_wk.c.build_id, "") == key


# Drain and resume flip a cohort's registrations between ``active`` and ``draining``.
SET_COHORT_STATUS = (
    sa.update(_wk)
    .where(
        _wk.c.namespace == sa.bindparam("b_namespace"),
        _wk.c.task_queue == sa.bindparam("b_queue"),
        in_cohort(),
        _wk.c.status == sa.bindparam("b_from"),
    )
    .values(status=sa.bindparam("b_to"))
)
# Registrations not heard from since ``b_before`` (the background loop's pruning).
LONG_STALE = sa.select(_wk.c.worker_id).where(_wk.c.last_heartbeat_at < sa.bindparam("b_before")).limit(1)
PRUNE = sa.delete(_wk).where(_wk.c.last_heartbeat_at < sa.bindparam("b_before"))
OLDEST_HEARTBEAT = sa.select(sa.func.min(_wk.c.last_heartbeat_at))
