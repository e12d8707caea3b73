"""PostgreSQL via asyncpg: row locks and ``FOR UPDATE SKIP LOCKED`` instead of a process lock.

Several server processes may share one database, so nothing here relies on in-process state:
claims skip rows another transaction holds, per-run writers lock the run row, and migrations run
under a transaction-scoped advisory lock.

Transactions run on asyncpg directly: a connection from the store's own pool (:class:`Pool`),
``BEGIN`` on its first statement (unless the previous write's ``COMMIT; BEGIN`` left one open:
see :class:`Pooled`), the statements as :class:`~.plans.Plan` s bound on the driver's protocol
(:func:`bind_execute`), ``COMMIT``/``ROLLBACK``, back to the pool. SQLAlchemy's async engine
did the same through its greenlet bridge, its pool events and its execution machinery, which
together cost the server more CPU per transaction than asyncpg itself. SQLAlchemy still
compiles every statement; what no plan covers (and ``run_sync``: migrations, schema inspection)
runs through a SQLAlchemy connection wrapped around the same asyncpg connection, inside the same
transaction (see :class:`Borrowed`). Failures are raised as the exceptions SQLAlchemy raises (an
``IntegrityError`` for a unique violation, ``connection_invalidated`` set for a lost
connection), and a lost connection is thrown away together with every older pooled one, so
the next transaction reconnects.

Cross-process wake-ups use ``LISTEN``/``NOTIFY`` on one channel. Each process keeps one dedicated
asyncpg connection outside the pool that only listens; it reconnects with backoff when it drops
(and reports ``None`` to the callback then, since notifications sent meanwhile are lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from . import pg_pool
from .base import Conn, NotificationCallback, Store
from .errors import is_unavailable
from .pg_pool import (
    PING_TIMEOUT,
    POOL_OVERFLOW,
    POOL_SIZE,
    POOL_TIMEOUT,
    Borrowed,
    Pool,
    Pooled,
    bind_execute,
    may_prebegin,
    set_codecs,
)
from .plans import Changed, Plan, Plans

log = logging.getLogger(__name__)
_S = TypeVar("_S", bound=sa.Select[Any])
_T = TypeVar("_T")
_MIGRATION_LOCK_KEY = 0x44575F4D  # "DW_M"
# asyncpg's per-connection cache of prepared statements: the engine's statements all fit.
STATEMENT_CACHE_SIZE = 1024
NOTIFY_CHANNEL = "durable_workflow_wake"
LISTENER_APPLICATION_NAME = "durable-workflow-listener"
# Reconnect backoff of the listener connection, and how often an idle listener checks that its
# socket is still alive (a dropped connection without a FIN is otherwise never noticed).
LISTEN_RETRY_MIN, LISTEN_RETRY_MAX = 0.05, 5.0
LISTEN_PING_SECONDS, LISTEN_PING_TIMEOUT = 30.0, PING_TIMEOUT
# open() waits this long for the first LISTEN; past it the listener keeps retrying in the background.
LISTEN_FIRST_CONNECT_SECONDS = 5.0

_BEGIN = "BEGIN"
_BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
# The snapshot's isolation on a connection whose (empty) transaction is already open.
_SET_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
# A write ends by opening the next write's transaction in the same round trip (see Pooled.begun).
_COMMIT_AND_BEGIN = "COMMIT; BEGIN"
_NOTIFY = "SELECT pg_notify($1, $2)"
# Another server's listener on this database (application_name is visible to every role).
_OTHER_LISTENERS = """
    SELECT EXISTS (SELECT 1 FROM pg_stat_activity
    WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid())
"""
_REVISION = "SELECT version_num FROM alembic_version"
_HAS_REVISION_TABLE = "SELECT to_regclass('alembic_version') IS NOT NULL"
# What ``sa.inspect(connection).get_table_names()`` lists: the default schema's plain and
# partitioned tables.
_TABLE_NAMES = """
    SELECT c.relname FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
"""


def async_postgres_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return f"postgresql+asyncpg{sep}{rest}"
    return url


def asyncpg_dsn(url: str) -> str:
    """A ``postgresql://`` DSN for asyncpg itself (it does not know SQLAlchemy driver suffixes)."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}" if scheme.startswith("postgres") else url


_STATUS = re.compile(r"(?:SELECT|UPDATE|DELETE|MERGE|INSERT \d+) (\d+)")


