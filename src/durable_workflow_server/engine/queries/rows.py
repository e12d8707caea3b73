"""``query_tasks`` statements.

A query task lives only while its caller waits: the caller's request inserts it, a worker leases
and answers it, and the caller deletes it once answered (or given up on). Rows a crashed caller
left behind are purged by the background loop once past ``expires_at``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import QueryTaskStatus as S
from ..task_queues.rows import CLAIMER_NOT_DRAINED

_qt = t.query_tasks

INSERT = sa.insert(_qt)
TASK = sa.select(_qt).where(_qt.c.query_task_id == sa.bindparam("b_query_task_id"))
TASK_IN = TASK.where(_qt.c.namespace == sa.bindparam("b_namespace"))
UPDATE = sa.update(_qt).where(_qt.c.query_task_id == sa.bindparam("b_query_task_id"))
DELETE = sa.delete(_qt).where(_qt.c.query_task_id == sa.bindparam("b_query_task_id"))
PURGE_EXPIRED = sa.delete(_qt).where(_qt.c.expires_at <= sa.bindparam("b_now"))
EARLIEST_EXPIRY = sa.select(sa.func.min(_qt.c.expires_at))
# Back to pending, fenced on the exact lease handed out (its poller hung up before receiving it).
RELEASE = (
    sa.update(_qt)
    .where(
        _qt.c.query_task_id == sa.bindparam("b_query_task_id"),
        _qt.c.namespace == sa.bindparam("b_namespace"),
        _qt.c.status == S.LEASED,
        _qt.c.lease_owner == sa.bindparam("b_lease_owner"),
        _qt.c.attempt == sa.bindparam("b_attempt"),
    )
    .values(status=S.PENDING, lease_owner=None, lease_expires_at=None)
)
# Leased exactly as the claimer read it, and still wanted.
LEASE = sa.update(_qt).where(
    _qt.c.query_task_id == sa.bindparam("b_query_task_id"),
    _qt.c.attempt == sa.bindparam("b_attempt"),
    _qt.c.expires_at > sa.bindparam("b_now"),
)


def candidates(*, kinds: tuple[str, ...]) -> sa.Select[Any]:
    """Claimable tasks of ``(b_namespace, b_queue)`` and ``b_types``: pending, or leased past their
    lease; none while the claimer's cohort (``b_build_key``) is drained."""
    return (
        sa.select(_qt)
        .where(
            _qt.c.namespace == sa.bindparam("b_namespace"),
            _qt.c.task_queue == sa.bindparam("b_queue"),
            _qt.c.kind.in_(kinds),
            _qt.c.workflow_type.in_(sa.bindparam("b_types", expanding=True)),
            _qt.c.expires_at > sa.bindparam("b_now"),
            sa.or_(
                _qt.c.status == S.PENDING,
                sa.and_(_qt.c.status == S.LEASED, _qt.c.lease_expires_at <= sa.bindparam("b_now")),
            ),
            CLAIMER_NOT_DRAINED,
        )
        .order_by(_qt.c.created_at, _qt.c.query_task_id)
        .limit(10)
    )
