"""PostgreSQL via asyncpg: row locks and ``FOR UPDATE SKIP LOCKED`` instead of a process lock.

Several server processes may share one database, so nothing here relies on in-process state:
claims skip rows another transaction holds, per-run writers lock the run row, and migrations run
under a transaction-scoped advisory lock.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .base import Store

_S = TypeVar("_S", bound=sa.Select[Any])
_MIGRATION_LOCK_KEY = 0x44575F4D  # "DW_M"


def async_postgres_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return f"postgresql+asyncpg{sep}{rest}"
    return url


class PostgresStore(Store):
    dialect = "postgresql"

    def _create_engine(self) -> AsyncEngine:
        return create_async_engine(async_postgres_url(self.url), pool_pre_ping=True)

    async def _before_migrate(self, conn: AsyncConnection) -> None:
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})

    def lock(self, stmt: _S) -> _S:
        return stmt.with_for_update()

    def claim(self, stmt: _S) -> _S:
        return stmt.with_for_update(skip_locked=True)