class DirectConnection:
    """One unit of work on a pooled asyncpg connection, as the engine's :class:`~.base.Conn`.

    ``begin`` is the statement that opens the transaction, sent before the first statement
    (``None``: autocommit, every statement on its own). On a connection that waited in the pool
    with an empty transaction open (``parked``, see :class:`Pooled`), a write sends no
    ``BEGIN``, a read runs in that transaction and a snapshot sets its isolation first; all of
    them end it. Statements with a plan run on asyncpg
    as coroutines of this task, through asyncpg's prepared statement cache; the rest through
    SQLAlchemy on the same connection (:meth:`_sqlalchemy`). Every statement is counted in the
    store's tally.
    """

    __slots__ = (
        "begin",
        "begun",
        "broken",
        "parked",
        "plans",
        "pooled",
        "ran",
        "raw",
        "store",
        "tally",
        "writes",
    )

    def __init__(self, store: PostgresStore, pooled: Pooled, begin: str | None) -> None:
        self.store = store
        self.pooled = pooled
        self.raw = pooled.raw
        self.plans = store._plans
        self.tally = store.tally
        self.writes = begin is _BEGIN
        #: The connection came with an empty transaction open; this unit now owns it.
        self.parked = pooled.begun
        pooled.begun = False
        #: A transaction is open that this unit's statements run in.
        self.begun = self.parked and begin is not _BEGIN_SNAPSHOT
        self.begin = _SET_SNAPSHOT if self.parked and begin is _BEGIN_SNAPSHOT else begin
        #: A statement was sent (a parked transaction nothing ran in can be parked again).
        self.ran = False
        #: The connection's state is unknown (lost, or left mid-operation): not to be reused.
        self.broken = False

    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult[Any]:
        self.tally.record(statement, parameters)
        if isinstance(parameters, list) and len(parameters) > 1:
            many = self.plans.get_many(statement, parameters)
            if many is None:
                return await self._through_sqlalchemy(statement, parameters)
            args = [many.parameters(one) for one in parameters]
            await self._run(many.sql, [args], self.raw.executemany)  # executemany(sql, sets)
            return cast(sa.CursorResult[Any], Changed(-1))
        plan = self.plans.get(statement, parameters)
        if plan is None:
            return await self._through_sqlalchemy(statement, parameters)
        args = plan.parameters(parameters)
        if plan.returns_rows:
            records = await self._run(plan.sql, args, self._fetch)
            keys = await self._text_keys(plan, records) if plan.keys is None else None
            return plan.result(records, len(records), keys)
        status = await self._run(plan.sql, args, self._status)
        found = _STATUS.match(status or "")
        return cast(sa.CursorResult[Any], Changed(int(found.group(1)) if found else -1))

    async def fetch(self, statement: Any, parameters: Any = None) -> list[dict[str, Any]]:
        self.tally.record(statement, parameters)
        plan = self.plans.get(statement, parameters)
        if plan is None:
            result = await self._through_sqlalchemy(statement, parameters)
            return [dict(row) for row in result.mappings().all()] if result.returns_rows else []
        records = await self._run(plan.sql, plan.parameters(parameters), self._fetch)
        if plan.keys is None:
            return plan.rows(records, await self._text_keys(plan, records))
        return plan.rows(records)

    async def run_sync(self, fn: Callable[..., _T], *arg: Any, **kw: Any) -> _T:
        connection = await self._sqlalchemy()
        try:
            return await connection.run_sync(fn, *arg, **kw)
        except BaseException as exc:
            self._judge(exc, connection)
            raise

    # ------------------------------------------------------------------ internals
    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        """``raw.fetch(sql, *args)``, through :func:`bind_execute`."""
        records: list[Any] = await bind_execute(self.raw, self.pooled.statements, sql, args, False)
        return records

    async def _status(self, sql: str, *args: Any) -> str:
        """``raw.execute(sql, *args)`` (its command status), through :func:`bind_execute`."""
        _, status, _ = await bind_execute(self.raw, self.pooled.statements, sql, args, True)
        return cast(str, status.decode())

    async def _text_keys(self, plan: Plan, records: list[Any]) -> tuple[str, ...]:
        """A textual statement's column names: from its rows, or (no rows yet) from the server."""
        if plan.text_keys is None:
            if records:
                plan.text_keys = tuple(records[0].keys())
            else:
                try:
                    prepared = await self.raw.prepare(plan.sql)
                except Exception as error:
                    raise self.store._translated(self, error, plan.sql, [])  # noqa: B904 - cause set
                plan.text_keys = tuple(attribute.name for attribute in prepared.get_attributes())
        return plan.text_keys

    async def _run(self, sql: str, args: list[Any], call: Callable[..., Awaitable[Any]]) -> Any:
        store = self.store
        self.ran = True
        try:
            if not self.begun and self.begin is not None:
                await self.raw.execute(self.begin)
                self.begun = True
            return await call(sql, *args)
        except Exception as error:
            raise store._translated(self, error, sql, args)  # noqa: B904 - its cause is set
        except BaseException:
            self.broken = True  # cancelled mid-statement: the connection's state is unknown
            raise

    async def _begin(self) -> None:
        if self.begun or self.begin is None:
            return
        try:
            await self.raw.execute(self.begin)
            self.begun = True
        except Exception as error:
            raise self.store._translated(self, error, self.begin, [])  # noqa: B904 - its cause is set
        except BaseException:
            self.broken = True
            raise

    async def _sqlalchemy(self) -> AsyncConnection:
        """The SQLAlchemy connection around this asyncpg connection, inside this transaction."""
        self.ran = True
        await self._begin()  # now: SQLAlchemy's statements join the transaction
        pooled = self.pooled
        if pooled.borrowed is None:
            pooled.borrowed = await self.store._borrow(self.raw)
        return pooled.borrowed

    async def _through_sqlalchemy(self, statement: Any, parameters: Any) -> sa.CursorResult[Any]:
        connection = await self._sqlalchemy()
        try:
            result: sa.CursorResult[Any] = await connection.execute(statement, parameters)
            return result
        except BaseException as exc:
            self._judge(exc, connection)
            raise

    def _judge(self, exc: BaseException, connection: AsyncConnection) -> None:
        """After a failure on the SQLAlchemy side: is the asyncpg connection still usable?"""
        if not isinstance(exc, Exception) or self.raw.is_closed() or connection.invalidated:
            self.broken = True
        elif is_unavailable(exc):
            self.broken = True
            self.store._pool_or_fail().invalidate()

    async def _finish(self) -> None:
        """End the unit: ``COMMIT`` what was begun (a write: and ``BEGIN`` the next one's)."""
        await self._end_sqlalchemy()
        if self.parked and not self.ran:
            self.pooled.begun = True  # its empty transaction waits for the next unit
            return
        if self.begun:
            self.begun = False
            sql = _COMMIT_AND_BEGIN if self.writes and self.pooled.prebegin else "COMMIT"
            try:
                await self.raw.execute(sql)
                self.pooled.begun = sql is _COMMIT_AND_BEGIN
            except Exception as error:
                raise self.store._translated(self, error, "COMMIT", [])  # noqa: B904 - its cause is set
            except BaseException:
                self.broken = True
                raise

    async def _abort(self) -> None:
        """End the unit after a failure: ``ROLLBACK``, or throw the connection away."""
        with contextlib.suppress(Exception):
            await self._end_sqlalchemy()
        if self.broken or self.raw.is_closed():
            self.broken = True
            return
        if self.begun or self.parked:
            self.begun = self.parked = False
            try:
                await self.raw.execute("ROLLBACK")
            except BaseException as exc:
                # A dead connection, or one left mid-operation: the body's error is what counts.
                self.broken = True
                log.debug("ROLLBACK failed (%s); dropping the connection", exc)
                if not isinstance(exc, Exception):
                    raise

    async def _end_sqlalchemy(self) -> None:
        borrowed = self.pooled.borrowed
        if borrowed is not None and borrowed.in_transaction():
            await borrowed.rollback()  # its bookkeeping only: it sends nothing in AUTOCOMMIT mode


