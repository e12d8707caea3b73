"""The search-attribute registry, the typed values list filters read, and bridge outcomes.

Revision ID: 0008_search_attributes_bridge
Revises: 0007_schedules
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_search_attributes_bridge"
down_revision = "0007_schedules"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "search_attribute_definitions",
        sa.Column("namespace", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("attribute_type", sa.String(32), nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "search_attribute_values",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("ordinal", sa.Integer(), primary_key=True),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("value_keyword", sa.String(2048), nullable=True),
        sa.Column("value_int", sa.BigInteger(), nullable=True),
        sa.Column("value_double", sa.Double(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        _ts("value_datetime"),
    )
    for kind in ("keyword", "int", "double", "datetime"):
        op.create_index(
            f"ix_search_attribute_values_{kind}",
            "search_attribute_values",
            ["namespace", "name", f"value_{kind}"],
        )
    op.create_index(
        "ix_workflow_runs_namespace_type_started",
        "workflow_runs",
        ["namespace", "workflow_type", "started_at", "run_id"],
    )
    op.create_index(
        "ix_workflow_runs_namespace_queue_started",
        "workflow_runs",
        ["namespace", "task_queue", "started_at", "run_id"],
    )
    op.create_index("ix_workflow_runs_namespace_closed", "workflow_runs", ["namespace", "closed_at"])
    op.create_table(
        "bridge_outcomes",
        sa.Column("namespace", sa.String(128), primary_key=True),
        sa.Column("adapter", sa.String(128), primary_key=True),
        sa.Column("idempotency_key", sa.String(255), primary_key=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("workflow_id", sa.String(191), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        _ts("claimed_at", nullable=False),
        _ts("created_at", nullable=False),
    )
