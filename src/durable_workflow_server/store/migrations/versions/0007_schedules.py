"""Schedules and their audit history.

Revision ID: 0007_schedules
Revises: 0006_namespaces_storage
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "0007_schedules"
down_revision = "0006_namespaces_storage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the issue-8 work on this noun; an empty revision keeps the chain fixed.
    pass
