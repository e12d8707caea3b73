"""SQLite on the event-loop thread: WAL, ``BEGIN IMMEDIATE`` and one write lock per process.

SQLite statements on a local file or in memory take microseconds. Running them through a
driver thread (aiosqlite) cost far more than the statements themselves: every statement was a
thread hop plus a GIL hand-off, paid while the process-wide write lock was held. So this store
drives the stdlib ``sqlite3`` driver (through SQLAlchemy's synchronous API) directly on the
event-loop thread and presents it through the same async :class:`~.base.Conn` surface.

Nothing here may block the loop for long, so waiting is never left to SQLite's busy handler
where it can be avoided:

* Writers inside this process queue on an asyncio lock, so they never meet each other in SQLite.
* Another *process* holding the write lock makes ``BEGIN IMMEDIATE`` (or, outside WAL mode,
  ``COMMIT``) fail fast with "database is locked" on the writer connection (``busy_timeout = 0``);
  the store then retries after an ``asyncio.sleep`` until :data:`BUSY_TIMEOUT_MS` has passed.
* Readers of a file database use pooled connections outside the lock; in WAL mode readers never
  wait for writers, and their busy timeout only covers SQLite's brief recovery windows.
* A :meth:`~SQLiteStore.brief_read` (a body of statements only) that finds the lock free runs on
  the writer connection under the lock instead: the writer's page cache stays valid across its
  own commits, while a reader's is dropped whenever anyone wrote, so its next read fetched every
  page it touched again (on the benchmark some ten ``pread`` calls per workflow). Statements run
  on the loop thread either way, so a free lock held for a few statements delays no writer
  longer than those statements would have taken on a reader.

An in-memory database lives on one shared connection, so every access takes the lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from .base import Conn, StatementTally, Store
from .checkpoints import BACKSTOP_PAGES, JOURNAL_SIZE_LIMIT, Checkpointer
from .errors import sqlite_busy
from .plans import Changed, Plan, Plans, observed

BUSY_TIMEOUT_MS = 10_000
#: The oldest SQLite the store runs on: its hot statements use ``RETURNING`` (SQLite 3.35, 2021).
MIN_SQLITE_VERSION = (3, 35, 0)
#: How many reader connections a file database keeps open between reads (within the pool's size).
IDLE_READERS = 4
_T = TypeVar("_T")


def is_memory_url(url: str) -> bool:
    rest = url.split("://", 1)[1] if "://" in url else ""
    return rest in ("", "/", "/:memory:") or rest.startswith("/:memory:?")


def sync_sqlite_url(url: str) -> str:
    """The URL for SQLAlchemy's stdlib ``sqlite3`` dialect (``sqlite+aiosqlite`` accepted too)."""
    scheme, _, rest = url.partition("://")
    if is_memory_url(url):
        return "sqlite://"
    if scheme.startswith("sqlite"):
        return f"sqlite://{rest}"
    return url


class LoopConnection:
    """A synchronous SQLAlchemy connection with the async :class:`~.base.Conn` surface.

    The coroutines never suspend: a statement runs to completion when awaited. Statements with a
    :class:`~.plans.Plan` run on the ``sqlite3`` connection directly (reads through
    :meth:`fetch`; writes answer only ``rowcount``), the rest through SQLAlchemy.
    """

    __slots__ = ("dbapi", "observed", "plans", "sync_connection", "tally")

    def __init__(self, connection: sa.Connection, tally: StatementTally, plans: Plans) -> None:
        self.sync_connection = connection
        self.tally = tally
        self.plans = plans
        self.dbapi = _dbapi(connection)
        # Once per transaction, not per statement (four listener collections to look at): a
        # test records statements over whole engine calls, each its own transactions.
        self.observed = observed(connection)

    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult[Any]:
        self.tally.record(statement, parameters)
        if isinstance(parameters, list) and len(parameters) > 1:
            many = None if self.observed else self.plans.get_many(statement, parameters)
            if many is None:
                return self.sync_connection.execute(statement, parameters)
            return cast(sa.CursorResult[Any], Changed(self._run_many(many, parameters).rowcount))
        plan = self._plan(statement, parameters)
        if plan is None or plan.returns_rows:
            return self.sync_connection.execute(statement, parameters)
        return cast(sa.CursorResult[Any], Changed(self._run(plan, parameters).rowcount))

    async def fetch(self, statement: Any, parameters: Any = None) -> list[dict[str, Any]]:
        self.tally.record(statement, parameters)
        plan = self._plan(statement, parameters)
        if plan is None or not plan.returns_rows:
            result = self.sync_connection.execute(statement, parameters)
            return [dict(row) for row in result.mappings().all()]
        cursor = self._run(plan, parameters)
        keys = None if plan.keys is not None else [column[0] for column in cursor.description or ()]
        return plan.rows(cursor.fetchall(), keys)

    def _plan(self, statement: Any, parameters: Any) -> Plan | None:
        if self.observed:
            return None
        return self.plans.get(statement, parameters)

    def _run_many(self, plan: Plan, parameters: list[Any]) -> sqlite3.Cursor:
        try:
            return self.dbapi.executemany(plan.sql, [plan.parameters(one) for one in parameters])
        except sqlite3.Error as exc:
            raise sa.exc.DBAPIError.instance(plan.sql, parameters, exc, sqlite3.Error) from exc

    def _run(self, plan: Plan, parameters: Any) -> sqlite3.Cursor:
        try:
            return self.dbapi.execute(plan.sql, plan.parameters(parameters))
        except sqlite3.Error as exc:
            # The same exception SQLAlchemy raises (IntegrityError, OperationalError, ...).
            raise sa.exc.DBAPIError.instance(plan.sql, parameters, exc, sqlite3.Error) from exc

    async def run_sync(self, fn: Callable[..., _T], *arg: Any, **kw: Any) -> _T:
        # ``fn`` sees a connection inside a transaction (Alembic then leaves it to us rather
        # than committing one of its own in the middle of ours).
        if not self.sync_connection.in_transaction():
            self.sync_connection.begin()
        return fn(self.sync_connection, *arg, **kw)


