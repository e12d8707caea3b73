"""``Tx``: one database transaction as the engine uses it, plus what to announce after commit.

Every state change runs inside one :class:`Tx` (opened by ``EngineCore._tx``), which carries the
connection, the transaction's logical ``now`` and the wake-ups to send once it has committed
(pollers must never be woken for rows they cannot see yet). Reads use the same type over a read
connection.

``EngineCore._tx()`` returns a :class:`TxScope`. Engine code *iterates* it, so that a transaction
the database aborted to resolve a conflict (a deadlock, a serialization failure, SQLite's
"database is locked" once the store's busy wait gave up) runs again from the start::

    async for txn in self._tx():
        async with txn as tx:
            ...  # the whole body, and nothing after it inside the loop

A failed attempt announces nothing (wake-ups go out after the final commit only) and has its
external payload writes deleted again; the body must build its state from the database inside
the transaction and must not change Python state that outlives the transaction before it
commits, since it may run more than once. A connection found dead in the middle of a body is
retried once too (nothing was committed: the ``COMMIT`` was never sent). Nothing the ``COMMIT``
itself raises is retried (see :meth:`Attempt.__aexit__`). ``async with self._tx() as tx``
is one attempt with no retry (tests use it to hold a transaction open at a chosen point).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..store import Conn, Store
from ..store.errors import conflict_kind, is_unavailable

if TYPE_CHECKING:
    from .activities.eager import EagerActivities
    from .external_storage.storage import PayloadStorage, WrittenObject
    from .history.rows import KeptEvents

WakeKey = tuple[str, str, str]  # (kind, namespace, queue) with kind "workflow" | "activity"


@dataclass
class Tx:
    """One write transaction plus what to announce after it commits."""

    conn: Conn
    store: Store
    now: datetime
    wakes: set[WakeKey] = field(default_factory=set)
    history_runs: set[str] = field(default_factory=set)
    timers_changed: bool = False
    # The earliest new due time this transaction wrote (an activity deadline); the background
    # loop is woken only if it would otherwise sleep past it.
    due_at: datetime | None = None
    # Set by anything that creates, changes or removes a namespace (drops the existence cache).
    namespaces_changed: bool = False
    # External payload storage (policies, drivers); objects written to it by this transaction,
    # deleted again when it rolls back (see ``external_storage/offloading.py``).
    payloads: PayloadStorage | None = None
    written_objects: list[WrittenObject] = field(default_factory=list)
    # Objects to delete once this transaction has committed (retention): no row names them then.
    deferred_deletions: list[WrittenObject] = field(default_factory=list)
    # Activity tasks this transaction scheduled: task id -> (the run row, locked and kept current
    # by this transaction; the execution row as inserted). An eager dispatch of them reads neither.
    scheduled: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    # A workflow-task completion's eager activity hand-out, decided as it schedules each activity
    # (``activities.eager``); set only while its commands are applied and cannot close the run.
    eager_activities: EagerActivities | None = None
    # Worker registrations an eager completion's fence read with the task (``workers.rows.
    # EAGER_WORKER_COLUMNS``): (namespace, worker id) -> the ``EAGER_WORKER`` row, or None (not
    # registered). ``workers.registry.eager_registration`` takes its row from here, once.
    eager_workers: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    # Run columns written to the run dict but not yet to its row (``update_run(defer=True)``):
    # run id -> values. The run's next update carries them; the body's end writes what is left.
    pending_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # History rows appended but not yet inserted (``history.rows.append(defer=True)``): the next
    # append inserts them with its own, a history read or the body's end inserts what is left.
    pending_events: list[dict[str, Any]] = field(default_factory=list)
    # Runs whose history rows this transaction keeps as it inserts them (``history.rows.keep``):
    # a page of only those rows is answered from here, without reading them back.
    kept_events: dict[str, KeptEvents] = field(default_factory=dict)
    # Runs this transaction closed for good, by their instance's close wake key
    # (``runs.close_wait.close_key``): after commit, the callers waiting in this process for that
    # close are handed the run's describe, built from the row as this transaction left it.
    closed_runs: dict[WakeKey, Any] = field(default_factory=dict)

    def due(self, at: datetime | None) -> None:
        """Note a new due time for the background loop."""
        if at is not None and (self.due_at is None or at < self.due_at):
            self.due_at = at

    async def one(self, stmt: Any, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        rows = await self.conn.fetch(stmt, params)
        return rows[0] if rows else None

    async def all(self, stmt: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return await self.conn.fetch(stmt, params)


log = logging.getLogger(__name__)

#: How many times one transaction runs at most, by what aborted it (the first run included).
#: SQLite's store has already waited ``BUSY_TIMEOUT_MS`` before it reports "database is locked".
MAX_ATTEMPTS: dict[str, int] = {
    "serialization_failure": 6,
    "deadlock": 6,
    "database_locked": 2,
    "disconnected": 2,
}
#: Full-jitter exponential backoff between attempts: ``uniform(0, min(cap, base * 2**(n-1)))``.
BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS = 0.005, 0.25


def retry_reason(exc: BaseException, *, committing: bool) -> str | None:
    """Why the transaction that raised ``exc`` may run again (a ``MAX_ATTEMPTS`` key), or ``None``.

    ``committing``: ``exc`` came from the ``COMMIT``; a lost connection then is not retried
    (the commit may have happened). :class:`Attempt` retries nothing that the COMMIT raised.
    """
    kind = conflict_kind(exc)
    if kind is not None:
        return kind
    if not committing and is_unavailable(exc):
        return "disconnected"
    return None


class TxScope:
    """One logical write transaction: iterate it for retried attempts, or enter it for one.

    ``open_attempt`` opens one attempt (a database transaction whose exit commits and then
    announces). ``on_retry`` hears the reason of every retry (metrics).
    """

    def __init__(
        self,
        open_attempt: Callable[[], AbstractAsyncContextManager[Tx]],
        *,
        on_retry: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._open_attempt = open_attempt
        self._on_retry = on_retry
        self._sleep = sleep
        self._rand = rand
        self._single: AbstractAsyncContextManager[Tx] | None = None
        #: Attempts started so far (observability, tests).
        self.attempts = 0
        self._finished = False
        self._delay = 0.0

    # ------------------------------------------------------------------ one attempt, no retry
    async def __aenter__(self) -> Tx:
        self._single = self._open_attempt()
        return await self._single.__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._single is not None
        return await self._single.__aexit__(exc_type, exc, tb)

    # ------------------------------------------------------------------ retried attempts
    def __aiter__(self) -> TxScope:
        return self

    async def __anext__(self) -> Attempt:
        if self._finished:
            raise StopAsyncIteration
        if self.attempts:
            await self._sleep(self._delay)
        self.attempts += 1
        return Attempt(self, self._open_attempt())

    def _finish(self) -> None:
        self._finished = True

    def _should_retry(self, exc: BaseException, *, committing: bool) -> bool:
        reason = retry_reason(exc, committing=committing)
        if reason is None or self.attempts >= MAX_ATTEMPTS[reason]:
            return False
        window = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (self.attempts - 1))
        self._delay = self._rand() * window
        log.info("transaction attempt %d aborted (%s); running it again", self.attempts, reason)
        if self._on_retry is not None:
            self._on_retry(reason)
        return True


class Attempt:
    """One attempt of a :class:`TxScope`; a retryable failure is swallowed so the loop goes on."""

    __slots__ = ("_cm", "_scope")

    def __init__(self, scope: TxScope, cm: AbstractAsyncContextManager[Tx]) -> None:
        self._scope = scope
        self._cm = cm

    async def __aenter__(self) -> Tx:
        return await self._cm.__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        try:
            await self._cm.__aexit__(exc_type, exc, tb)
        except Exception:
            if exc is None:
                # The COMMIT failed. Never retried here: a body that ended in ``return`` (or
                # ``break``) would go on returning as if it had committed, since a context
                # manager cannot stop a return. PostgreSQL (READ COMMITTED) reports deadlocks
                # at the statement that waited, never at COMMIT; SQLite's COMMIT has had its
                # busy wait already.
                raise
            # The rollback after a failed body failed too (a dead connection): judge the body's error.
            if self._scope._should_retry(exc, committing=False):
                return True
            raise
        if exc is None:
            self._scope._finish()
            return False
        return isinstance(exc, Exception) and self._scope._should_retry(exc, committing=False)


#: Opens one write transaction (``EngineCore._tx``); what the background sweeps are given.
OpenTx = Callable[[], TxScope]
