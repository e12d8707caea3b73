"""Maintenance and metrics: no schema of their own (retention uses 0008's closed-runs index).

Revision ID: 0010_maintenance
Revises: 0009_task_queues
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "0010_maintenance"
down_revision = "0009_task_queues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nothing to add: retention scans closed runs through ix_workflow_runs_namespace_closed (0008).
    pass
