"""Namespaces and external payload storage: deleted namespaces, stored payload objects.

Revision ID: 0006_namespaces_storage
Revises: 0005_workflow_messages
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_namespaces_storage"
down_revision = "0005_workflow_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the issue-8 work on this noun; an empty revision keeps the chain fixed.
    _external_payloads()


def _external_payloads() -> None:
    # Objects the server wrote to a namespace's external storage, one row per run referring to
    # each (the retention pass deletes an object with the last run referring to it).
    op.create_table(
        "external_payloads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("namespace", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("codec", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_external_payloads_run", "external_payloads", ["run_id"])
    op.create_index("ix_external_payloads_namespace_uri", "external_payloads", ["namespace", "uri"])
