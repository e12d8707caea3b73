"""PostgreSQL: where asyncpg lacks the internals the store binds through, its public API serves.

A later asyncpg may rename the private methods :func:`pg_pool.bind_execute` uses; the store then
runs every statement through ``Connection.fetch``/``execute`` with the same answers.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from types import SimpleNamespace

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


def test_an_asyncpg_without_them_is_served_by_its_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncpg

    for name in ("_DIRECT", "_STALE_TYPES", "_INVALID_CACHED"):  # put back after the test
        monkeypatch.setattr(pg_pool, name, getattr(pg_pool, name))

    class Renamed:  # a release whose connection no longer has ``_get_statement``
        _drop_global_statement_cache = asyncpg.connection.Connection._drop_global_statement_cache

    later = SimpleNamespace(
        exceptions=asyncpg.exceptions,
        connection=SimpleNamespace(Connection=Renamed),
        protocol=asyncpg.protocol,
        __version__="9.9",
    )
    pg_pool.know_stale_statements(later)
    assert not pg_pool._DIRECT
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
        public = pg_pool._public_execute
        calls: list[str] = []

        async def counted(raw: object, sql: str, args: object, status: bool) -> object:
            calls.append(sql)
            return await public(raw, sql, args, status)  # type: ignore[arg-type]

        monkeypatch.setattr(pg_pool, "_public_execute", counted)
        ns = t.namespaces
        async with store.write() as conn:
            row = {"name": "pub", "description": "d", "created_at": NOW, "updated_at": NOW}
            await conn.execute(sa.insert(ns), row)
            changed = await conn.execute(sa.update(ns).where(ns.c.name == "pub").values(description="e"))
            assert changed.rowcount == 1
        async with store.read() as conn:
            rows = await conn.fetch(sa.select(ns.c.name, ns.c.description).where(ns.c.name == "pub"))
        assert rows == [{"name": "pub", "description": "e"}]
        assert len(calls) >= 3  # the insert, the update and the select went the public way
    finally:
        await store.close()
