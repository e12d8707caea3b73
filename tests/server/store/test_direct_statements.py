"""Statements on the driver directly: RETURNING, executemany and ``sa.text`` answer what SQLAlchemy
answers, failures are SQLAlchemy's exceptions, and (PostgreSQL) a connection the database lost,
or one left mid-statement by a cancelled caller, is never handed out again."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.store import PostgresStore, create_store
from durable_workflow_server.store import tables as t
from durable_workflow_server.store.errors import is_unavailable
from tests.helpers.dbmatrix import POSTGRES_ENV, fresh_postgres_url

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
_ns = t.namespaces


def _namespace(name: str) -> dict[str, Any]:
    return {"name": name, "description": None, "created_at": NOW, "updated_at": NOW}


async def test_returning_executemany_and_text_answer_like_sqlalchemy(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        async with store.write() as conn:
            await conn.execute(sa.insert(_ns), [_namespace("a"), _namespace("b"), _namespace("c")])
            changed = await conn.execute(
                sa.update(_ns)
                .where(_ns.c.name.in_(["a", "b"]))
                .values(description="x")
                .returning(_ns.c.name, _ns.c.updated_at)
            )
            assert sorted(changed.all()) == [("a", NOW), ("b", NOW)]
            if isinstance(store, PostgresStore):  # sqlite3 counts RETURNING rows only once read
                assert changed.rowcount == 2
            names = sa.text("SELECT name FROM namespaces WHERE description = :d ORDER BY name")
            assert (await conn.execute(names, {"d": "x"})).scalars().all() == ["a", "b"]
            assert await conn.fetch(names, {"d": "x"}) == [{"name": "a"}, {"name": "b"}]
            # No rows: the result still knows its column (``scalars()`` needs it).
            assert (await conn.execute(names, {"d": "none"})).scalars().all() == []
            assert await conn.fetch(names, {"d": "none"}) == []
            deleted = await conn.execute(sa.text("DELETE FROM namespaces WHERE name = :n"), {"n": "c"})
            assert deleted.rowcount == 1
        async with store.read() as conn:
            rows = await conn.fetch(sa.select(_ns.c.name, _ns.c.description).where(_ns.c.name != "default"))
        assert sorted((r["name"], r["description"]) for r in rows) == [("a", "x"), ("b", "x")]
    finally:
        await store.close()


async def test_a_unique_violation_is_sqlalchemys_integrity_error_and_rolls_back(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        with pytest.raises(sa.exc.IntegrityError) as caught:
            async with store.write() as conn:
                await conn.execute(sa.insert(_ns), _namespace("dup"))
                await conn.execute(sa.insert(_ns), _namespace("dup"))
        assert not is_unavailable(caught.value)
        if isinstance(store, PostgresStore):
            assert getattr(caught.value.orig, "sqlstate", None) == "23505"
        async with store.read() as conn:
            assert await conn.fetch(sa.select(_ns.c.name).where(_ns.c.name == "dup")) == []
    finally:
        await store.close()


needs_postgres = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="needs DW_TEST_POSTGRES_URL")


@needs_postgres
async def test_postgres_a_lost_backend_is_unavailable_then_replaced(request: pytest.FixtureRequest) -> None:
    import asyncpg

    url = fresh_postgres_url(request)
    store = create_store(url)
    await store.open()
    admin = await asyncpg.connect(url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught:
            async with store.write() as conn:
                pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid) is True
                await conn.execute(sa.text("SELECT 1"))
        assert caught.value.connection_invalidated and is_unavailable(caught.value)
        async with store.write() as conn:
            assert (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() != pid
    finally:
        await admin.close()
        await store.close()


@needs_postgres
async def test_postgres_a_cancelled_statement_drops_its_connection(request: pytest.FixtureRequest) -> None:
    url = fresh_postgres_url(request)
    store = create_store(url)
    await store.open()
    try:
        started = asyncio.Event()
        pids: list[int] = []

        async def slow() -> None:
            async with store.write() as conn:
                pids.append((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
                started.set()
                await conn.execute(sa.text("SELECT pg_sleep(30)"))

        task = asyncio.create_task(slow())
        await started.wait()
        await asyncio.sleep(0.1)  # inside pg_sleep
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with store.write() as conn:  # a fresh connection, in no transaction
            assert (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() != pids[0]
            assert (await conn.execute(sa.text("SELECT count(*) FROM namespaces"))).scalar_one() == 0
    finally:
        await store.close()


@needs_postgres
async def test_postgres_run_sync_joins_the_stores_transaction(request: pytest.FixtureRequest) -> None:
    url = fresh_postgres_url(request)
    store = create_store(url)
    await store.open()
    try:
        with pytest.raises(RuntimeError):
            async with store.write() as conn:
                await conn.execute(sa.insert(_ns), _namespace("inside"))
                seen = await conn.run_sync(
                    lambda c: c.execute(sa.select(_ns.c.name).where(_ns.c.name == "inside")).scalar()
                )
                assert seen == "inside"  # SQLAlchemy's side sees the uncommitted row: one transaction
                raise RuntimeError("roll it back")
        async with store.read() as conn:
            assert await conn.fetch(sa.select(_ns.c.name).where(_ns.c.name == "inside")) == []
    finally:
        await store.close()