async def _retry_busy(step: Callable[[], object]) -> None:
    """Run ``step``; while SQLite answers "busy", retry after an async sleep (never block the loop).

    Gives up (re-raising "database is locked") after :data:`BUSY_TIMEOUT_MS`.
    """
    try:
        step()  # the usual case, before any clock is read
        return
    except sqlite3.OperationalError as exc:
        if not sqlite_busy(exc):
            raise
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
    delay = 0.001
    while True:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if not sqlite_busy(exc) or loop.time() >= deadline:
                raise


def _dbapi(conn: sa.Connection) -> sqlite3.Connection:
    return cast(sqlite3.Connection, conn.connection.dbapi_connection)


def _checkpoint_connection(engine: sa.Engine) -> sqlite3.Connection:
    """A driver connection to ``engine``'s database outside its pool, for the checkpoint thread."""
    args, params = engine.dialect.create_connect_args(engine.url)
    params = {**params, "check_same_thread": False, "isolation_level": None}
    connect: Callable[..., sqlite3.Connection] = sqlite3.connect
    connection = connect(*args, **params)
    # A checkpoint never waits (PASSIVE), but opening the log may meet another process's recovery.
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


class SQLiteStore(Store):
    dialect = "sqlite"
    supports_returning = True  # refused at open below MIN_SQLITE_VERSION

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.memory = is_memory_url(url)
        self._engine: sa.Engine | None = None
        self._writer: sa.Connection | None = None
        #: Reader connections between reads, most recently used last (see :meth:`read`).
        self._idle_readers: list[sa.Connection] = []
        self._plans: Plans = Plans(sa.create_engine("sqlite://").dialect)
        #: A file database's background WAL checkpoints (see :mod:`.checkpoints`).
        self._checkpointer: Checkpointer | None = None

    # ------------------------------------------------------------------ lifecycle
    async def _open(self) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
            wanted = ".".join(map(str, MIN_SQLITE_VERSION))
            raise RuntimeError(
                f"SQLite {wanted} or newer is needed; this Python's sqlite3 module uses SQLite "
                f"{sqlite3.sqlite_version}. Use a Python built with a newer SQLite, or PostgreSQL."
            )
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False},
            # Every transaction ends in an explicit COMMIT or ROLLBACK; no reset round trip.
            "pool_reset_on_return": None,
        }
        if self.memory:
            kwargs["poolclass"] = StaticPool
        engine = sa.create_engine(sync_sqlite_url(self.url), **kwargs)
        memory = self.memory

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take over transaction control from the driver so BEGIN [IMMEDIATE] is ours to emit.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
                # Checkpoints run in the background (see .checkpoints); the commit's own is a backstop.
                cursor.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
                # A log that grew (see .checkpoints) is cut back when the writer starts it over.
                cursor.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            cursor.close()

        self._engine = engine
        self._plans = Plans(engine.dialect)
        writer = engine.connect()
        if not memory:
            # The writer must fail fast when another process holds the lock (see module doc).
            _dbapi(writer).execute("PRAGMA busy_timeout = 0")
            assert self._write_lock is not None  # made by ``open`` before ``_open``
            self._checkpointer = Checkpointer(lambda: _checkpoint_connection(engine), self._write_lock)
        self._writer = writer

    async def close(self) -> None:
        self._opened = False
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            await checkpointer.close()
        idle, self._idle_readers = self._idle_readers, []
        for reader in idle:
            reader.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()

    def _parts(self) -> tuple[sa.Engine, sa.Connection, asyncio.Lock]:
        self._require_open()
        assert self._engine is not None and self._writer is not None and self._write_lock is not None
        return self._engine, self._writer, self._write_lock

    # ------------------------------------------------------------------ transactions
    def write(self) -> AbstractAsyncContextManager[Conn]:
        _, writer, lock = self._parts()
        return _Transaction(self, writer, immediate=True, lock=lock)

    def read(self) -> AbstractAsyncContextManager[Conn]:
        engine, writer, lock = self._parts()
        if self.memory:
            return _Transaction(self, writer, immediate=False, lock=lock)
        return _Transaction(self, None, immediate=False, lock=None, engine=engine)

    def brief_read(self) -> AbstractAsyncContextManager[Conn]:
        engine, writer, lock = self._parts()
        # A free lock is taken without a wait (asyncio's fast path): the read then runs on the
        # writer, whose cache is warm. A held one (a write in progress, the checkpointer's
        # follow-up), or one just released with writes queued for it, sends it to a reader,
        # which waits for nothing.
        if self.memory or _taken_at_once(lock):
            return _Transaction(self, writer, immediate=False, lock=lock)
        return _Transaction(self, None, immediate=False, lock=None, engine=engine)

    def _take_reader(self, engine: sa.Engine) -> sa.Connection:
        # A reader kept from an earlier read, else a new one: checking a connection out of
        # SQLAlchemy's pool and back in (a ``Connection`` built, pool bookkeeping, a weakref)
        # cost more than the ``BEGIN``/``COMMIT`` of the read itself.
        idle = self._idle_readers
        return idle.pop() if idle else engine.connect()

    def _reader_done(self, reader: sa.Connection, engine: sa.Engine, clean: bool) -> None:
        idle = self._idle_readers
        # Kept only after a clean commit (its transaction ended; nothing of it is left).
        if clean and len(idle) < IDLE_READERS and not reader.invalidated and self._engine is engine:
            idle.append(reader)
        else:
            reader.close()


