"""The search-attribute registry and the typed values list filters read.

Revision ID: 0008_search_attributes_bridge
Revises: 0007_schedules
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "0008_search_attributes_bridge"
down_revision = "0007_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the issue-8 work on this noun; an empty revision keeps the chain fixed.
    pass
