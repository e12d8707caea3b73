"""SQLite's WAL checkpoints run in a background thread, not inside a request's ``COMMIT``.

Every few write transactions the store copies the log into the database file on a connection of
its own (so the database file grows while the writer's own checkpoint, a backstop, has not run);
under steady writes a follow-up under the write lock lets the log start over, so it stays short;
a checkpoint that cannot start never fails the write; ``close()`` waits for a checkpoint in
progress, and closes the thread and connection even when cancelled; an in-memory database has none.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import cast

import pytest
import sqlalchemy as sa

from durable_workflow_server.store.checkpoints import BACKSTOP_PAGES, Checkpointer
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


async def test_the_log_stays_short_under_steady_writes(tmp_path: Path) -> None:
    # A PASSIVE checkpoint copies only the frames the log held when it started; without the
    # follow-up under the write lock the log never starts over (24 MiB here, measured), with it
    # it stays near EVERY_COMMITS transactions plus those during a checkpoint (1.3 to 2.1 MiB).
    path = tmp_path / "steady.db"
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    try:
        async with store.write() as conn:
            await conn.execute(sa.text("CREATE TABLE blobs (body BLOB)"))
        longest = 0
        for _ in range(4000):
            async with store.write() as conn:
                body = {"body": BLOB[:1000]}
                await conn.execute(sa.text("INSERT INTO blobs (body) VALUES (:body)"), body)
            await asyncio.sleep(0)  # back to back, the loop turning between them as a server's does
            longest = max(longest, os.stat(f"{path}-wal").st_size)
    finally:
        await store.close()
    assert longest < 8 * 1024 * 1024


async def test_a_checkpoint_that_cannot_start_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(self: Checkpointer) -> None:
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(Checkpointer, "_start", refuse)
    path = tmp_path / "refused.db"
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    try:
        assert store._checkpointer is not None
        store._checkpointer.every = 1
        with caplog.at_level(logging.WARNING, "durable_workflow_server.store.checkpoints"):
            async with store.write() as conn:
                await conn.execute(sa.text("CREATE TABLE blobs (body BLOB)"))
            await _write_blobs(store, 2)
        assert "not started" in caplog.text
        assert store._checkpointer._running is None
    finally:
        await store.close()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM blobs").fetchone() == (2,)


async def test_a_cancelled_close_still_closes_the_thread_and_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/cancelled.db")
    await store.open()
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.every = 1
    release = threading.Event()
    checkpoint = checkpointer._checkpoint

    def stuck() -> bool:
        release.wait(5)
        return checkpoint()

    monkeypatch.setattr(Checkpointer, "_checkpoint", lambda self: stuck())
    try:
        async with store.write() as conn:
            await conn.execute(sa.text("CREATE TABLE blobs (body BLOB)"))
        running = checkpointer._running
        assert running is not None
        await asyncio.sleep(0.05)  # the checkpoint is in the thread now
        executor = checkpointer._executor
        assert executor is not None
        closing = asyncio.ensure_future(checkpointer.close())
        await asyncio.sleep(0.05)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert checkpointer._executor is None and running.cancelled()
        release.set()
        await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)
        assert checkpointer._connection is None  # closed in the thread, after the checkpoint
    finally:
        release.set()
        await store.close()


def test_busy_is_recognised_by_the_message_too() -> None:
    # Python 3.10's sqlite3 errors carry no ``sqlite_errorcode``: the text says it.
    class Locked:
        def execute(self, sql: str) -> None:
            raise sqlite3.OperationalError("database table is locked")

    checkpointer = Checkpointer(lambda: cast(sqlite3.Connection, Locked()), asyncio.Lock())
    assert checkpointer._checkpoint() is False
