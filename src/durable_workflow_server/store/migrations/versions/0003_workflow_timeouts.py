"""The open-run deadline column the background loop scans to enforce workflow timeouts.

Revision ID: 0003_workflow_timeouts
Revises: 0002_activity_timeouts
Create Date: 2026-03-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_workflow_timeouts"
down_revision = "0002_activity_timeouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain nullable ADD COLUMN (no SQLite table rebuild). Runs that are open at upgrade time
    # get their earlier deadline copied in, so they are enforced like new ones.
    op.add_column("workflow_runs", sa.Column("timeout_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE workflow_runs SET timeout_at = CASE"
        " WHEN execution_deadline_at IS NULL THEN run_deadline_at"
        " WHEN run_deadline_at IS NULL THEN execution_deadline_at"
        " WHEN run_deadline_at < execution_deadline_at THEN run_deadline_at"
        " ELSE execution_deadline_at END"
        " WHERE status IN ('pending', 'running', 'waiting')"
    )
    op.create_index("ix_workflow_runs_timeout_at", "workflow_runs", ["timeout_at"])


def downgrade() -> None:
    op.drop_index("ix_workflow_runs_timeout_at", table_name="workflow_runs")
    op.drop_column("workflow_runs", "timeout_at")
