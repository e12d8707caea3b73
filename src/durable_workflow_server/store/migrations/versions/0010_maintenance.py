"""Maintenance passes and the webhook bridge's idempotency keys.

Revision ID: 0010_maintenance
Revises: 0009_task_queues
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "0010_maintenance"
down_revision = "0009_task_queues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the issue-8 work on this noun; an empty revision keeps the chain fixed.
    pass
