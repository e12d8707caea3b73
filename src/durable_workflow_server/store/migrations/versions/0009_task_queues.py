"""Build-id cohorts of task queues (drain intents, promotion).

Revision ID: 0009_task_queues
Revises: 0008_search_attributes_bridge
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "0009_task_queues"
down_revision = "0008_search_attributes_bridge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the issue-8 work on this noun; an empty revision keeps the chain fixed.
    pass
