"""PostgreSQL via asyncpg: row locks and ``FOR UPDATE SKIP LOCKED`` instead of a process lock.

Several server processes may share one database, so nothing here relies on in-process state:
claims skip rows another transaction holds, per-run writers lock the run row, and migrations run
under a transaction-scoped advisory lock.

Cross-process wake-ups use ``LISTEN``/``NOTIFY`` on one channel. Each process keeps one dedicated
asyncpg connection outside the pool that only listens; it reconnects with backoff when it drops
(and reports ``None`` to the callback then, since notifications sent meanwhile are lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from .base import Conn, NotificationCallback, StatementTally, Store
from .errors import is_unavailable
from .plans import Changed, Plan, Plans, observed

log = logging.getLogger(__name__)
_S = TypeVar("_S", bound=sa.Select[Any])
_T = TypeVar("_T")
_MIGRATION_LOCK_KEY = 0x44575F4D  # "DW_M"
# Enough pooled connections for the pollers and handlers of one busy process: connections beyond
# ``pool_size`` are closed on return, and a connect (a forked backend, TLS negotiation) costs
# far more than a transaction, so a small pool churned connections under load.
POOL_SIZE, POOL_OVERFLOW = 20, 20
# A pooled connection idle for longer than this is pinged before use (see _open).
IDLE_PING_SECONDS = 5.0
_IDLE_SINCE = "dw_idle_since"
NOTIFY_CHANNEL = "durable_workflow_wake"
LISTENER_APPLICATION_NAME = "durable-workflow-listener"
_NOTIFY = sa.text("SELECT pg_notify(:channel, :payload)")
# Reconnect backoff of the listener connection, and how often an idle listener checks that its
# socket is still alive (a dropped connection without a FIN is otherwise never noticed).
LISTEN_RETRY_MIN, LISTEN_RETRY_MAX = 0.05, 5.0
LISTEN_PING_SECONDS, LISTEN_PING_TIMEOUT = 30.0, 10.0
# open() waits this long for the first LISTEN; past it the listener keeps retrying in the background.
LISTEN_FIRST_CONNECT_SECONDS = 5.0


def async_postgres_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return f"postgresql+asyncpg{sep}{rest}"
    return url


def asyncpg_dsn(url: str) -> str:
    """A ``postgresql://`` DSN for asyncpg itself (it does not know SQLAlchemy driver suffixes)."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}" if scheme.startswith("postgres") else url


_STATUS = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


class PoolConnection:
    """A pooled ``AsyncConnection`` as the engine's :class:`~.base.Conn`, counting statements.

    Statements with a :class:`~.plans.Plan` run on the asyncpg connection directly, as
    coroutines of this task: SQLAlchemy's asyncpg adapter would run each one through its
    greenlet bridge and execution machinery, which cost the server more CPU than asyncpg
    itself. The adapter's own steps are reused (its ``BEGIN`` on first use, its prepared
    statement cache, its exception translation), so the transaction ``write()``/``read()``
    opened is the one the statements run in, and a failure is handled by SQLAlchemy exactly
    as if it had executed the statement (wrapped, a lost connection invalidated).
    """

    __slots__ = ("adapter", "connection", "plans", "tally")

    def __init__(self, connection: AsyncConnection, tally: StatementTally, plans: Plans) -> None:
        self.connection = connection
        self.tally = tally
        self.plans = plans
        self.adapter: Any = None

    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult[Any]:
        self.tally.record(statement, parameters)
        plan = self._plan(statement, parameters)
        if plan is None or plan.returns_rows:
            result: sa.CursorResult[Any] = await self.connection.execute(statement, parameters)
            return result
        _, status = await self._run(plan, parameters)
        found = _STATUS.match(status or "")
        return cast(sa.CursorResult[Any], Changed(int(found.group(1)) if found else -1))

    async def fetch(self, statement: Any, parameters: Any = None) -> list[dict[str, Any]]:
        self.tally.record(statement, parameters)
        plan = self._plan(statement, parameters)
        if plan is None or not plan.returns_rows:
            result = await self.connection.execute(statement, parameters)
            return [dict(row) for row in result.mappings().all()]
        records, _ = await self._run(plan, parameters)
        return plan.rows([tuple(record) for record in records])

    async def run_sync(self, fn: Callable[..., _T], *arg: Any, **kw: Any) -> _T:
        return await self.connection.run_sync(fn, *arg, **kw)

    def _plan(self, statement: Any, parameters: Any) -> Plan | None:
        sync = self.connection.sync_connection
        if sync is None or observed(sync):
            return None
        if self.adapter is None:
            self.adapter = _direct_adapter(sync)
            if self.adapter is None:
                self.plans.enabled = False
                return None
        return self.plans.get(statement, parameters)

    async def _run(self, plan: Plan, parameters: Any) -> tuple[list[Any], str | None]:
        adapter = self.adapter
        dialect: Any = self.connection.dialect
        asof = dialect._invalidate_schema_cache_asof
        async with adapter._execute_mutex:
            try:
                if adapter._transaction is None:
                    await adapter._start_transaction()
                prepared, _ = await adapter._prepare(plan.sql, asof)
                records = await prepared.fetch(*plan.parameters(parameters))
                return records, prepared.get_statusmsg()
            except Exception as error:
                failure: BaseException = error
                try:
                    adapter._handle_exception(error)  # raises the DBAPI-level translation
                except Exception as translated:
                    failure = translated
        # Outside the mutex: SQLAlchemy's handling may roll back or invalidate the connection.
        await self.connection.run_sync(_raise_as_sqlalchemy, failure, plan.sql, parameters)
        raise AssertionError("unreachable")  # pragma: no cover


