"""Activity timeout deadlines on activity tasks, and the due-time index the background loop scans.

Revision ID: 0002_activity_timeouts
Revises: 0001_initial
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_activity_timeouts"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_COLUMNS = (
    "schedule_to_start_deadline_at",
    "start_to_close_deadline_at",
    "schedule_to_close_deadline_at",
    "heartbeat_deadline_at",
    "timeout_at",
)


def upgrade() -> None:
    # Plain nullable ADD COLUMNs: SQLite supports them without a table rebuild, and existing
    # tasks (scheduled before this revision) simply have no deadlines.
    for name in _COLUMNS:
        op.add_column("activity_tasks", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_activity_tasks_timeout_due", "activity_tasks", ["status", "timeout_at"])


def downgrade() -> None:
    op.drop_index("ix_activity_tasks_timeout_due", table_name="activity_tasks")
    for name in reversed(_COLUMNS):
        op.drop_column("activity_tasks", name)
