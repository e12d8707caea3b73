"""PostgreSQL: where asyncpg lacks the internals the store binds through, its public API serves.

A later asyncpg may rename the private methods :func:`pg_pool.bind_execute` uses; the store then
runs every statement through ``Connection.fetch``/``execute`` with the same answers.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from durable_workflow_server.store import PostgresStore, create_store, pg_pool
from durable_workflow_server.store import tables as t
from tests.helpers.dbmatrix import POSTGRES_ENV, fresh_postgres_url

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="PostgreSQL only")

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_this_asyncpg_has_the_internals_bound_directly() -> None:
    import asyncpg

    pg_pool.know_stale_statements(asyncpg)
    assert pg_pool._DIRECT


async def test_the_public_api_answers_the_same(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = create_store(fresh_postgres_url(request))
    assert isinstance(store, PostgresStore)
    await store.open()
    try:
        monkeypatch.setattr(pg_pool, "_DIRECT", False)
        ns = t.namespaces
        async with store.write() as conn:
            row = {"name": "pub", "description": "d", "created_at": NOW, "updated_at": NOW}
            await conn.execute(sa.insert(ns), row)
            changed = await conn.execute(sa.update(ns).where(ns.c.name == "pub").values(description="e"))
            assert changed.rowcount == 1
        async with store.read() as conn:
            rows = await conn.fetch(sa.select(ns.c.name, ns.c.description).where(ns.c.name == "pub"))
        assert rows == [{"name": "pub", "description": "e"}]
    finally:
        await store.close()
