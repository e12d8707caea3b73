"""The engine's shared core: settings, store, transactions with post-commit wake-ups, lifecycle.

Each state change is one ``Store.write()`` transaction wrapped in :meth:`EngineCore._tx`, which
announces wake-ups (pollers, history followers, the background loop) only after the commit, in
this process and (through :mod:`.broadcast`) in every other process sharing the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import Any, cast

from ..settings import Settings
from ..store import Conn, Store, create_store, head_revision
from ..store import tables as t
from ..store.rows import WorkerRow
from .background_loop import BackgroundLoop, sweep
from .broadcast import Broadcast, WakeTargets
from .external_storage.offloading import discard_written
from .external_storage.storage import PayloadStorage
from .history.rows import insert_pending
from .maintenance.counters import TRANSACTION_RETRIES, ProcessCounters
from .maintenance.retention_sweep import RetentionSweep
from .namespaces import rows as namespaces
from .runs.close_wait import closed_describe
from .runs.rows import write_pending
from .shapes import ReadinessChecks, WorkerFleet
from .transaction import Tx, TxScope
from .util import seconds
from .waiters import Waiters
from .workers import registry as workers
from .workers.rows import WORKERS_IN_NAMESPACE

# How often a parked long poll re-probes the database when settings leave it to the dialect. Where
# the store notifies other processes (PostgreSQL LISTEN/NOTIFY) the re-probe is only a safety net
# for a notification lost to a crash between commit and NOTIFY or to a listener reconnect, so it
# can be long; without notifications (SQLite files shared by several processes) it is how other
# processes' work is found at all.
REPROBE_WITH_NOTIFY, REPROBE_WITHOUT_NOTIFY = 10.0, 1.0


class WriteAttempt:
    """One write attempt of :meth:`EngineCore._tx` as a plain async context manager.

    Every state change opens one, so it is a class rather than an ``@asynccontextmanager``
    generator (whose frame, wrapper and ``athrow`` plumbing cost more than what it does). On a
    clean exit the body's deferred writes go in (history rows, run values) and the store commits;
    then the core announces. On any failure the store rolls back and what the attempt wrote to
    external storage is deleted again (no row refers to it).
    """

    __slots__ = ("_core", "_scope", "_tx")

    def __init__(self, core: EngineCore) -> None:
        self._core = core
        self._scope: AbstractAsyncContextManager[Conn] | None = None
        self._tx: Tx | None = None

    async def __aenter__(self) -> Tx:
        core = self._core
        scope = core.store.write()
        conn = await scope.__aenter__()
        self._scope = scope
        try:
            self._tx = Tx(conn=conn, store=core.store, now=core.now(), payloads=core.payloads)
        except BaseException as exc:
            await scope.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self._tx

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        tx, scope = self._tx, self._scope
        assert tx is not None and scope is not None
        if exc is not None:
            try:
                await scope.__aexit__(exc_type, exc, tb)
            finally:
                if tx.written_objects:
                    await discard_written(tx.written_objects)
            return False
        try:
            try:
                # What the body deferred: history rows (history.rows.append), run values (update_run).
                await insert_pending(tx)
                await write_pending(tx)
            except BaseException as failed:
                await scope.__aexit__(type(failed), failed, failed.__traceback__)
                raise
            await scope.__aexit__(None, None, None)
        except BaseException:
            # Rolled back: what it wrote to external storage is referred to by nothing.
            if tx.written_objects:
                await discard_written(tx.written_objects)
            raise
        if tx.deferred_deletions:
            await discard_written(tx.deferred_deletions)
        self._core._committed(tx)
        return False


class ReadScope:
    """A read transaction (``store.read()`` or ``store.snapshot()``) as a :class:`Tx`; a plain
    class for the reason :class:`WriteAttempt` is one."""

    __slots__ = ("_core", "_scope")

    def __init__(self, core: EngineCore, scope: AbstractAsyncContextManager[Conn]) -> None:
        self._core = core
        self._scope = scope

    async def __aenter__(self) -> Tx:
        core, scope = self._core, self._scope
        conn = await scope.__aenter__()
        try:
            return Tx(conn=conn, store=core.store, now=core.now(), payloads=core.payloads)
        except BaseException as exc:
            await scope.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return await self._scope.__aexit__(exc_type, exc, tb)


class EngineCore:
    """Settings, store, wake-ups and the background loop shared by both planes."""

    def __init__(self, settings: Settings, *, background_loop: bool = True) -> None:
        """``background_loop=False`` leaves sweeping to :meth:`tick` (tests that drive time by hand).

        With an injected clock that a test advances, a loop sweeping on its own would see the new
        time at an arbitrary moment, in the middle of the test's own steps.
        """
        self.settings = settings
        self.background_loop = background_loop
        self.store: Store = create_store(settings.database_url)
        self.waiters = Waiters()
        # This process's own counters (requests, lease expiries): see maintenance/counters.py.
        self.counters = ProcessCounters()
        self._loop = BackgroundLoop(self._sweep, interval=settings.timer_loop_interval, clock=settings.clock)
        # Since when this process has seen the database (set at open, reset by a failed sweep):
        # a worker's silence before it proves nothing — the worker's heartbeats may have failed
        # with ours — so liveness counts silence only from then (see activities/liveness.py).
        self.observed_since: datetime | None = None
        self.broadcast = Broadcast(
            self.store,
            WakeTargets(
                notify=lambda key: self.waiters.notify(key),
                notify_all=lambda: self.waiters.notify_all(),
                poke=self._loop.poke,
                poke_before=self._loop.poke_before,
                forget_namespaces=lambda: self._known_namespaces.clear(),
            ),
        )
        configured = settings.poll_reprobe_interval
        self.reprobe_interval = (
            configured
            if configured is not None
            else REPROBE_WITH_NOTIFY
            if self.store.notifies
            else REPROBE_WITHOUT_NOTIFY
        )
        # Namespaces known to exist -> when that answer stops being trusted (see namespace_exists).
        self._known_namespaces: dict[str, datetime] = {}
        self.payloads = PayloadStorage(settings)
        interval = settings.retention_sweep_interval_seconds
        self._retention = (
            RetentionSweep(interval, settings.retention_window_seconds) if interval is not None else None
        )

    # ------------------------------------------------------------------ plumbing
    def now(self) -> datetime:
        return self.settings.clock()

    def _tx(self) -> TxScope:
        """One write transaction, retried on conflicts when iterated (see ``transaction.py``)."""
        return TxScope(self._attempt, on_retry=self._count_retry)

    def _count_retry(self, reason: str) -> None:
        self.counters.inc(TRANSACTION_RETRIES, {"reason": reason})

    def _attempt(self) -> WriteAttempt:
        """One attempt: a store transaction; after its commit, the wake-ups it collected."""
        return WriteAttempt(self)

    def _committed(self, tx: Tx) -> None:
        """What a committed attempt announces (its deferred deletions are already under way)."""
        if tx.namespaces_changed:
            self._known_namespaces.clear()
            self.payloads.forget_policies()
        waiters = self.waiters
        for key in tx.wakes:
            closed = tx.closed_runs.get(key) if tx.closed_runs else None
            body = closed_describe(closed) if closed is not None and waiters.watching(key) else None
            if body is not None:
                waiters.hand(key, body)
            else:
                waiters.notify(key)
        for run_id in tx.history_runs:
            self.waiters.notify(("history", run_id))
        if tx.timers_changed:
            self._loop.poke()
        elif tx.due_at is not None:
            self._loop.poke_before(tx.due_at)
        self.broadcast.publish(tx)

    def _read(self) -> ReadScope:
        return ReadScope(self, self.store.read())

    def _brief_read(self) -> ReadScope:
        """Like :meth:`_read`, for a body of statements only (``store.brief_read()``)."""
        return ReadScope(self, self.store.brief_read())

    def _snapshot(self) -> ReadScope:
        """Like :meth:`_read`, with every statement reading one snapshot (``store.snapshot()``)."""
        return ReadScope(self, self.store.snapshot())

    async def _sweep(self) -> datetime | None:
        if self.observed_since is None:
            self.observed_since = self.now()
        try:
            return await sweep(
                self._tx,
                self.store,
                self.now,
                self.counters,
                worker_prune_after=self.settings.worker_prune_after_seconds,
                liveness=self.settings.worker_liveness_timeout_seconds,
                observed_since=self.observed_since,
                retention=self._retention,
                probed=self._probed_sweep,
            )
        except Exception:
            self.observed_since = None  # the database may be gone: so may the workers' heartbeats
            raise

    async def _probed_sweep(self, due: Mapping[str, Any]) -> datetime | None:
        """The steps a mixin adds to the background pass, given the pass's probe row (the schedule
        step reads its part, ``background_loop.SCHEDULE_PROBE``); their next due time."""
        return None

    async def tick(self) -> None:
        """Run one pass of the background loop now (tests drive time with an injected clock)."""
        await self._sweep()

    # ------------------------------------------------------------------ lifecycle / system
    async def open(self) -> None:
        await self.store.open()
        self.observed_since = self.now()
        async for txn in self._tx():
            async with txn as tx:
                await namespaces.ensure(tx, {"default", self.settings.default_namespace})
        self.waiters = Waiters()
        if self.background_loop:
            self._loop.start()
        await self.broadcast.open()

    def long_polls_waiting(self) -> int:
        return self.waiters.active

    def stop_polling(self) -> None:
        self.waiters.close()

    async def close(self) -> None:
        self.waiters.close()
        await self.waiters.drain(timeout=5.0)
        await self._loop.stop()
        await self.broadcast.close()
        await self.store.close()

    async def database_ok(self) -> bool:
        return await self.store.ping()

    async def readiness_checks(self) -> ReadinessChecks:
        checks: ReadinessChecks = {}
        ok = await self.database_ok()
        checks["database"] = {"status": "ok" if ok else "unavailable"}
        if not ok:
            checks["migrations"] = {"status": "unavailable"}
            checks["default_namespace"] = {
                "status": "unavailable",
                "namespace": self.settings.default_namespace,
            }
            return checks
        current, head = await self.store.current_revision(), head_revision()
        missing = await self.store.missing_tables([tbl.name for tbl in t.ALL_TABLES])
        if current == head and not missing:
            checks["migrations"] = {"status": "ok"}
        else:
            checks["migrations"] = {
                "status": "missing",
                "missing_tables": missing,
                "message": f"schema at {current}, expected {head}",
            }
        present = await self.namespace_exists(self.settings.default_namespace)
        checks["default_namespace"] = {
            "status": "ok" if present else "missing",
            "namespace": self.settings.default_namespace,
        }
        return checks

    async def namespace_exists(self, name: str) -> bool:
        """Whether ``name`` exists; asked on every request, so positive answers are cached.

        A "yes" is trusted for ``namespace_cache_seconds`` (a namespace removed by another process
        sharing the database is noticed within that time; this process forgets its cache as soon
        as one of its own transactions changes namespaces). A "no" is never cached, so a namespace
        created anywhere is usable at once.
        """
        name = name.lower()
        now = self.now()
        trusted_until = self._known_namespaces.get(name)
        if trusted_until is not None and now < trusted_until:
            return True
        async with self._read() as tx:
            exists = await tx.one(namespaces.EXISTS, {"b_name": name}) is not None
        if exists:
            self._known_namespaces[name] = now + seconds(self.settings.namespace_cache_seconds)
        else:
            self._known_namespaces.pop(name, None)
        return exists

    async def _eager_worker(self, tx: Tx, namespace: str, worker_id: str) -> WorkerRow | None:
        """The registration an eager hand-out leases to: registered, and heard from within the
        liveness window (so liveness releases what it is handed should it die)."""
        window = self.settings.worker_liveness_timeout_seconds or self.settings.worker_stale_after_seconds
        return await workers.live_registration(tx, namespace, worker_id, window)

    async def _eager_registration(
        self, tx: Tx, namespace: str, worker_id: str
    ) -> tuple[WorkerRow | None, bool | None]:
        """:meth:`_eager_worker`, and whether its cohort is drained (``None``: not known)."""
        window = self.settings.worker_liveness_timeout_seconds or self.settings.worker_stale_after_seconds
        return await workers.eager_registration(tx, namespace, worker_id, window)

    async def worker_fleet(self, namespace: str) -> WorkerFleet:
        async with self._read() as tx:
            rows = cast(list[WorkerRow], await tx.all(WORKERS_IN_NAMESPACE, {"b_namespace": namespace}))
            return workers.fleet(namespace, rows, tx.now, self.settings.worker_stale_after_seconds)
