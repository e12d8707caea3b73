"""The list path's status index: runs of one status, newest first, in one index range.

``GET /workflows?status=...`` (and a visibility query on ``Status``) kept the order of
``ix_workflow_runs_namespace_started`` but had to read every run's row to test its status, so a
rare status (failed, and more so failed AND a search attribute) read thousands of rows per page.
With (status, namespace, started_at, run_id) a page of one status is an index range in keyset
order; the list statement asks it once per status of the bucket and merges the pages. Status
comes first so that a list of the whole namespace (``namespace = ?`` alone) cannot take this
index and sort: SQLite, without statistics for a new index, preferred it over the started index.

A custom-attribute filter tests each candidate run with one probe of its value rows by
``run_id``; (run_id, name, value_keyword) answers that probe from the index alone for the
keyword-valued types (keyword, keyword_list, text), instead of a primary-key probe plus a read
of the value row for every run the scan passes.

Revision ID: 0011_list_status_index
Revises: 0010_maintenance
Create Date: 2027-01-10
"""

from __future__ import annotations

from alembic import op

revision = "0011_list_status_index"
down_revision = "0010_maintenance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_workflow_runs_status_namespace_started",
        "workflow_runs",
        ["status", "namespace", "started_at", "run_id"],
    )
    op.create_index(
        "ix_search_attribute_values_run_keyword",
        "search_attribute_values",
        ["run_id", "name", "value_keyword"],
    )


def downgrade() -> None:
    op.drop_index("ix_search_attribute_values_run_keyword", table_name="search_attribute_values")
    op.drop_index("ix_workflow_runs_status_namespace_started", table_name="workflow_runs")
