"""SQLite: WAL, ``busy_timeout``, ``BEGIN IMMEDIATE`` and one write lock per process.

SQLite allows one writer at a time. Serialising writers inside the process with an asyncio lock
means concurrent polls and completions queue up in Python instead of failing with
"database is locked"; ``BEGIN IMMEDIATE`` plus ``busy_timeout`` covers other processes sharing
the file. An in-memory database lives on one shared connection, so every access takes the lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from .base import Store

BUSY_TIMEOUT_MS = 10_000
_READ_ONLY = "dw_read_only"


def is_memory_url(url: str) -> bool:
    rest = url.split("://", 1)[1] if "://" in url else ""
    return rest in ("", "/", "/:memory:") or rest.startswith("/:memory:?")


def async_sqlite_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    if is_memory_url(url):
        return "sqlite+aiosqlite://"
    if scheme == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    return url


class SQLiteStore(Store):
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.memory = is_memory_url(url)

    def _create_engine(self) -> AsyncEngine:
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if self.memory:
            kwargs["poolclass"] = StaticPool
        engine = create_async_engine(async_sqlite_url(self.url), **kwargs)
        memory = self.memory

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take over transaction control from the driver so BEGIN IMMEDIATE is ours to emit.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            if conn.get_execution_options().get(_READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    @asynccontextmanager
    async def _write_guard(self) -> AsyncIterator[None]:
        assert self._write_lock is not None
        async with self._write_lock:
            yield

    @asynccontextmanager
    async def _read_guard(self) -> AsyncIterator[None]:
        if self.memory:
            assert self._write_lock is not None
            async with self._write_lock:
                yield
        else:
            yield

    async def _prepare_write(self, conn: AsyncConnection) -> None:
        await conn.execution_options(**{_READ_ONLY: False})

    async def _prepare_read(self, conn: AsyncConnection) -> None:
        await conn.execution_options(**{_READ_ONLY: True})
