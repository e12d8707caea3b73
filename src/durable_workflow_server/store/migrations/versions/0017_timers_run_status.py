"""The timers' run index also holds ``status``: ``(run_id, status, sequence)``, not ``(run_id, sequence)``.

A workflow-task completion asks (in its ``RETURNING``) whether its run has a pending timer, and an
activity completion which step of its run is the first unresolved, a pending timer included:
``run_id = ? AND timer_kind IS NULL AND status = 'pending'``. With ``run_id`` alone in the run
index, SQLite (no statistics) took ``ix_timers_due`` for ``status = ?`` instead, a walk over
every pending timer of every run: with 20,000 sleeping workflows, 6 to 15 ms per completion
(EXPLAIN QUERY PLAN and timing on a copy of the benchmark's database), against 0.3 ms with
both columns in the run index. A run's timers by sequence sort a run's few timers instead.

Upgrading: the indexes are dropped and built again in the migration's transaction, so writes to
``timers`` wait while they build (on PostgreSQL, ``CREATE INDEX`` without ``CONCURRENTLY``):
seconds on a table of millions of rows. On a large database, start the new server (which
migrates at startup) in a quiet moment.

Revision ID: 0017_timers_run_status
Revises: 0016_partial_run_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0017_timers_run_status"
down_revision = "0016_partial_run_indexes"
branch_labels = None
depends_on = None

_INDEX = "ix_timers_run"


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="timers")
    op.create_index(_INDEX, "timers", ["run_id", "status", "sequence"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="timers")
    op.create_index(_INDEX, "timers", ["run_id", "sequence"])
