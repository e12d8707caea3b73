"""Sticky workflow tasks: the worker that keeps a run's replay, on the run and on its next task.

Revision ID: 0012_sticky_workflow_tasks
Revises: 0011_list_status_index
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_sticky_workflow_tasks"
down_revision = "0011_list_status_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain nullable ADD COLUMNs: NULL is "not sticky", what every existing run and task is.
    op.add_column("workflow_runs", sa.Column("sticky_worker_id", sa.String(255), nullable=True))
    op.add_column("workflow_runs", sa.Column("sticky_history_sequence", sa.Integer(), nullable=True))
    op.create_index("ix_workflow_runs_sticky_worker", "workflow_runs", ["sticky_worker_id"])
    op.add_column("workflow_tasks", sa.Column("sticky_worker_id", sa.String(255), nullable=True))


def downgrade() -> None:
    op.drop_column("workflow_tasks", "sticky_worker_id")
    op.drop_index("ix_workflow_runs_sticky_worker", table_name="workflow_runs")
    op.drop_column("workflow_runs", "sticky_history_sequence")
    op.drop_column("workflow_runs", "sticky_worker_id")
