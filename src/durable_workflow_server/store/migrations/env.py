"""Alembic environment: migrations run on the connection ``Store.migrate()`` hands over."""

from __future__ import annotations

from alembic import context

from durable_workflow_server.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("durable-workflow migrations run through Store.open(), which passes a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
