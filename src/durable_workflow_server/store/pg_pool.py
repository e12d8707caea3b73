"""The PostgreSQL store's connections: its pool, how statements are bound, the codecs.

Split from :mod:`.postgres` (the store and its transactions) to keep each module small; nothing
here knows about transactions beyond whether a pooled connection has an empty one open.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Enough pooled connections for the pollers and handlers of one busy process: connections beyond
# ``POOL_SIZE`` are closed on return, and a connect (a forked backend, TLS negotiation) costs
# far more than a transaction, so a small pool churned connections under load. At most
# ``POOL_SIZE + POOL_OVERFLOW`` are open at once; a transaction waits up to ``POOL_TIMEOUT``
# seconds for one to come back.
POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT = 20, 20, 30.0
# A pooled connection idle for longer than this is pinged before use (see Pool.acquire).
IDLE_PING_SECONDS = 5.0
# How long a ping of an idle connection may take.
PING_TIMEOUT = 10.0
# Whether the server ends sessions idle in a transaction: then no connection is parked in one.
_IDLE_IN_TRANSACTION_TIMEOUT = "SELECT current_setting('idle_in_transaction_session_timeout')"


# asyncpg's exceptions for a prepared statement gone stale (set at open: asyncpg is optional).
_STALE_TYPES: tuple[type[BaseException], ...] = ()
_INVALID_CACHED: tuple[type[BaseException], ...] = ()


# Whether this asyncpg has the internals :func:`bind_execute` binds through (set at open).
_DIRECT = False


def know_stale_statements(asyncpg: Any) -> None:
    """Learn asyncpg's stale-statement exceptions, and whether its internals are as expected.

    Called by the store when it opens (asyncpg is imported then). An asyncpg whose connection
    or protocol lacks what :func:`bind_execute` uses (a later release may rename its private
    methods) gets its public ``fetch``/``execute`` instead: slower, never broken.
    """
    global _STALE_TYPES, _INVALID_CACHED, _DIRECT
    _INVALID_CACHED = (asyncpg.exceptions.InvalidCachedStatementError,)
    _STALE_TYPES = (asyncpg.exceptions.OutdatedSchemaCacheError, *_INVALID_CACHED)
    connection = asyncpg.connection.Connection
    protocol = getattr(getattr(asyncpg, "protocol", None), "protocol", None)
    _DIRECT = all(
        hasattr(connection, name) for name in ("_get_statement", "_drop_global_statement_cache")
    ) and hasattr(getattr(protocol, "BaseProtocol", None), "bind_execute")
    if not _DIRECT:
        log.info("asyncpg %s: statements go through its public API", getattr(asyncpg, "__version__", "?"))


async def _public_execute(raw: Any, sql: str, args: Sequence[Any], status: bool) -> Any:
    """What :func:`bind_execute` answers, through asyncpg's public ``fetch``/``execute``."""
    if status:
        return None, (await raw.execute(sql, *args)).encode(), None
    return await raw.fetch(sql, *args)


async def bind_execute(
    raw: Any, statements: dict[str, Any], sql: str, args: Sequence[Any], status: bool
) -> Any:
    """One statement as ``Connection.fetch``/``execute`` run it, without their Python layers.

    asyncpg's public methods each pass through five Python frames (argument checks, timeout
    arithmetic, the statement cache's key tuple, a lambda) before its protocol's
    ``bind_execute``: about a third of the CPU a cached statement costs on the client. Here the
    prepared statement state is kept per connection (``statements``, only what asyncpg's own
    cache holds: a named statement; a closed one, evicted from that cache, is looked up again)
    and bound directly. What asyncpg does when a statement went stale is done the same way: an
    ``ALTER TYPE`` drops the type caches and raises; a changed result type drops the statement
    caches, and outside a transaction the statement is prepared again and retried once.
    ``status``: the command status (``execute``) instead of the rows (``fetch``).
    """
    if not _DIRECT:
        return await _public_execute(raw, sql, args, status)
    for retry in (True, False):
        state = statements.get(sql)
        if state is None or state.closed:
            state = await raw._get_statement(sql, None)
            if state.name:
                statements[sql] = state
        try:
            return await raw._protocol.bind_execute(state, args, "", 0, status, None)
        except _STALE_TYPES as error:
            statements.clear()
            if not isinstance(error, _INVALID_CACHED):  # OutdatedSchemaCacheError
                await raw.reload_schema_state()
                raise
            raw._drop_global_statement_cache()
            if not retry or raw.is_in_transaction():
                raise
    raise AssertionError("unreachable")  # pragma: no cover - the second try returns or raises


