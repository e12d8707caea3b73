"""``Tx``: one database transaction as the engine uses it, plus what to announce after commit.

Every state change runs inside one :class:`Tx` (opened by ``EngineCore._tx``), which carries the
connection, the transaction's logical ``now`` and the wake-ups to send once it has committed
(pollers must never be woken for rows they cannot see yet). Reads use the same type over a read
connection.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..store import Conn, Store

if TYPE_CHECKING:
    from .external_storage.storage import PayloadStorage, WrittenObject

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

    def due(self, at: datetime | None) -> None:
        """Note a new due time for the background loop."""
        if at is not None and (self.due_at is None or at < self.due_at):
            self.due_at = at

    async def one(self, stmt: Any, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        row = (await self.conn.execute(stmt, params)).mappings().first()
        return dict(row) if row is not None else None

    async def all(self, stmt: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(r) for r in (await self.conn.execute(stmt, params)).mappings().all()]


#: Opens one write transaction (``EngineCore._tx``); what the background sweeps are given.
OpenTx = Callable[[], AbstractAsyncContextManager[Tx]]
