"""The history a leased workflow task was handed, so re-sent steps are judged by what the worker saw.

Revision ID: 0004_task_history_sequence
Revises: 0003_workflow_timeouts
Create Date: 2026-03-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_task_history_sequence"
down_revision = "0003_workflow_timeouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain nullable ADD COLUMN; NULL (tasks leased before the upgrade) means "the current history".
    op.add_column("workflow_tasks", sa.Column("history_sequence", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("workflow_tasks", "history_sequence")
