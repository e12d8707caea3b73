"""Maintenance and metrics: the index the retention pass scans closed runs with.

Revision ID: 0010_maintenance
Revises: 0009_task_queues
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0010_maintenance"
down_revision = "0009_task_queues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Retention scans a namespace's closed runs, oldest closed first.
    op.create_index("ix_workflow_runs_namespace_closed", "workflow_runs", ["namespace", "closed_at"])
