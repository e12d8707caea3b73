"""SQLite's reads: reader connections kept between reads, and execution listeners still seen.

A brief read (statements only) that finds the write lock free runs on the writer connection under
the lock (its page cache is warm) and leaves it as it found it, even when the read raised; a write
waits for it. One that finds the lock held (a write transaction open) runs on a reader, sees only
what was committed and does not wait. A plain read always runs on a reader.

A read takes a reader kept from an earlier clean read (not a new pool checkout); a read that
raised closes its reader; ``close()`` closes the kept ones. A statement listener added to the
engine after readers were kept still sees every statement (the store then runs them through
SQLAlchemy rather than its plans).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from durable_workflow_server.store import sqlite as sqlite_store
from durable_workflow_server.store import tables as t
from durable_workflow_server.store.sqlite import IDLE_READERS, SQLiteStore

NAMES = sa.select(t.namespaces.c.name)

NOW = datetime(2026, 12, 4, tzinfo=timezone.utc)
ROW = {"retention_days": 30, "status": "active", "created_at": NOW, "updated_at": NOW}


def _insert(name: str) -> sa.Insert:
    return sa.insert(t.namespaces).values(name=name, **ROW)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """An open SQLite file store, closed after the test."""
    opened = SQLiteStore(f"sqlite:///{tmp_path}/readers.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@asynccontextmanager
async def _writing(store: SQLiteStore) -> AsyncIterator[None]:
    """A write transaction held open (the lock taken): reads meanwhile go to reader connections."""
    async with store.write() as conn:
        await conn.execute(_insert("uncommitted"))
        yield


async def test_a_brief_read_with_the_lock_free_runs_on_the_writer(store: SQLiteStore) -> None:
    async with store.write() as conn:
        await conn.execute(_insert("committed"))
    writer = store._writer
    assert writer is not None
    async with store.brief_read() as conn:
        assert conn.sync_connection is writer  # type: ignore[attr-defined]
        assert store._write_lock is not None and store._write_lock.locked()
        assert "committed" in {row["name"] for row in await conn.fetch(NAMES)}
    assert not store._write_lock.locked() and not sqlite_store._dbapi(writer).in_transaction
    assert store._idle_readers == []  # no reader connection was opened
    with pytest.raises(RuntimeError):
        async with store.brief_read() as conn:
            await conn.fetch(NAMES)
            raise RuntimeError("boom")
    # The writer is left usable, outside any transaction, and not closed.
    assert not writer.closed and not sqlite_store._dbapi(writer).in_transaction
    async with store.write() as conn:
        await conn.execute(_insert("after"))
    async with store.read() as conn:
        assert {"committed", "after"} <= {row["name"] for row in await conn.fetch(NAMES)}


async def test_a_write_waits_for_a_brief_read_on_the_writer(store: SQLiteStore) -> None:
    reading, done = asyncio.Event(), asyncio.Event()

    async def read() -> list[str]:
        async with store.brief_read() as conn:
            reading.set()
            await done.wait()
            return [row["name"] for row in await conn.fetch(NAMES)]

    async def write() -> None:
        async with store.write() as conn:
            await conn.execute(_insert("later"))

    reader = asyncio.create_task(read())
    await reading.wait()
    writer = asyncio.create_task(write())
    await _until_queued(store)  # the write runs up to the lock, and queues there
    assert not writer.done()
    done.set()
    assert "later" not in await reader  # the read saw the database before the write
    await writer
    async with store.read() as conn:
        assert "later" in {row["name"] for row in await conn.fetch(NAMES)}


async def test_a_brief_read_during_a_write_uses_a_reader_and_sees_only_commits(store: SQLiteStore) -> None:
    async with _writing(store):
        async with store.brief_read() as conn:  # would never enter if it waited for the lock
            assert conn.sync_connection is not store._writer  # type: ignore[attr-defined]
            assert "uncommitted" not in {row["name"] for row in await conn.fetch(NAMES)}
    async with store.read() as conn:
        assert "uncommitted" in {row["name"] for row in await conn.fetch(NAMES)}


async def test_a_plain_read_keeps_to_the_readers(store: SQLiteStore) -> None:
    """Its body may await other things (a payload fetch): it never holds the write lock."""
    async with store.read() as conn:
        assert conn.sync_connection is not store._writer  # type: ignore[attr-defined]
        assert store._write_lock is not None and not store._write_lock.locked()


async def test_a_clean_read_keeps_its_reader_for_the_next(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/readers.db")
    await store.open()
    try:
        async with store.read() as first:
            await first.fetch(NAMES)
        async with store.read() as second:
            assert second.sync_connection is first.sync_connection  # type: ignore[attr-defined]
            await second.fetch(NAMES)
        with pytest.raises(RuntimeError):
            async with store.read() as failed:
                raise RuntimeError("boom")
        assert failed.sync_connection is first.sync_connection  # type: ignore[attr-defined]
        assert failed.sync_connection.closed  # type: ignore[attr-defined]
        async with store.read() as third:
            assert third.sync_connection is not first.sync_connection  # type: ignore[attr-defined]
    finally:
        await store.close()
    assert third.sync_connection.closed  # type: ignore[attr-defined]


async def test_only_a_few_readers_are_kept(store: SQLiteStore) -> None:
    opened = [store.read() for _ in range(IDLE_READERS + 2)]
    conns = [await scope.__aenter__() for scope in opened]
    for scope in opened:
        await scope.__aexit__(None, None, None)
    closed = [conn.sync_connection.closed for conn in conns]  # type: ignore[attr-defined]
    assert closed.count(False) == IDLE_READERS


async def test_a_listener_added_later_sees_the_statements_of_kept_readers(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/readers.db")
    await store.open()
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    try:
        async with store.read() as conn:
            await conn.fetch(NAMES)
        engine = conn.sync_connection.engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", record)
        async with store.read() as conn:
            await conn.fetch(NAMES)
        assert any("FROM namespaces" in statement for statement in seen)
    finally:
        await store.close()


async def _until_queued(store: SQLiteStore) -> None:
    """Turn the loop until a write waits on the store's lock (an event, not a timed sleep)."""
    lock = store._write_lock
    assert lock is not None
    while not getattr(lock, "_waiters", None):
        await asyncio.sleep(0)


async def test_a_brief_read_never_queues_behind_a_write_waiting_for_the_lock(store: SQLiteStore) -> None:
    # A just-released lock with a write queued on it reports locked() false; acquire() would
    # still wait behind that write's whole transaction, so the read goes to a reader instead.
    first_in, second_in, second_go = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def second() -> None:
        await first_in.wait()
        async with store.write() as conn:  # queues on the lock the first write holds
            await conn.execute(_insert("second"))
            second_in.set()
            await second_go.wait()  # a write transaction that awaits something inside

    async def write_then_read() -> list[str]:
        async with store.write() as conn:
            await conn.execute(_insert("first"))
            first_in.set()
            await _until_queued(store)
        async with store.brief_read() as conn:  # at once after the write, as a loop would
            return [row["name"] for row in await conn.fetch(NAMES)]

    queued = asyncio.create_task(second())
    reading = asyncio.create_task(write_then_read())
    await second_in.wait()  # the second write holds the lock now, mid-transaction
    names = await asyncio.wait_for(reading, 5.0)  # answered while that write is still open
    assert "first" in names and "second" not in names
    second_go.set()
    await queued