class PostgresStore(Store):
    dialect = "postgresql"
    notifies = True
    supports_returning = True

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._pool: Pool | None = None
        # SQLAlchemy over connections the pool lends (see Borrowed).
        self._sqlalchemy_engine: AsyncEngine | None = None
        self._lending: Any = None
        self._lend_lock = asyncio.Lock()
        # Locking variants of prebuilt statements, made once: a fresh ``with_for_update()`` copy
        # per call would be hashed for the compiled cache on every execution.
        self._locked: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._claiming: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._listener: asyncio.Task[None] | None = None
        self._dialect: Any = None
        self._dbapi: Any = None
        self._adapter: Any = None
        self._plans = Plans(sa.engine.default.DefaultDialect())  # replaced in _open
        #: How many times the listener connection has (re)connected (observability, tests).
        self.listen_connects = 0
        self._listener_down = False
        # The listener's connection while it is connected: notify() sends on it too, one
        # operation at a time (asyncpg runs one at once per connection) with the pings.
        self._listen_conn: Any = None
        self._listen_lock = asyncio.Lock()

    async def _open(self) -> None:
        # Imported here, not at module level: the store package imports this module, and a
        # SQLite-only install (`durable-workflow[server]` without `[postgres]`) has no asyncpg.
        import asyncpg
        from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

        pg_pool.know_stale_statements(asyncpg)
        dsn = asyncpg_dsn(self.url)

        async def connect() -> Pooled:
            raw = await asyncpg.connect(dsn, statement_cache_size=STATEMENT_CACHE_SIZE)
            try:
                await set_codecs(raw)
                return Pooled(raw, prebegin=await may_prebegin(raw))
            except BaseException:
                raw.terminate()
                raise

        self._pool = Pool(connect, POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT)

        async def lend() -> Any:
            return self._lending

        self._sqlalchemy_engine = create_async_engine(
            async_postgres_url(self.url),
            poolclass=Borrowed,
            async_creator=lend,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
        )
        # SQLAlchemy's dialect, initialised on a first connection (server version, string
        # escaping), compiles the plans; its translation of asyncpg's exceptions into DBAPI
        # ones is reused as it is (see _translated).
        self._dialect = self._sqlalchemy_engine.sync_engine.dialect
        self._dbapi = self._dialect.loaded_dbapi
        self._adapter = AsyncAdapt_asyncpg_connection
        async with self.read() as conn:
            await cast(DirectConnection, conn)._sqlalchemy()  # connects the dialect: initialised
        self._plans = Plans(self._dialect)

    async def close(self) -> None:
        self._opened = False
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
        if self._sqlalchemy_engine is not None:
            engine, self._sqlalchemy_engine = self._sqlalchemy_engine, None
            await engine.dispose(close=False)

    def _pool_or_fail(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("store is not open")
        return self._pool

    # ------------------------------------------------------------------ transactions
    @asynccontextmanager
    async def _unit(self, begin: str | None) -> AsyncIterator[Conn]:
        pool = self._pool_or_fail()
        pooled = await pool.acquire(begun=begin is _BEGIN)
        conn = DirectConnection(self, pooled, begin)
        try:
            try:
                yield conn
            except BaseException:
                await conn._abort()
                raise
            await conn._finish()
        finally:
            pool.release(pooled, discard=conn.broken)

    def write(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """One READ COMMITTED transaction: ``BEGIN`` … ``COMMIT`` (``ROLLBACK`` on any exception).

        Preferably on a connection whose ``BEGIN`` went out with the previous write's ``COMMIT``
        (see :class:`Pooled`): one round trip fewer.
        """
        return self._unit(_BEGIN)

    def read(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """Reads in autocommit mode: two round trips fewer than ``BEGIN`` … ``COMMIT``.

        This loses nothing: under PostgreSQL's default READ COMMITTED isolation every statement
        takes its own snapshot even inside a transaction, and reads take no locks.
        """
        return self._unit(None)

    def snapshot(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """A REPEATABLE READ, read-only transaction: every statement sees the first one's snapshot."""
        return self._unit(_BEGIN_SNAPSHOT)

    def _translated(self, conn: DirectConnection, error: Exception, sql: str, args: Any) -> BaseException:
        """``error`` as SQLAlchemy would have raised it; a lost connection is thrown away."""
        disconnect = conn.raw.is_closed() or is_unavailable(error)
        if disconnect:
            conn.broken = True
            if self._pool is not None:
                self._pool.invalidate()
        dbapi = self._dbapi
        try:
            self._adapter._handle_exception_no_connection(dbapi, error)
        except Exception as translated:
            if not isinstance(translated, dbapi.Error):
                return cast(BaseException, translated)  # not the driver's: as it is
            wrapped: BaseException = sa.exc.DBAPIError.instance(
                sql, args, translated, dbapi.Error, connection_invalidated=disconnect, dialect=self._dialect
            )
            wrapped.__cause__ = translated
            return wrapped
        return error  # pragma: no cover - the translation always raises

    async def _borrow(self, raw: Any) -> AsyncConnection:
        """A SQLAlchemy connection around ``raw`` (run_sync, statements no plan covers)."""
        if self._sqlalchemy_engine is None:
            raise RuntimeError("store is not open")
        async with self._lend_lock:
            self._lending = raw
            try:
                return await self._sqlalchemy_engine.connect()
            finally:
                self._lending = None

    async def _before_migrate(self, conn: Conn) -> None:
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})

    async def current_revision(self) -> str | None:
        async with self.read() as conn:
            if not (await conn.execute(sa.text(_HAS_REVISION_TABLE))).scalar():
                return None
            revisions = (await conn.execute(sa.text(_REVISION))).scalars().all()
        if len(revisions) > 1:
            raise RuntimeError(f"the database has several migration heads: {sorted(revisions)}")
        return revisions[0] if revisions else None

    async def missing_tables(self, expected: list[str]) -> list[str]:
        async with self.read() as conn:
            present = set((await conn.execute(sa.text(_TABLE_NAMES))).scalars().all())
        return [name for name in expected if name not in present]

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

    # ------------------------------------------------------------------ LISTEN / NOTIFY
    async def notify(self, payload: str) -> None:
        """Send on the listener's own connection while it is up (no pool checkout), else pooled."""
        self.tally.record(_NOTIFY, [NOTIFY_CHANNEL, payload])
        listener = self._listen_conn
        if listener is not None and not listener.is_closed():
            try:
                async with self._listen_lock:
                    await listener.execute(_NOTIFY, NOTIFY_CHANNEL, payload, timeout=LISTEN_PING_TIMEOUT)
                return
            except Exception as exc:  # the listener loop notices a lost connection and reconnects
                log.debug("notify on the listener connection failed (%s); sending pooled", exc)
        async with self.read() as conn:
            direct = cast(DirectConnection, conn)
            await direct._run(_NOTIFY, [NOTIFY_CHANNEL, payload], direct.raw.execute)

    async def others_listening(self) -> bool:
        """Asked on the listener's connection (its own session excluded); ``True`` without one."""
        listener = self._listen_conn
        if listener is None or listener.is_closed():
            return True
        async with self._listen_lock:
            found = await listener.fetchval(
                _OTHER_LISTENERS, LISTENER_APPLICATION_NAME, timeout=LISTEN_PING_TIMEOUT
            )
        return bool(found)

    async def listen(self, callback: NotificationCallback) -> None:
        """Start the listener task; waits (bounded) for the first ``LISTEN`` so work is not missed.

        If the database refuses the listener connection, ``open()`` still succeeds: the task keeps
        retrying, and long polls find other processes' work by re-probing meanwhile.
        """
        if self._listener is not None:
            return
        ready = asyncio.get_running_loop().create_future()
        self._listener = asyncio.create_task(self._listen_forever(callback, ready), name="dw-pg-listener")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(ready), LISTEN_FIRST_CONNECT_SECONDS)

    async def _listen_forever(self, callback: NotificationCallback, ready: asyncio.Future[None]) -> None:
        delay = LISTEN_RETRY_MIN
        while True:
            try:
                await self._listen_once(callback, ready)
                delay = LISTEN_RETRY_MIN  # it was connected: reconnect at once (after a short pause)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # unreachable database, refused login, dropped socket...
                # One warning per outage; the retries behind it are debug lines.
                level = logging.DEBUG if self._listener_down else logging.WARNING
                self._listener_down = True
                log.log(level, "PostgreSQL listener connection failed (%s); retrying in %.2fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LISTEN_RETRY_MAX)

    async def _listen_once(self, callback: NotificationCallback, ready: asyncio.Future[None]) -> None:
        """One listener connection's life: connect, LISTEN, wait until it drops."""
        # Imported here, not at module level: the store package imports this module, and a
        # SQLite-only install (`durable-workflow[server]` without `[postgres]`) has no asyncpg.
        import asyncpg

        conn = await asyncpg.connect(
            asyncpg_dsn(self.url),
            timeout=LISTEN_PING_TIMEOUT,
            server_settings={"application_name": LISTENER_APPLICATION_NAME},
        )
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(NOTIFY_CHANNEL, lambda _conn, _pid, _channel, payload: callback(payload))
            self.listen_connects += 1
            if self._listener_down:
                self._listener_down = False
                log.warning("PostgreSQL listener reconnected")
            self._listen_conn = conn
            if not ready.done():
                ready.set_result(None)
            # Anything sent while no listener was connected is lost: let the receiver re-check.
            callback(None)
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), LISTEN_PING_SECONDS)
                except asyncio.TimeoutError:
                    async with self._listen_lock:
                        await conn.fetchval("SELECT 1", timeout=LISTEN_PING_TIMEOUT)
        finally:
            self._listen_conn = None
            # terminate(), not close(): no round trip to a server that may be gone.
            conn.terminate()