def _direct_adapter(sync: sa.Connection) -> Any:
    """The checked-out asyncpg adapter, if it has the steps the direct path reuses."""
    try:
        adapter = sync.connection.dbapi_connection
    except Exception:
        return None
    needed = ("_execute_mutex", "_transaction", "_start_transaction", "_prepare", "_handle_exception")
    if adapter is None or not all(hasattr(adapter, name) for name in needed):
        return None
    if not hasattr(sync.dialect, "_invalidate_schema_cache_asof"):
        return None
    return adapter


def _raise_as_sqlalchemy(sync: sa.Connection, error: BaseException, sql: str, parameters: Any) -> None:
    sync._handle_dbapi_exception(error, sql, parameters, None, None)  # always raises


class PostgresStore(Store):
    dialect = "postgresql"
    notifies = True

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._engine: AsyncEngine | None = None
        self._read_engine: AsyncEngine | None = None
        self._snapshot_engine: AsyncEngine | None = None
        # Locking variants of prebuilt statements, made once: a fresh ``with_for_update()`` copy
        # per call would be hashed for the compiled cache on every execution.
        self._locked: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._claiming: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._listener: asyncio.Task[None] | None = None
        self._plans = Plans(sa.engine.default.DefaultDialect())  # replaced in _open
        #: How many times the listener connection has (re)connected (observability, tests).
        self.listen_connects = 0
        self._listener_down = False
        # The listener's connection while it is connected: notify() sends on it too, one
        # operation at a time (asyncpg runs one at once per connection) with the pings.
        self._listen_conn: Any = None
        self._listen_lock = asyncio.Lock()

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

        # A connection the database dropped is thrown away, and with it every older pooled one
        # (SQLAlchemy invalidates the pool's generation), so the next checkout reconnects. Its
        # own test misses a few of asyncpg's ways of saying so (a protocol left mid-operation by a
        # terminated backend), which would otherwise go back into the pool broken.
        @event.listens_for(engine.sync_engine, "handle_error")
        def _handle_error(context: sa.engine.ExceptionContext) -> None:
            if not context.is_disconnect and is_unavailable(context.original_exception):
                context.is_disconnect = True

        self._engine = engine
        self._plans = Plans(engine.sync_engine.dialect)
        # Reads run without BEGIN/COMMIT (see read()); same pool, isolation set per checkout.
        self._read_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        # One snapshot for several statements (see snapshot()): REPEATABLE READ, read only.
        self._snapshot_engine = self._engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )

    async def close(self) -> None:
        self._opened = False
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        self._read_engine = None
        self._snapshot_engine = None
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
            yield PoolConnection(conn, self.tally, self._plans)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """Reads in autocommit mode: two round trips fewer than ``BEGIN`` … ``COMMIT``.

        This loses nothing: under PostgreSQL's default READ COMMITTED isolation every statement
        takes its own snapshot even inside a transaction, and reads take no locks.
        """
        if self._read_engine is None:
            raise RuntimeError("store is not open")
        async with self._read_engine.connect() as conn, conn.begin():
            yield PoolConnection(conn, self.tally, self._plans)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Conn]:
        """A REPEATABLE READ, read-only transaction: every statement sees the first one's snapshot."""
        if self._snapshot_engine is None:
            raise RuntimeError("store is not open")
        async with self._snapshot_engine.connect() as conn, conn.begin():
            yield PoolConnection(conn, self.tally, self._plans)

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

    # ------------------------------------------------------------------ LISTEN / NOTIFY
    async def notify(self, payload: str) -> None:
        """Send on the listener's own connection while it is up (no pool checkout), else pooled."""
        self.tally.record(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})
        listener = self._listen_conn
        if listener is not None and not listener.is_closed():
            try:
                async with self._listen_lock:
                    await listener.execute(
                        "SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, payload, timeout=LISTEN_PING_TIMEOUT
                    )
                return
            except Exception as exc:  # the listener loop notices a lost connection and reconnects
                log.debug("notify on the listener connection failed (%s); sending pooled", exc)
        async with self._read_engine_or_fail().connect() as conn, conn.begin():
            await conn.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})

    def _read_engine_or_fail(self) -> AsyncEngine:
        if self._read_engine is None:
            raise RuntimeError("store is not open")
        return self._read_engine

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
