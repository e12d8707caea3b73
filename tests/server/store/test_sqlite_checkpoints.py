"""SQLite's WAL checkpoints run in a background thread, not inside a request's ``COMMIT``.

Every few write transactions the store copies the log into the database file on a connection of
its own (so the database file grows while the writer's own checkpoint, a backstop, has not run);
``close()`` waits for a checkpoint in progress; an in-memory database has none.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from durable_workflow_server.store.checkpoints import BACKSTOP_PAGES
from durable_workflow_server.store.sqlite import SQLiteStore

BLOB = b"x" * 64_000  # about 16 pages a transaction


async def _write_blobs(store: SQLiteStore, count: int) -> None:
    for _ in range(count):
        async with store.write() as conn:
            await conn.execute(sa.text("INSERT INTO blobs (body) VALUES (:body)"), {"body": BLOB})


async def test_the_log_is_copied_into_the_database_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.db"
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    try:
        checkpointer = store._checkpointer
        assert checkpointer is not None
        async with store.write() as conn:
            await conn.execute(sa.text("CREATE TABLE blobs (body BLOB)"))
            writer_pages = (await conn.fetch(sa.text("PRAGMA wal_autocheckpoint")))[0]
        assert list(writer_pages.values()) == [BACKSTOP_PAGES]
        before = path.stat().st_size
        checkpointer.every = 5
        await _write_blobs(store, 4)
        assert path.stat().st_size == before  # all in the log so far
        await _write_blobs(store, 1)  # the fifth: a checkpoint starts
        running = checkpointer._running
        assert running is not None
        await running
        assert path.stat().st_size > before + 4 * len(BLOB)
    finally:
        await store.close()
    assert checkpointer._connection is None and checkpointer._executor is None
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM blobs").fetchone() == (5,)


async def test_close_waits_for_a_checkpoint_in_progress(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/closing.db")
    await store.open()
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.every = 1
    async with store.write() as conn:
        await conn.execute(sa.text("CREATE TABLE blobs (body BLOB)"))
    running = checkpointer._running
    assert running is not None
    await store.close()
    assert running.done() and running.exception() is None
    assert checkpointer._connection is None


async def test_a_memory_database_has_no_checkpoints() -> None:
    store = SQLiteStore("sqlite://")
    await store.open()
    try:
        assert store._checkpointer is None
    finally:
        await store.close()