def _taken_at_once(lock: asyncio.Lock) -> bool:
    """Whether ``lock.acquire()`` would return without waiting: free, and no live waiter queued.

    A just-released lock reports ``locked()`` false while the writes queued for it are still
    waiting, and ``acquire()`` queues behind them (first in, first out). This is the condition
    asyncio's own fast path tests.
    """
    if lock.locked():
        return False
    waiters = getattr(lock, "_waiters", None)
    return not waiters or all(waiter.cancelled() for waiter in waiters)


class _Transaction:
    """One transaction of a :class:`SQLiteStore`: ``BEGIN [IMMEDIATE]`` on entry, ``COMMIT`` on a
    clean exit, ``ROLLBACK`` after an exception.

    A class, not ``@asynccontextmanager`` generators (a write nested two of them in the lock's):
    every request runs several transactions, and the generators' entry and exit cost about as
    much Python as SQLite spends on the ``BEGIN`` and ``COMMIT``. ``lock`` is held from before
    ``BEGIN`` to after the end (writes; the in-memory database's reads). ``engine`` is given for a
    file database's read (``conn`` None): its reader, taken on entry, is kept for the next read
    or closed at the end. A committed write tells the store's checkpointer.
    """

    __slots__ = ("conn", "engine", "immediate", "lock", "store")

    def __init__(
        self,
        store: SQLiteStore,
        conn: sa.Connection | None,
        *,
        immediate: bool,
        lock: asyncio.Lock | None,
        engine: sa.Engine | None = None,
    ) -> None:
        self.store = store
        self.conn = conn
        self.immediate = immediate
        self.lock = lock
        self.engine = engine

    async def __aenter__(self) -> Conn:
        lock = self.lock
        if lock is not None:
            await lock.acquire()
        conn = self.conn
        if conn is None:  # a file database's read: its reader is taken now
            assert self.engine is not None
            conn = self.conn = self.store._take_reader(self.engine)
        try:
            dbapi = _dbapi(conn)
            if self.immediate:
                await _retry_busy(lambda: dbapi.execute("BEGIN IMMEDIATE"))
            else:
                dbapi.execute("BEGIN")
        except BaseException:
            self._end(clean=False)
            raise
        # SQLAlchemy's own transaction is begun only when something runs through it (a statement
        # no plan covers autobegins it, ``run_sync`` begins it): its begin and commit bookkeeping
        # cost more than SQLite's BEGIN and COMMIT, and most transactions run planned statements
        # only. The sqlite3 dialect emits nothing for either (the DBAPI transaction is ours).
        store = self.store
        return LoopConnection(conn, store.tally, store._plans)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        conn = self.conn
        assert conn is not None
        dbapi = _dbapi(conn)
        clean = False
        try:
            if exc_type is not None:
                if conn.in_transaction():
                    conn.rollback()
                dbapi.rollback()  # covers a BEGIN that SQLAlchemy never saw used
                return  # the exception goes on
            try:
                # Outside WAL mode COMMIT may have to wait for readers: retry it without blocking.
                await _retry_busy(dbapi.commit)
            except BaseException:
                if conn.in_transaction():
                    conn.rollback()
                else:
                    dbapi.rollback()
                raise
            if conn.in_transaction():
                conn.commit()  # bookkeeping only; the DBAPI transaction is already committed
            clean = True
        finally:
            self._end(clean)

    def _end(self, clean: bool) -> None:
        """After the transaction (or a failed ``BEGIN``): the lock released, the reader put back."""
        if self.lock is not None:
            self.lock.release()
        store = self.store
        if self.engine is not None and self.conn is not None:
            store._reader_done(self.conn, self.engine, clean)
        elif clean and self.immediate and store._checkpointer is not None:
            store._checkpointer.committed()
