"""Store: migrations match the table definitions, URLs map to drivers, SQLite writers serialise."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from durable_workflow_server.store import PostgresStore, SQLiteStore, create_store, head_revision, pg_pool
from durable_workflow_server.store import sqlite as sqlite_store
from durable_workflow_server.store import tables as t
from durable_workflow_server.store.postgres import async_postgres_url
from durable_workflow_server.store.sqlite import is_memory_url, sync_sqlite_url
from tests.helpers.dbmatrix import POSTGRES_ENV, fresh_postgres_url


def _columns(connection: sa.Connection) -> dict[str, dict[str, str]]:
    inspector = sa.inspect(connection)
    return {
        name: {col["name"]: type(col["type"]).__name__ for col in inspector.get_columns(name)}
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


def _indexes(connection: sa.Connection) -> dict[str, set[str]]:
    inspector = sa.inspect(connection)
    return {
        name: {ix["name"] for ix in inspector.get_indexes(name)}
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


async def test_migrations_match_create_all(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        assert await store.current_revision() == head_revision()
        async with store.read() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), t.metadata
                )
            )
            migrated_cols = await conn.run_sync(_columns)
            migrated_ix = await conn.run_sync(_indexes)
        assert diff == []

        # Rebuild the same database from metadata.create_all and compare the shapes.
        async with store.write() as conn:
            await conn.run_sync(t.metadata.drop_all)
            await conn.execute(sa.text("DROP TABLE alembic_version"))
            await conn.run_sync(t.metadata.create_all)
        async with store.read() as conn:
            created_cols = await conn.run_sync(_columns)
            created_ix = await conn.run_sync(_indexes)
    finally:
        await store.close()
    assert set(migrated_cols) == {table.name for table in t.ALL_TABLES}
    assert created_cols == migrated_cols
    assert created_ix == migrated_ix


async def test_open_is_idempotent(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    await store.close()
    again = create_store(db_url)
    await again.open()  # already at head: nothing to do, no error
    try:
        assert await again.ping() is True
        assert await again.missing_tables([table.name for table in t.ALL_TABLES]) == []
    finally:
        await again.close()


def test_url_mapping() -> None:
    assert isinstance(create_store("sqlite:///x.db"), SQLiteStore)
    assert isinstance(create_store("postgresql://u@h/db"), PostgresStore)
    with pytest.raises(ValueError):
        create_store("mysql://u@h/db")
    assert sync_sqlite_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert sync_sqlite_url("sqlite+aiosqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert sync_sqlite_url("sqlite://") == "sqlite://"
    assert sync_sqlite_url("sqlite:///:memory:") == "sqlite://"
    assert (
        is_memory_url("sqlite://")
        and is_memory_url("sqlite:///:memory:")
        and not is_memory_url("sqlite:///a")
    )
    assert async_postgres_url("postgresql://u@h:5432/db") == "postgresql+asyncpg://u@h:5432/db"
    assert async_postgres_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"


async def test_in_memory_sqlite_works() -> None:
    store = create_store("sqlite://")
    await store.open()
    try:
        async with store.write() as conn:
            await conn.execute(
                sa.insert(t.namespaces).values(
                    name="x",
                    retention_days=30,
                    status="active",
                    created_at=sa.func.current_timestamp(),
                    updated_at=sa.func.current_timestamp(),
                )
            )
        async with store.read() as conn:
            assert (await conn.execute(sa.select(t.namespaces.c.name))).scalars().all() == ["x"]
    finally:
        await store.close()


async def test_concurrent_sqlite_writers_never_hit_database_locked(tmp_path: Path) -> None:
    store = create_store(f"sqlite:///{tmp_path / 'busy.sqlite3'}")
    await store.open()

    async def writer(i: int) -> None:
        for j in range(10):
            async with store.write() as conn:
                await conn.execute(
                    sa.insert(t.namespaces).values(
                        name=f"ns-{i}-{j}",
                        retention_days=30,
                        status="active",
                        created_at=sa.func.current_timestamp(),
                        updated_at=sa.func.current_timestamp(),
                    )
                )

    async def reader() -> None:
        for _ in range(20):
            async with store.read() as conn:
                await conn.execute(sa.select(sa.func.count()).select_from(t.namespaces))

    try:
        await asyncio.gather(*(writer(i) for i in range(8)), *(reader() for _ in range(4)))
        async with store.read() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(t.namespaces))).scalar_one()
        assert count == 80
    finally:
        await store.close()


async def test_write_rolls_back_on_error(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        with pytest.raises(RuntimeError):
            async with store.write() as conn:
                await conn.execute(
                    sa.insert(t.namespaces).values(
                        name="gone",
                        retention_days=30,
                        status="active",
                        created_at=sa.func.current_timestamp(),
                        updated_at=sa.func.current_timestamp(),
                    )
                )
                raise RuntimeError("abort")
        async with store.read() as conn:
            names = (await conn.execute(sa.select(t.namespaces.c.name))).scalars().all()
        assert "gone" not in names
    finally:
        await store.close()


def _namespace_row(name: str) -> dict[str, object]:
    return {
        "name": name,
        "retention_days": 30,
        "status": "active",
        "created_at": sa.func.current_timestamp(),
        "updated_at": sa.func.current_timestamp(),
    }


async def test_sqlite_writer_waits_for_another_process_without_blocking_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    store = create_store(f"sqlite:///{path}")
    await store.open()
    other = sqlite3.connect(path, isolation_level=None)  # "another process" holding the write lock
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def write() -> None:
        async with store.write() as conn:
            await conn.execute(sa.insert(t.namespaces).values(**_namespace_row("waited")))

    running = asyncio.create_task(ticker())
    writer = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.15)
        assert not writer.done()
        assert ticks >= 10  # the event loop kept serving while the writer waited for the lock
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 5)
        async with store.read() as conn:
            names = (await conn.execute(sa.select(t.namespaces.c.name))).scalars().all()
        assert "waited" in names
    finally:
        running.cancel()
        other.close()
        await store.close()


async def test_sqlite_writer_gives_up_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "held.sqlite3"
    store = create_store(f"sqlite:///{path}")
    await store.open()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with store.write() as conn:
                await conn.execute(sa.insert(t.namespaces).values(**_namespace_row("never")))
        other.execute("ROLLBACK")
        async with store.write() as conn:  # the store is usable again once the lock is free
            await conn.execute(sa.insert(t.namespaces).values(**_namespace_row("later")))
        async with store.read() as conn:
            names = (await conn.execute(sa.select(t.namespaces.c.name))).scalars().all()
        assert "later" in names and "never" not in names
    finally:
        other.close()
        await store.close()


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="needs DW_TEST_POSTGRES_URL (PostgreSQL)")
async def test_postgres_replaces_a_dead_idle_connection(request: pytest.FixtureRequest) -> None:
    import asyncpg

    url = fresh_postgres_url(request)
    store = create_store(url)
    await store.open()
    try:
        async with store.write() as conn:
            pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid) is True
        finally:
            await admin.close()
        # Pretend the pooled connection sat idle long enough to be checked before use.
        original = pg_pool.IDLE_PING_SECONDS
        pg_pool.IDLE_PING_SECONDS = 0.0
        try:
            async with store.write() as conn:
                assert (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() != pid
        finally:
            pg_pool.IDLE_PING_SECONDS = original
    finally:
        await store.close()


async def test_reads_see_committed_writes(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        async with store.write() as conn:
            await conn.execute(sa.insert(t.namespaces).values(**_namespace_row("seen")))
        async with store.read() as conn:
            assert (
                await conn.execute(sa.select(t.namespaces.c.name).where(t.namespaces.c.name == "seen"))
            ).scalar_one() == "seen"
    finally:
        await store.close()


async def test_sqlite_transactions_commit_and_roll_back_whatever_ran_in_them(tmp_path: Path) -> None:
    """Planned statements only, a statement through SQLAlchemy, ``run_sync``: each transaction
    commits or rolls back whole, and leaves no transaction open on its connection after."""
    store = SQLiteStore(f"sqlite:///{tmp_path / 'tx.db'}")
    await store.open()
    now = "2026-12-03 08:00:00.000000"
    planned = sa.text(
        "INSERT INTO namespaces (name, retention_days, status, created_at, updated_at)"
        " VALUES (:name, 30, 'active', :now, :now)"
    )

    async def names() -> set[str]:
        async with store.read() as conn:
            return set((await conn.execute(sa.select(t.namespaces.c.name))).scalars().all())

    def via_run_sync(connection: sa.Connection, name: str) -> None:
        connection.execute(planned, {"name": name, "now": now})

    try:
        writer = store._writer
        assert writer is not None
        for kind in ("planned", "sqlalchemy", "run_sync"):
            for fails in (True, False):
                name = f"{kind}-{'gone' if fails else 'kept'}"
                with contextlib.suppress(RuntimeError):
                    async with store.write() as conn:
                        if kind == "planned":
                            await conn.execute(planned, {"name": name, "now": now})
                        elif kind == "sqlalchemy":
                            await conn.execute(sa.insert(t.namespaces).values(_namespace_row(name)))
                        else:
                            await conn.run_sync(via_run_sync, name)
                        if fails:
                            raise RuntimeError("abort")
                assert not writer.in_transaction() and not sqlite_store._dbapi(writer).in_transaction
        assert {n for n in await names() if "-" in n} == {"planned-kept", "sqlalchemy-kept", "run_sync-kept"}

        # A COMMIT that fails (not "busy") rolls the transaction back and leaves nothing open.
        real = sqlite_store._retry_busy

        async def refused(step: object) -> None:
            if getattr(step, "__name__", "") == "commit":
                raise sqlite3.OperationalError("disk I/O error")
            await real(step)  # type: ignore[arg-type]

        sqlite_store._retry_busy = refused  # type: ignore[assignment]
        try:
            with pytest.raises(sqlite3.OperationalError):
                async with store.write() as conn:
                    await conn.execute(planned, {"name": "commit-refused", "now": now})
        finally:
            sqlite_store._retry_busy = real
        assert not sqlite_store._dbapi(writer).in_transaction
        assert "commit-refused" not in await names()
    finally:
        await store.close()