def _json_decoder(value: bytes) -> Any:
    return json.loads(value.decode())


def _jsonb_encoder(value: str) -> bytes:
    return b"\x01" + value.encode()  # the jsonb binary format's version byte


def _jsonb_decoder(value: bytes) -> Any:
    return json.loads(value[1:].decode())


async def may_prebegin(conn: Any) -> bool:
    """Whether ``conn`` may wait in the pool with an empty transaction open (see Pooled.begun)."""
    setting = await conn.fetchval(_IDLE_IN_TRANSACTION_TIMEOUT)
    return str(setting).strip() in ("0", "0ms", "0s", "")


async def set_codecs(conn: Any) -> None:
    """JSON as SQLAlchemy's asyncpg dialect sets it up: text in (its bind processors serialise),
    parsed values out (its result processors are none then)."""
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=_json_decoder, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_encoder, decoder=_jsonb_decoder, schema="pg_catalog", format="binary"
    )


class Pooled:
    """One pooled asyncpg connection: when it was opened, since when it is idle.

    ``begun``: an empty READ COMMITTED transaction is open on it, begun by the ``COMMIT; BEGIN``
    that ended the previous write (one round trip, where ``COMMIT`` and the next write's
    ``BEGIN`` were two). A write taking it sends no ``BEGIN``. This changes nothing the engine
    can observe: under READ COMMITTED every statement takes its own snapshot when it starts, and
    an empty transaction holds no snapshot, no transaction id and no table lock (nothing for
    ``VACUUM`` or DDL to wait on); the engine's timestamps come from Python, not ``now()``.
    A read or a snapshot on such a connection ends with ``COMMIT`` (its table locks end with
    it), which leaves the connection without a transaction for the next read. Not done where
    the server ends sessions idle in a transaction (``idle_in_transaction_session_timeout``).
    """

    __slots__ = ("begun", "borrowed", "idle_since", "opened_at", "prebegin", "raw", "statements")

    def __init__(self, raw: Any, prebegin: bool = False) -> None:
        self.raw = raw
        self.opened_at = time.monotonic()
        self.idle_since = self.opened_at
        self.begun = False
        #: Whether this connection may wait in the pool with an empty transaction open.
        self.prebegin = prebegin
        #: asyncpg's prepared statement states by SQL (see bind_execute).
        self.statements: dict[str, Any] = {}
        #: A SQLAlchemy connection wrapped around ``raw`` (see :class:`Borrowed`), made on demand.
        self.borrowed: AsyncConnection | None = None


