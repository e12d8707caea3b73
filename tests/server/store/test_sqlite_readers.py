"""SQLite's reads: reader connections kept between reads, and execution listeners still seen.

A read takes a reader kept from an earlier clean read (not a new pool checkout); a read that
raised closes its reader; ``close()`` closes the kept ones. A statement listener added to the
engine after readers were kept still sees every statement (the store then runs them through
SQLAlchemy rather than its plans).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from durable_workflow_server.store import tables as t
from durable_workflow_server.store.sqlite import IDLE_READERS, SQLiteStore

NAMES = sa.select(t.namespaces.c.name)


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


async def test_only_a_few_readers_are_kept(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/readers.db")
    await store.open()
    try:
        opened = [store.read() for _ in range(IDLE_READERS + 2)]
        conns = [await scope.__aenter__() for scope in opened]
        for scope in opened:
            await scope.__aexit__(None, None, None)
        closed = [conn.sync_connection.closed for conn in conns]  # type: ignore[attr-defined]
        assert closed.count(False) == IDLE_READERS
    finally:
        await store.close()


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
