"""Schedules and their audit history.

Revision ID: 0007_schedules
Revises: 0006_namespaces_storage
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_schedules"
down_revision = "0006_namespaces_storage"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("namespace", sa.String(128), primary_key=True),
        sa.Column("schedule_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("overlap_policy", sa.String(32), nullable=False),
        sa.Column("jitter_seconds", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_runs", sa.Integer(), nullable=True),
        sa.Column("remaining_actions", sa.Integer(), nullable=True),
        sa.Column("memo", sa.JSON(), nullable=True),
        sa.Column("search_attributes", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("next_fire_at"),
        _ts("next_nominal_at"),
        _ts("last_fired_at"),
        sa.Column("fires_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failures_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("skipped_trigger_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_skip_reason", sa.String(64), nullable=True),
        _ts("last_skipped_at"),
        sa.Column("buffered_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("latest_workflow_id", sa.String(191), nullable=True),
        sa.Column("latest_run_id", sa.String(64), nullable=True),
        sa.Column("history_sequence", sa.Integer(), nullable=False, server_default="0"),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("paused_at"),
        _ts("resumed_at"),
        _ts("deleted_at"),
    )
    op.create_index("ix_schedules_due", "schedules", ["status", "next_fire_at"])
    op.create_index("ix_schedules_buffered", "schedules", ["status", "buffered_count"])
    op.create_index("ix_schedules_namespace_created", "schedules", ["namespace", "created_at"])

    op.create_table(
        "schedule_history_events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("schedule_id", sa.String(128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("workflow_instance_id", sa.String(191), nullable=True),
        sa.Column("workflow_run_id", sa.String(64), nullable=True),
        _ts("recorded_at", nullable=False),
        sa.UniqueConstraint("namespace", "schedule_id", "sequence", name="uq_schedule_history_sequence"),
    )

    op.create_table(
        "schedule_fires",
        sa.Column("fire_id", sa.String(64), primary_key=True),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("schedule_id", sa.String(128), nullable=False),
        _ts("fire_at", nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("workflow_id", sa.String(191), nullable=True),
        _ts("lease_expires_at"),
        _ts("created_at", nullable=False),
    )
    op.create_index(
        "ix_schedule_fires_schedule", "schedule_fires", ["namespace", "schedule_id", "status", "created_at"]
    )
    op.create_index("ix_schedule_fires_lease", "schedule_fires", ["status", "lease_expires_at"])
