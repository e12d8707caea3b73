"""The runs' close-time index holds only closed runs: ``(namespace, closed_at) WHERE closed_at IS NOT NULL``.

``ix_workflow_runs_namespace_closed`` is read only for a close time: retention's runs closed
before a cutoff (``closed_at < ?``) and a list's close-time window (``closed_at >= ?``,
``closed_at < ?``), each of which implies ``closed_at IS NOT NULL``, so both planners take the
partial index for them. The full index also got an entry for every run started (open, ``NULL``)
and moved it when the run closed: on SQLite a page more in the write-ahead log for the start's
commit, and often two instead of one for the close's (a delete among the ``NULL``\\ s, an insert
among the times). Now the start writes nothing to it and the close one entry.

Not done the same way: the tasks' ``(status, lease_expires_at)`` and ``(status, timeout_at)``
indexes, although most of their rows have no time. Queries that filter on a status alone
(a run's open activity tasks, a worker's leases, queue depths) reach their rows through those
indexes' ``status`` prefix; partial, they would not serve them, and SQLite would scan.

Upgrading: the index is dropped and built again in the migration's transaction, so writes to
``workflow_runs`` wait while it builds (on PostgreSQL, ``CREATE INDEX`` without
``CONCURRENTLY``): seconds on a table of millions of rows. On a large database, start the new
server (which migrates at startup) in a quiet moment.

Revision ID: 0018_partial_closed_index
Revises: 0017_timers_run_status
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_partial_closed_index"
down_revision = "0017_timers_run_status"
branch_labels = None
depends_on = None

_INDEX, _TABLE, _COLUMNS = "ix_workflow_runs_namespace_closed", "workflow_runs", ["namespace", "closed_at"]


def upgrade() -> None:
    op.drop_index(_INDEX, table_name=_TABLE)
    closed = sa.text("closed_at IS NOT NULL")
    op.create_index(_INDEX, _TABLE, _COLUMNS, sqlite_where=closed, postgresql_where=closed)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name=_TABLE)
    op.create_index(_INDEX, _TABLE, _COLUMNS)
