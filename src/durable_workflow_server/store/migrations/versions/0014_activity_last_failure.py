"""An open activity's latest failure kept on its execution row.

``activity_executions.last_failure`` is written with the retry that follows a failed or timed-out
attempt (``{attempt, exception_class, message, non_retryable, recorded_at}``), so describe's
``waiting_on.activities`` can say why an activity waits for a retry without reading the run's
history. Rows of executions that failed before this migration keep ``NULL``.

Revision ID: 0014_activity_last_failure
Revises: 0013_claim_order
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_activity_last_failure"
down_revision = "0013_claim_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain nullable ADD COLUMN (no SQLite table rebuild).
    op.add_column("activity_executions", sa.Column("last_failure", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("activity_executions", "last_failure")
