"""The store counts every statement it executes (``GET /metrics``' SQL statement counter)."""

from __future__ import annotations

import sqlalchemy as sa

from durable_workflow_server.store import create_store
from durable_workflow_server.store import tables as t


async def test_every_statement_through_the_conn_seam_is_counted(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        before = store.tally.statements
        async with store.write() as conn:
            await conn.execute(sa.select(t.namespaces.c.name))
            await conn.execute(sa.text("SELECT 1"))
        async with store.read() as conn:
            await conn.execute(sa.select(sa.func.count()).select_from(t.workflow_runs))
        async with store.snapshot() as conn:
            await conn.execute(sa.text("SELECT 1"))
        assert store.tally.statements - before == 4
    finally:
        await store.close()