class Pool:
    """The store's asyncpg connections: idle ones reused newest first, at most ``limit`` open.

    asyncpg's own pool resets every connection on release (a round trip) and SQLAlchemy's runs
    through the greenlet bridge; a transaction here ends in an explicit ``COMMIT`` or
    ``ROLLBACK``, so taking and returning a connection is a list operation. A connection idle
    for :data:`IDLE_PING_SECONDS` is pinged before use; a failed ping, like any lost connection
    (:meth:`invalidate`), throws away every connection opened before it, and waiting transactions
    get new ones.
    """

    def __init__(
        self, connect: Callable[[], Awaitable[Pooled]], size: int, overflow: int, timeout: float
    ) -> None:
        self._connect = connect
        self.size = size
        self.limit = size + overflow
        self.timeout = timeout
        self._idle: list[Pooled] = []
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closing: set[asyncio.Task[None]] = set()
        #: Open connections (idle, in use and being opened).
        self.opened = 0
        self._invalid_before = 0.0
        self._closed = False

    async def acquire(self, begun: bool = False) -> Pooled:
        """A connection, preferably one whose ``begun`` state is ``begun`` (see Pooled.begun)."""
        deadline: float | None = None
        while True:
            if self._closed:
                raise RuntimeError("store is not open")
            while self._idle:
                pooled = self._take(begun)
                if pooled.raw.is_closed() or pooled.opened_at < self._invalid_before:
                    self._drop(pooled)
                    continue
                if time.monotonic() - pooled.idle_since >= IDLE_PING_SECONDS and not await self._ping(pooled):
                    continue
                return pooled
            if self.opened < self.limit:
                self.opened += 1
                try:
                    return await self._connect()
                except BaseException:
                    self.opened -= 1
                    self._wake()
                    raise
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.timeout
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise sa.exc.TimeoutError(
                    f"connection pool limit of {self.size} + {self.limit - self.size} reached; "
                    f"no connection came back within {self.timeout:g}s"
                ) from None
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)

    def _take(self, begun: bool) -> Pooled:
        """The newest idle connection in the ``begun`` state wanted, else the newest one."""
        idle = self._idle
        for index in range(len(idle) - 1, -1, -1):
            if idle[index].begun is begun:
                return idle.pop(index)
        return idle.pop()

    async def _ping(self, pooled: Pooled) -> bool:
        """Whether an idle connection still answers; if not it is dropped with all older ones.

        A connection parked in an empty transaction ends it with the ping (``ROLLBACK``): it has
        waited long enough that nothing is gained by keeping it open.
        """
        try:
            await pooled.raw.execute("ROLLBACK" if pooled.begun else "SELECT 1", timeout=PING_TIMEOUT)
            pooled.begun = False
            return True
        except Exception as exc:
            log.info("idle pooled PostgreSQL connection failed its ping (%s); reconnecting", exc)
            self.invalidate()
            self._drop(pooled)
            return False

    def release(self, pooled: Pooled, *, discard: bool = False) -> None:
        raw = pooled.raw
        if (
            discard
            or self._closed
            or raw.is_closed()
            or pooled.opened_at < self._invalid_before
            or raw.is_in_transaction() is not pooled.begun
        ):
            self._drop(pooled)
        elif len(self._idle) >= self.size:
            self._drop(pooled, graceful=True)
        else:
            pooled.idle_since = time.monotonic()
            self._idle.append(pooled)
        self._wake()

    def invalidate(self) -> None:
        """Throw away every connection opened until now (the database dropped one of them)."""
        self._invalid_before = time.monotonic()
        idle, self._idle = self._idle, []
        for pooled in idle:
            self._drop(pooled)

    def _drop(self, pooled: Pooled, *, graceful: bool = False) -> None:
        self.opened -= 1
        _forget_borrowed(pooled)
        raw = pooled.raw
        if raw.is_closed():
            return
        if not graceful:
            raw.terminate()  # no round trip to a server that may be gone
            return
        task = asyncio.get_running_loop().create_task(self._close(raw))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close(raw: Any) -> None:
        try:
            await raw.close(timeout=2)
        except Exception:
            raw.terminate()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for pooled in idle:
            self.opened -= 1
            _forget_borrowed(pooled)
            await self._close(pooled.raw)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


def _forget_borrowed(pooled: Pooled) -> None:
    """Return the SQLAlchemy connection around ``pooled`` (it sends nothing: see Borrowed)."""
    borrowed, pooled.borrowed = pooled.borrowed, None
    if borrowed is not None and borrowed.sync_connection is not None:
        try:
            borrowed.sync_connection.close()
        except Exception as exc:  # pragma: no cover - nothing in it talks to the database
            log.debug("closing SQLAlchemy's view of a pooled connection failed: %s", exc)


class Borrowed(NullPool):
    """SQLAlchemy's view of a connection the store's pool lends it: never closed by SQLAlchemy.

    Its engine's creator hands out the connection being lent (:meth:`PostgresStore._borrow`),
    in ``AUTOCOMMIT`` mode with no reset on return, so SQLAlchemy sends no ``BEGIN``,
    ``COMMIT`` or ``ROLLBACK`` of its own: its statements run inside the store's transaction.
    """

    def _close_connection(self, connection: Any, *, terminate: bool = False) -> None:
        pass  # the store's pool owns the asyncpg connection
