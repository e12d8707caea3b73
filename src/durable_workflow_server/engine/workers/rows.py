"""``workers`` statements."""

from __future__ import annotations

import sqlalchemy as sa

from ...store import tables as t

_wk = t.workers

WORKER = sa.select(_wk).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id")
)
WORKERS_IN_NAMESPACE = sa.select(_wk).where(_wk.c.namespace == sa.bindparam("b_namespace"))
INSERT = sa.insert(_wk)
UPDATE = sa.update(_wk).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.worker_id == sa.bindparam("b_worker_id")
)
WORKERS_ON_QUEUE = sa.select(_wk).where(
    _wk.c.namespace == sa.bindparam("b_namespace"), _wk.c.task_queue == sa.bindparam("b_queue")
)
