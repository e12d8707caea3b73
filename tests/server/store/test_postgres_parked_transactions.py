"""PostgreSQL: a write ends with ``COMMIT; BEGIN``, so the next write on its connection sends no
``BEGIN``; the empty transaction left open holds no snapshot and no lock, reads and snapshots on
such a connection end it, and a database that ends idle transactions gets none."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.store import PostgresStore, create_store
from durable_workflow_server.store import tables as t
from tests.helpers.dbmatrix import POSTGRES_ENV, fresh_postgres_url

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="PostgreSQL only")

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
_ns = t.namespaces
_PID = sa.text("SELECT pg_backend_pid()")
_ACTIVITY = "SELECT state, backend_xid, backend_xmin FROM pg_stat_activity WHERE pid = $1"
_XACT_START = "SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
_RELATION_LOCKS = "SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype = 'relation'"


def _namespace(name: str) -> dict[str, Any]:
    return {"name": name, "description": None, "created_at": NOW, "updated_at": NOW}


@pytest.fixture
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[tuple[PostgresStore, Any]]:
    import asyncpg

    url = fresh_postgres_url(request)
    store = create_store(url)
    assert isinstance(store, PostgresStore)
    await store.open()
    admin = await asyncpg.connect(url)
    try:
        yield store, admin
    finally:
        await admin.close()
        await store.close()


async def _one_write(store: PostgresStore, name: str) -> int:
    async with store.write() as conn:
        await conn.execute(sa.insert(_ns), _namespace(name))
        pid: int = (await conn.execute(_PID)).scalar_one()
    return pid


async def test_a_write_leaves_an_empty_transaction_that_the_next_write_uses(
    stores: tuple[PostgresStore, Any],
) -> None:
    store, admin = stores
    pid = await _one_write(store, "a")
    state, xid, xmin = await admin.fetchrow(_ACTIVITY, pid)
    assert (state, xid, xmin) == ("idle in transaction", None, None)  # nothing for VACUUM to wait on
    assert await admin.fetchval(_RELATION_LOCKS, pid) == 0  # nothing for DDL to wait on
    before = await admin.fetchval("SELECT clock_timestamp()")
    async with store.write() as conn:
        assert (await conn.execute(_PID)).scalar_one() == pid
        began = (await conn.execute(sa.text(_XACT_START))).scalar_one()
        await conn.execute(sa.insert(_ns), _namespace("b"))
    assert began < before  # its BEGIN went out with the previous COMMIT
    with pytest.raises(RuntimeError):
        async with store.write() as conn:  # still one transaction: all or nothing
            await conn.execute(sa.insert(_ns), _namespace("rolled back"))
            raise RuntimeError("roll it back")
    async with store.read() as conn:
        assert [row["name"] for row in await conn.fetch(sa.select(_ns.c.name).order_by(_ns.c.name))] == [
            "a",
            "b",
        ]


async def test_a_read_or_a_snapshot_on_a_parked_connection_ends_its_transaction(
    stores: tuple[PostgresStore, Any],
) -> None:
    store, admin = stores
    pid = await _one_write(store, "a")
    async with store.read() as conn:  # the only idle connection is the parked one
        assert (await conn.execute(_PID)).scalar_one() == pid
        assert await conn.fetch(sa.select(_ns.c.name)) == [{"name": "a"}]
    assert (await admin.fetchrow(_ACTIVITY, pid))["state"] == "idle"  # its table lock ended too
    await _one_write(store, "b")
    async with store.snapshot() as conn:
        assert (await conn.execute(_PID)).scalar_one() == pid
        assert (await conn.execute(sa.text("SHOW transaction_isolation"))).scalar_one() == "repeatable read"
    assert (await admin.fetchrow(_ACTIVITY, pid))["state"] == "idle"


async def test_no_transaction_is_parked_where_the_server_ends_idle_ones(
    request: pytest.FixtureRequest,
) -> None:
    import asyncpg

    url = fresh_postgres_url(request)
    admin = await asyncpg.connect(url)
    database = await admin.fetchval("SELECT current_database()")
    await admin.execute(f'ALTER DATABASE "{database}" SET idle_in_transaction_session_timeout = 60000')
    store = create_store(url)
    assert isinstance(store, PostgresStore)
    await store.open()
    try:
        pid = await _one_write(store, "a")
        assert (await admin.fetchrow(_ACTIVITY, pid))["state"] == "idle"
    finally:
        await store.close()
        await admin.execute(f'ALTER DATABASE "{database}" RESET idle_in_transaction_session_timeout')
        await admin.close()


async def test_a_statement_whose_result_type_changed_is_prepared_again_outside_a_transaction(
    stores: tuple[PostgresStore, Any],
) -> None:
    store, admin = stores
    await admin.execute("CREATE TABLE probe (v integer); INSERT INTO probe VALUES (1)")
    probe = sa.text("SELECT v FROM probe")
    async with store.read() as conn:
        assert await conn.fetch(probe) == [{"v": 1}]
    await admin.execute("ALTER TABLE probe ALTER COLUMN v TYPE text")
    async with store.read() as conn:  # asyncpg's retry, as Connection.fetch would do it
        assert await conn.fetch(probe) == [{"v": "1"}]
    await admin.execute("ALTER TABLE probe ALTER COLUMN v TYPE integer USING v::integer")
    with pytest.raises(sa.exc.DBAPIError):
        async with store.write() as conn:  # inside a transaction: raised, as asyncpg raises it
            await conn.fetch(probe)
    async with store.write() as conn:
        assert await conn.fetch(probe) == [{"v": 1}]
