"""A poll's request id kept on the workflow task it leased, instead of in ``poll_requests``.

A workflow-task poll retried by the transport with the same ``poll_request_id`` gets the lease
its first try took. That lease was remembered by one more statement per poll, an insert into
``poll_requests`` (purged by the background loop once the lease was over). The claim's own
update now writes it on the task: ``workflow_tasks.poll_request_id`` names the poll the current
lease was handed to (``NULL``: handed out without one, eagerly or by a poll that sent none; every
claim rewrites it), and ``poll_expires_at`` is when a retry of that poll no longer gets it back
(the lease's first expiry + 5 s, as the entry's expiry was). A retry finds its lease through the
partial index on ``poll_request_id``. ``poll_requests`` is dropped: its entries named leases of
the server that wrote them, which a retry after the upgrade no longer needs.

Revision ID: 0015_poll_request_on_task
Revises: 0014_activity_last_failure
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_poll_request_on_task"
down_revision = "0014_activity_last_failure"
branch_labels = None
depends_on = None

_INDEX = "ix_workflow_tasks_poll_request"
_HAS_POLL = sa.text("poll_request_id IS NOT NULL")


def upgrade() -> None:
    # Plain nullable ADD COLUMNs (no SQLite table rebuild).
    op.add_column("workflow_tasks", sa.Column("poll_request_id", sa.String(255), nullable=True))
    op.add_column("workflow_tasks", sa.Column("poll_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        _INDEX, "workflow_tasks", ["poll_request_id"], sqlite_where=_HAS_POLL, postgresql_where=_HAS_POLL
    )
    op.drop_index("ix_poll_requests_expires", table_name="poll_requests")
    op.drop_table("poll_requests")


def downgrade() -> None:
    op.create_table(
        "poll_requests",
        sa.Column("namespace", sa.String(128), primary_key=True),
        sa.Column("worker_id", sa.String(255), primary_key=True),
        sa.Column("poll_request_id", sa.String(255), primary_key=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("workflow_task_attempt", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_poll_requests_expires", "poll_requests", ["expires_at"])
    op.drop_index(_INDEX, table_name="workflow_tasks")
    op.drop_column("workflow_tasks", "poll_expires_at")
    op.drop_column("workflow_tasks", "poll_request_id")
