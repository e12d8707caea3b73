"""Build-id cohorts of task queues (drain intents, promotion).

Revision ID: 0009_task_queues
Revises: 0008_search_attributes_bridge
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_task_queues"
down_revision = "0008_search_attributes_bridge"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "task_queue_build_ids",
        sa.Column("namespace", sa.String(128), primary_key=True),
        sa.Column("task_queue", sa.String(255), primary_key=True),
        sa.Column("build_key", sa.String(255), primary_key=True),
        sa.Column("build_id", sa.String(255), nullable=True),
        sa.Column("drain_intent", sa.String(32), nullable=False),
        _ts("drained_at"),
        _ts("promoted_at"),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    # A plain nullable ADD COLUMN (no table rebuild on SQLite): runs started before this
    # revision are not pinned to any build.
    op.add_column("workflow_runs", sa.Column("pinned_build_key", sa.String(255), nullable=True))
    op.add_column("workflow_tasks", sa.Column("pinned_build_key", sa.String(255), nullable=True))
    op.create_index("ix_workers_heartbeat", "workers", ["last_heartbeat_at"])
