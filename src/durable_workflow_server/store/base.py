"""The Store: migrations, and the two kinds of transaction over one database.

``write()`` is the only way to change data: one database transaction, serialised the way the
dialect needs (see :mod:`.sqlite` and :mod:`.postgres`). ``read()`` is for queries: one snapshot
on SQLite; on PostgreSQL plain autocommit statements, which is no weaker than a READ COMMITTED
transaction (every statement takes its own snapshot there either way). Both yield a
:class:`Conn`, the small async surface the engine uses (``execute`` and ``run_sync``); how
statements reach the database (an asyncpg pool, or SQLite on the event-loop thread) is the
dialect's business. Row-locking helpers (``lock``/``claim``) turn into
``FOR UPDATE [SKIP LOCKED]`` where the database has them and into no-ops where a process-wide
write lock already serialises writers.

The store knows tables and transactions; it knows nothing about workflows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_S = TypeVar("_S", bound=sa.Select[Any])
_T = TypeVar("_T")
# Receives another process's notification payload, or ``None`` for "notifications may have been
# missed" (the listener has just (re)connected): the receiver should then wake everything.
NotificationCallback = Callable[[str | None], None]


class Conn(Protocol):
    """A connection inside one transaction, as the engine sees it.

    :class:`~.postgres.DirectConnection` (a pooled asyncpg connection, driven by the store
    directly) is one; :class:`~.sqlite.LoopConnection` (a synchronous SQLite connection driven on the
    event-loop thread) is the other. Both count every statement in the store's
    :class:`StatementTally`.
    """

    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult[Any]: ...

    async def fetch(self, statement: Any, parameters: Any = None) -> list[dict[str, Any]]:
        """The rows of a query as dictionaries (``result.mappings()``), the engine's usual read."""
        ...

    async def run_sync(self, fn: Callable[..., _T], *arg: Any, **kw: Any) -> _T: ...


class StatementTally:
    """How many SQL statements this store has executed through its :class:`Conn` seam.

    A plain integer, not a locked counter: every statement runs on the event-loop thread (SQLite
    on it directly, asyncpg as coroutines), so ``+= 1`` never races. Transaction control
    (``BEGIN``/``COMMIT``) is not counted, the statements inside are. Exposed on ``GET /metrics``
    as ``durable_workflow_server_sql_statements_total``.

    ``recorder``, when set, hears every counted statement with its parameters (tests that list
    the statements of each step, see ``tests/helpers/statements.py``); one attribute test per
    statement otherwise.
    """

    __slots__ = ("recorder", "statements")

    def __init__(self) -> None:
        self.statements = 0
        self.recorder: Callable[[Any, Any], None] | None = None

    def record(self, statement: Any, parameters: Any) -> None:
        """Count one statement (the :class:`Conn` implementations call this, or inline it)."""
        self.statements += 1
        if self.recorder is not None:
            self.recorder(statement, parameters)


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no ``alembic.ini`` needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(connection: sa.Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _table_names(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


class Store:
    """Base class; :func:`durable_workflow_server.store.create_store` picks the dialect subclass.

    Subclasses implement ``_open``/``close`` and the two transaction context managers.
    """

    dialect: str = "generic"
    #: ``UPDATE ... RETURNING`` runs here (SQLite from 3.35).
    supports_returning: bool = False

    def __init__(self, url: str) -> None:
        self.url = url
        self._opened = False
        self._write_lock: asyncio.Lock | None = None
        #: Statements executed so far (see :class:`StatementTally`).
        self.tally = StatementTally()

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Connect and bring the schema to the latest migration."""
        if self._opened:
            return
        self._write_lock = asyncio.Lock()
        await self._open()
        self._opened = True
        await self.migrate()

    async def _open(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def migrate(self) -> None:
        async with self.write() as conn:
            await self._before_migrate(conn)
            await conn.run_sync(upgrade)

    async def _before_migrate(self, conn: Conn) -> None:
        """Hook: PostgreSQL takes an advisory lock so concurrent processes migrate once."""

    async def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _require_open(self) -> None:
        if not self._opened:
            raise RuntimeError("store is not open")

    # ------------------------------------------------------------------ transactions
    def write(self) -> AbstractAsyncContextManager[Conn]:
        """One read-write transaction; commits on success, rolls back on any exception."""
        raise NotImplementedError  # pragma: no cover - overridden

    def read(self) -> AbstractAsyncContextManager[Conn]:
        """A read-only unit of work (SQLite: one snapshot; PostgreSQL: autocommit statements)."""
        raise NotImplementedError  # pragma: no cover - overridden

    def brief_read(self) -> AbstractAsyncContextManager[Conn]:
        """A :meth:`read` whose body only runs statements: nothing else is awaited inside it.

        For the hot path's one-statement reads (a result wait's probe, the background loop's
        due times). SQLite may run it on the writer connection, whose page cache is warm, while
        holding the write lock (see :mod:`.sqlite`), so a body that waited on anything else (a
        payload fetch, a wake-up) would hold writers up; everywhere else it is :meth:`read`.
        """
        return self.read()

    def snapshot(self) -> AbstractAsyncContextManager[Conn]:
        """A read-only unit of work whose statements all see one snapshot of the database.

        For an answer built from several statements that must agree (describe: the run and
        what it waits on). SQLite's ``read()`` already is one; PostgreSQL overrides this.
        """
        return self.read()

    # ------------------------------------------------------------------ dialect helpers
    def lock(self, stmt: _S) -> _S:
        """Lock the selected rows until commit (``FOR UPDATE``) where the database needs it."""
        return stmt

    def claim(self, stmt: _S) -> _S:
        """Lock the selected rows, skipping rows another transaction holds (claiming work)."""
        return stmt

    # ------------------------------------------------------------------ cross-process wake-ups
    #: Whether :meth:`notify` reaches other processes (so callers may skip building payloads).
    notifies: bool = False

    async def listen(self, callback: NotificationCallback) -> None:
        """Deliver other processes' :meth:`notify` payloads to ``callback`` until :meth:`close`.

        A no-op where the database has no notification channel (SQLite: one process per file is
        the normal case, and long polls re-probe anyway).
        """

    async def notify(self, payload: str) -> None:
        """Send ``payload`` to every listening process (including this one); best effort."""

    async def others_listening(self) -> bool:
        """Whether a process other than this store's own listener listens to :meth:`notify`.

        ``True`` where the store cannot tell: then everything is published.
        """
        return True

    # ------------------------------------------------------------------ health
    async def ping(self) -> bool:
        try:
            async with self.read() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    async def current_revision(self) -> str | None:
        async with self.read() as conn:
            return await conn.run_sync(_current_revision)

    async def missing_tables(self, expected: list[str]) -> list[str]:
        async with self.read() as conn:
            present = await conn.run_sync(_table_names)
        return [name for name in expected if name not in present]
