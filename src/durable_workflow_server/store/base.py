"""The Store: one async SQLAlchemy engine, migrations, and the two kinds of transaction.

``write()`` is the only way to change data: one database transaction, serialised the way the
dialect needs (see :mod:`.sqlite` and :mod:`.postgres`). ``read()`` is a consistent snapshot for
queries. Row-locking helpers (``lock``/``claim``) turn into ``FOR UPDATE [SKIP LOCKED]`` where the
database has them and into no-ops where a process-wide write lock already serialises writers.

The store knows tables and transactions; it knows nothing about workflows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_S = TypeVar("_S", bound=sa.Select[Any])


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no ``alembic.ini`` needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: sa.Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


class Store:
    """Base class; :func:`durable_workflow_server.store.create_store` picks the dialect subclass."""

    dialect: str = "generic"

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self._write_lock: asyncio.Lock | None = None

    # ------------------------------------------------------------------ lifecycle
    def _create_engine(self) -> AsyncEngine:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("store is not open")
        return self._engine

    async def open(self) -> None:
        """Create the engine and bring the schema to the latest migration."""
        if self._engine is not None:
            return
        self._write_lock = asyncio.Lock()
        self._engine = self._create_engine()
        await self.migrate()

    async def migrate(self) -> None:
        async with self.write() as conn:
            await self._before_migrate(conn)
            await conn.run_sync(_upgrade)

    async def _before_migrate(self, conn: AsyncConnection) -> None:
        """Hook: PostgreSQL takes an advisory lock so concurrent processes migrate once."""

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()

    # ------------------------------------------------------------------ transactions
    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One read-write transaction; commits on success, rolls back on any exception."""
        async with self._write_guard(), self.engine.connect() as conn:
            await self._prepare_write(conn)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot transaction."""
        async with self._read_guard(), self.engine.connect() as conn:
            await self._prepare_read(conn)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def _write_guard(self) -> AsyncIterator[None]:
        yield

    @asynccontextmanager
    async def _read_guard(self) -> AsyncIterator[None]:
        yield

    async def _prepare_write(self, conn: AsyncConnection) -> None:
        """Hook run on a fresh connection before ``BEGIN`` of a write transaction."""

    async def _prepare_read(self, conn: AsyncConnection) -> None:
        """Hook run on a fresh connection before ``BEGIN`` of a read transaction."""

    # ------------------------------------------------------------------ dialect helpers
    def lock(self, stmt: _S) -> _S:
        """Lock the selected rows until commit (``FOR UPDATE``) where the database needs it."""
        return stmt

    def claim(self, stmt: _S) -> _S:
        """Lock the selected rows, skipping rows another transaction holds (claiming work)."""
        return stmt

    # ------------------------------------------------------------------ health
    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    async def current_revision(self) -> str | None:
        async with self.read() as conn:
            return await conn.run_sync(_current_revision)

    async def missing_tables(self, expected: list[str]) -> list[str]:
        def _names(connection: sa.Connection) -> set[str]:
            return set(sa.inspect(connection).get_table_names())

        async with self.read() as conn:
            present = await conn.run_sync(_names)
        return [name for name in expected if name not in present]
