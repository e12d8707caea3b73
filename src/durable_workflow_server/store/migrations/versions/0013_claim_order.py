"""Claim order read straight off the queue indexes; a run's live leases found by run.

The claim candidates are ordered ``available_at, task_id``: with ``task_id`` the last column of
the queue index, a claim is an index range read that stops at its ``LIMIT`` (before, ties on
``available_at`` were sorted in a temporary b-tree). The claim's "another task of this run is
leased" check, and the completion's, find the run's leased tasks through
``(run_id, status, lease_expires_at)`` rather than scanning every live lease.

Revision ID: 0013_claim_order
Revises: 0012_sticky_workflow_tasks
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0013_claim_order"
down_revision = "0012_sticky_workflow_tasks"
branch_labels = None
depends_on = None

_QUEUE = ["namespace", "task_queue", "status", "available_at"]


def upgrade() -> None:
    for table in ("workflow_tasks", "activity_tasks"):
        op.drop_index(f"ix_{table}_queue_due", table_name=table)
        op.create_index(f"ix_{table}_queue_due", table, [*_QUEUE, "task_id"])
    op.drop_index("ix_workflow_tasks_run", table_name="workflow_tasks")
    op.create_index("ix_workflow_tasks_run", "workflow_tasks", ["run_id", "status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_workflow_tasks_run", table_name="workflow_tasks")
    op.create_index("ix_workflow_tasks_run", "workflow_tasks", ["run_id", "status"])
    for table in ("workflow_tasks", "activity_tasks"):
        op.drop_index(f"ix_{table}_queue_due", table_name=table)
        op.create_index(f"ix_{table}_queue_due", table, _QUEUE)
