"""Initial schema: namespaces, workflows, history, tasks, activities, timers, workers.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "namespaces",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=False, server_default="30"),
        sa.Column("status", sa.String(32), nullable=False, server_default="active"),
        sa.Column("external_payload_storage", sa.JSON(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "workflow_instances",
        sa.Column("workflow_id", sa.String(191), primary_key=True),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("workflow_type", sa.String(255), nullable=False),
        sa.Column("current_run_id", sa.String(64), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_workflow_instances_namespace", "workflow_instances", ["namespace"])
    op.create_table(
        "workflow_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("workflow_id", sa.String(191), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("run_number", sa.Integer(), nullable=False),
        sa.Column("workflow_type", sa.String(255), nullable=False),
        sa.Column("task_queue", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("closed_reason", sa.String(32), nullable=True),
        sa.Column("business_key", sa.String(255), nullable=True),
        sa.Column("memo", sa.JSON(), nullable=True),
        sa.Column("search_attributes", sa.JSON(), nullable=True),
        sa.Column("payload_codec", sa.String(64), nullable=False),
        sa.Column("input_blob", sa.Text(), nullable=True),
        sa.Column("output_codec", sa.String(64), nullable=True),
        sa.Column("output_blob", sa.Text(), nullable=True),
        sa.Column("execution_timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("run_timeout_seconds", sa.Integer(), nullable=True),
        _ts("execution_deadline_at"),
        _ts("run_deadline_at"),
        _ts("started_at", nullable=False),
        _ts("closed_at"),
        _ts("last_progress_at"),
        sa.Column("last_history_sequence", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("wait_kind", sa.String(32), nullable=True),
        sa.Column("wait_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("workflow_id", "run_number", name="uq_workflow_runs_workflow_run_number"),
    )
    op.create_index(
        "ix_workflow_runs_namespace_started", "workflow_runs", ["namespace", "started_at", "run_id"]
    )
    op.create_table(
        "history_events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("workflow_task_id", sa.String(64), nullable=True),
        sa.Column("workflow_command_id", sa.String(64), nullable=True),
        _ts("recorded_at", nullable=False),
        sa.UniqueConstraint("run_id", "sequence", name="uq_history_events_run_sequence"),
    )
    op.create_table(
        "workflow_tasks",
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(191), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("task_queue", sa.String(255), nullable=False),
        sa.Column("workflow_type", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("available_at", nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _ts("lease_expires_at"),
        sa.Column("attempt_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_index(
        "ix_workflow_tasks_queue_due", "workflow_tasks", ["namespace", "task_queue", "status", "available_at"]
    )
    op.create_index("ix_workflow_tasks_lease_due", "workflow_tasks", ["status", "lease_expires_at"])
    op.create_index("ix_workflow_tasks_run", "workflow_tasks", ["run_id", "status"])
    op.create_table(
        "activity_executions",
        sa.Column("activity_execution_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(191), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("activity_type", sa.String(255), nullable=False),
        sa.Column("task_queue", sa.String(255), nullable=False),
        sa.Column("payload_codec", sa.String(64), nullable=False),
        sa.Column("arguments_blob", sa.Text(), nullable=True),
        sa.Column("retry_policy", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("current_attempt_id", sa.String(64), nullable=True),
        sa.Column("result_blob", sa.Text(), nullable=True),
        _ts("scheduled_at", nullable=False),
        _ts("closed_at"),
    )
    op.create_index("ix_activity_executions_run", "activity_executions", ["run_id", "sequence"])
    op.create_table(
        "activity_tasks",
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("activity_execution_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("task_queue", sa.String(255), nullable=False),
        sa.Column("activity_type", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("available_at", nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _ts("lease_expires_at"),
        sa.Column("current_attempt_id", sa.String(64), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_index(
        "ix_activity_tasks_queue_due", "activity_tasks", ["namespace", "task_queue", "status", "available_at"]
    )
    op.create_index("ix_activity_tasks_lease_due", "activity_tasks", ["status", "lease_expires_at"])
    op.create_table(
        "activity_attempts",
        sa.Column("attempt_id", sa.String(64), primary_key=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("activity_execution_id", sa.String(64), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=False),
        _ts("started_at", nullable=False),
        _ts("closed_at"),
        _ts("last_heartbeat_at"),
        sa.Column("progress", sa.JSON(), nullable=True),
    )
    op.create_index("ix_activity_attempts_execution", "activity_attempts", ["activity_execution_id"])
    op.create_table(
        "timers",
        sa.Column("timer_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("delay_seconds", sa.Integer(), nullable=False),
        _ts("fire_at", nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("fired_at"),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_timers_due", "timers", ["status", "fire_at"])
    op.create_index("ix_timers_run", "timers", ["run_id", "sequence"])
    op.create_table(
        "workers",
        sa.Column("namespace", sa.String(128), primary_key=True),
        sa.Column("worker_id", sa.String(255), primary_key=True),
        sa.Column("task_queue", sa.String(255), nullable=False),
        sa.Column("runtime", sa.String(64), nullable=False),
        sa.Column("sdk_version", sa.String(64), nullable=True),
        sa.Column("build_id", sa.String(255), nullable=True),
        sa.Column("supported_workflow_types", sa.JSON(), nullable=False),
        sa.Column("supported_activity_types", sa.JSON(), nullable=False),
        sa.Column("workflow_definition_fingerprints", sa.JSON(), nullable=False),
        sa.Column("max_concurrent_workflow_tasks", sa.Integer(), nullable=False),
        sa.Column("max_concurrent_activity_tasks", sa.Integer(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("task_slots", sa.JSON(), nullable=True),
        sa.Column("process_metrics", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("last_heartbeat_at", nullable=False),
        _ts("registered_at", nullable=False),
    )
    op.create_index("ix_workers_queue", "workers", ["namespace", "task_queue"])
    op.create_table(
        "poll_requests",
        sa.Column("namespace", sa.String(128), primary_key=True),
        sa.Column("worker_id", sa.String(255), primary_key=True),
        sa.Column("poll_request_id", sa.String(255), primary_key=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("workflow_task_attempt", sa.Integer(), nullable=False),
        _ts("expires_at", nullable=False),
    )
    op.create_index("ix_poll_requests_expires", "poll_requests", ["expires_at"])


def downgrade() -> None:
    for table in (
        "poll_requests",
        "workers",
        "timers",
        "activity_attempts",
        "activity_tasks",
        "activity_executions",
        "workflow_tasks",
        "history_events",
        "workflow_runs",
        "workflow_instances",
        "namespaces",
    ):
        op.drop_table(table)
