"""Namespaces and external payload storage: deleted namespaces, stored payload objects.

Revision ID: 0006_namespaces_storage
Revises: 0005_workflow_messages
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "0006_namespaces_storage"
down_revision = "0005_workflow_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the issue-8 work on this noun; an empty revision keeps the chain fixed.
    pass
