"""Signals, updates, condition waits, child links, query tasks; pause, archive and parent columns.

Revision ID: 0005_workflow_messages
Revises: 0004_task_history_sequence
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_workflow_messages"
down_revision = "0004_task_history_sequence"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


_RUN_COLUMNS = (
    sa.Column("parent_run_id", sa.String(64), nullable=True),
    sa.Column("parent_workflow_id", sa.String(191), nullable=True),
    sa.Column("parent_link_id", sa.String(64), nullable=True),
    _ts("paused_at"),
    sa.Column("pause_reason", sa.Text(), nullable=True),
    _ts("archived_at"),
    sa.Column("archive_reason", sa.Text(), nullable=True),
    sa.Column("archive_command_id", sa.String(64), nullable=True),
)


def upgrade() -> None:
    # Plain nullable ADD COLUMNs: SQLite supports them without a table rebuild; rows written
    # before this revision have no parent, were never paused or archived, and carry no update.
    for column in _RUN_COLUMNS:
        op.add_column("workflow_runs", column)
    op.add_column("workflow_tasks", sa.Column("workflow_update_id", sa.String(191), nullable=True))
    op.add_column("timers", sa.Column("timer_kind", sa.String(32), nullable=True))
    op.add_column("timers", sa.Column("target_id", sa.String(191), nullable=True))

    op.create_table(
        "signals",
        sa.Column("signal_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(191), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("signal_name", sa.String(512), nullable=False),
        sa.Column("payload_codec", sa.String(64), nullable=False),
        sa.Column("arguments_blob", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(255), nullable=True),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("history_sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("received_at", nullable=False),
        _ts("applied_at"),
        sa.UniqueConstraint("run_id", "request_id", name="uq_signals_request"),
    )
    op.create_index("ix_signals_run", "signals", ["run_id", "status"])

    op.create_table(
        "updates",
        sa.Column("update_id", sa.String(191), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(191), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("update_name", sa.String(512), nullable=False),
        sa.Column("payload_codec", sa.String(64), nullable=False),
        sa.Column("arguments_blob", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(255), nullable=True),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("history_sequence", sa.Integer(), nullable=True),
        sa.Column("workflow_sequence", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("result_codec", sa.String(64), nullable=True),
        sa.Column("result_blob", sa.Text(), nullable=True),
        sa.Column("failure", sa.JSON(), nullable=True),
        _ts("accepted_at"),
        _ts("applied_at"),
        _ts("closed_at"),
        _ts("rejected_at"),
    )
    op.create_index("ix_updates_run", "updates", ["run_id", "status"])

    op.create_table(
        "condition_waits",
        sa.Column("condition_wait_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("condition_key", sa.String(255), nullable=True),
        sa.Column("condition_definition_fingerprint", sa.String(255), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("timer_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("opened_at", nullable=False),
        _ts("closed_at"),
    )
    op.create_index("ix_condition_waits_run", "condition_waits", ["run_id", "status"])

    op.create_table(
        "child_links",
        sa.Column("link_id", sa.String(64), primary_key=True),
        sa.Column("parent_run_id", sa.String(64), nullable=False),
        sa.Column("parent_workflow_id", sa.String(191), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("child_workflow_id", sa.String(191), nullable=False),
        sa.Column("child_run_id", sa.String(64), nullable=True),
        sa.Column("child_workflow_type", sa.String(255), nullable=False),
        sa.Column("task_queue", sa.String(255), nullable=False),
        sa.Column("payload_codec", sa.String(64), nullable=False),
        sa.Column("arguments_blob", sa.Text(), nullable=True),
        sa.Column("parent_close_policy", sa.String(32), nullable=False),
        sa.Column("retry_policy", sa.JSON(), nullable=True),
        sa.Column("execution_timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("run_timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("created_at", nullable=False),
        _ts("closed_at"),
    )
    op.create_index("ix_child_links_parent", "child_links", ["parent_run_id", "sequence"])
    op.create_index("ix_child_links_child", "child_links", ["child_workflow_id"])

    op.create_table(
        "query_tasks",
        sa.Column("query_task_id", sa.String(64), primary_key=True),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("task_queue", sa.String(255), nullable=False),
        sa.Column("workflow_id", sa.String(191), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("workflow_type", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("query_name", sa.String(512), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _ts("lease_expires_at"),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("failure", sa.JSON(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
    )
    op.create_index(
        "ix_query_tasks_queue", "query_tasks", ["namespace", "task_queue", "status", "created_at"]
    )
    op.create_index("ix_query_tasks_expires", "query_tasks", ["expires_at"])


def downgrade() -> None:
    for table in ("query_tasks", "child_links", "condition_waits", "updates", "signals"):
        op.drop_table(table)
    op.drop_column("timers", "target_id")
    op.drop_column("timers", "timer_kind")
    op.drop_column("workflow_tasks", "workflow_update_id")
    for column in reversed(_RUN_COLUMNS):
        op.drop_column("workflow_runs", column.name)
