"""PostgreSQL via asyncpg: row locks and ``FOR UPDATE SKIP LOCKED`` instead of a process lock.

Several server processes may share one database, so nothing here relies on in-process state:
claims skip rows another transaction holds, per-run writers lock the run row, and migrations run
under a transaction-scoped advisory lock.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from .base import Conn, Store

_S = TypeVar("_S", bound=sa.Select[Any])
_MIGRATION_LOCK_KEY = 0x44575F4D  # "DW_M"
# Enough pooled connections for the pollers and handlers of one busy process: connections beyond
# ``pool_size`` are closed on return, and a connect (a forked backend, TLS negotiation) costs
# far more than a transaction, so a small pool churned connections under load.
POOL_SIZE, POOL_OVERFLOW = 20, 20
# A pooled connection idle for longer than this is pinged before use (see _open).
IDLE_PING_SECONDS = 5.0
_IDLE_SINCE = "dw_idle_since"


def async_postgres_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return f"postgresql+asyncpg{sep}{rest}"
    return url


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._engine: AsyncEngine | None = None
        self._read_engine: AsyncEngine | None = None
        # Locking variants of prebuilt statements, made once: a fresh ``with_for_update()`` copy
        # per call would be hashed for the compiled cache on every execution.
        self._locked: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._claiming: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    async def _open(self) -> None:
        engine = create_async_engine(
            async_postgres_url(self.url), pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )

        # Stale connections (a restarted server, a dropped idle socket) are caught by pinging a
        # connection that sat idle in the pool, not every checkout: SQLAlchemy's ``pool_pre_ping``
        # costs three round trips (BEGIN, ping, ROLLBACK) before *every* transaction. A failed
        # ping makes the pool replace the connection and try again.
        @event.listens_for(engine.sync_engine, "checkin")
        def _checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            record.info[_IDLE_SINCE] = time.monotonic()

        @event.listens_for(engine.sync_engine, "checkout")
        def _checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
            idle_since = record.info.get(_IDLE_SINCE)
            if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
                return
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise sa.exc.DisconnectionError("idle pooled connection failed its ping") from exc

        self._engine = engine
        # Reads run without BEGIN/COMMIT (see read()); same pool, isolation set per checkout.
        self._read_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")

    async def close(self) -> None:
        self._opened = False
        self._read_engine = None
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("store is not open")
        return self._engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Conn]:
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """Reads in autocommit mode: two round trips fewer than ``BEGIN`` … ``COMMIT``.

        This loses nothing: under PostgreSQL's default READ COMMITTED isolation every statement
        takes its own snapshot even inside a transaction, and reads take no locks.
        """
        if self._read_engine is None:
            raise RuntimeError("store is not open")
        async with self._read_engine.connect() as conn, conn.begin():
            yield conn

    async def _before_migrate(self, conn: Conn) -> None:
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})

    def lock(self, stmt: _S) -> _S:
        variant: _S | None = self._locked.get(stmt)
        if variant is None:
            variant = self._locked[stmt] = stmt.with_for_update()
        return variant

    def claim(self, stmt: _S) -> _S:
        variant: _S | None = self._claiming.get(stmt)
        if variant is None:
            variant = self._claiming[stmt] = stmt.with_for_update(skip_locked=True)
        return variant
