"""The run indexes on ``timeout_at`` and ``sticky_worker_id`` hold only the rows with a value.

Both columns are ``NULL`` for most runs (no run timeout; no sticky worker, or closed), and both
indexes are read only for a value (due timeouts ``timeout_at <= ?``, the earliest of them with
``timeout_at IS NOT NULL``; a worker's runs ``sticky_worker_id = ?``). A full index still got an
entry for every run inserted and kept every closed run's ``NULL`` one: on SQLite one more page
written in the start's commit for each. Partial indexes skip those and stay as small as the
runs that have a value.

Upgrading: the indexes are dropped and built again in the migration's transaction, so writes to
``workflow_runs`` wait while they build (on PostgreSQL, ``CREATE INDEX`` without ``CONCURRENTLY``):
seconds on a table of millions of rows. On a large database, start the new server (which
migrates at startup) in a quiet moment.

Revision ID: 0016_partial_run_indexes
Revises: 0015_poll_request_on_task
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_partial_run_indexes"
down_revision = "0015_poll_request_on_task"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_workflow_runs_timeout_at", "timeout_at"),
    ("ix_workflow_runs_sticky_worker", "sticky_worker_id"),
)


def upgrade() -> None:
    for name, column in _INDEXES:
        op.drop_index(name, table_name="workflow_runs")
        has_value = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "workflow_runs", [column], sqlite_where=has_value, postgresql_where=has_value)


def downgrade() -> None:
    for name, column in _INDEXES:
        op.drop_index(name, table_name="workflow_runs")
        op.create_index(name, "workflow_runs", [column])
