"""``history_events`` statements, appending events, and reading them back in order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import HistoryEventRow, RunRow
from ..external_storage import rows as external_payloads
from ..runs.rows import update_run
from ..transaction import Tx
from ..util import new_id

_he = t.history_events
INSERT_EVENTS = sa.insert(_he)
HISTORY_ROWS = (
    sa.select(_he)
    .where(_he.c.run_id == sa.bindparam("b_run_id"), _he.c.sequence > sa.bindparam("b_after"))
    .order_by(_he.c.sequence)
    .limit(sa.bindparam("b_limit"))
)
# The debug view: the run's latest event, and its latest events of some types (failures).
LAST_OF_RUN = (
    sa.select(_he).where(_he.c.run_id == sa.bindparam("b_run_id")).order_by(_he.c.sequence.desc()).limit(1)
)


def latest_of_types(event_types: tuple[str, ...]) -> sa.Select[Any]:
    """The run's latest ``b_limit`` events of ``event_types``, newest first."""
    return (
        sa.select(_he)
        .where(_he.c.run_id == sa.bindparam("b_run_id"), _he.c.event_type.in_(event_types))
        .order_by(_he.c.sequence.desc())
        .limit(sa.bindparam("b_limit"))
    )


ALL_OF_RUN = sa.select(_he).where(_he.c.run_id == sa.bindparam("b_run_id")).order_by(_he.c.sequence)


def payloads_after(event_types: tuple[str, ...]) -> sa.Select[Any]:
    """Payloads of the run's events of ``event_types`` after sequence ``b_after``."""
    return sa.select(_he.c.payload).where(
        _he.c.run_id == sa.bindparam("b_run_id"),
        _he.c.sequence > sa.bindparam("b_after"),
        _he.c.event_type.in_(event_types),
    )


async def append(
    tx: Tx,
    run: RunRow,
    events: list[tuple[str, dict[str, Any]]],
    *,
    workflow_task_id: str | None = None,
    write_run: bool = True,
    defer: bool = False,
) -> list[dict[str, Any]]:
    """Append events to ``run`` with gap-free sequences and advance its projection counter.

    The caller must hold the run row (``load_run(lock=True)``) so sequences cannot race. With
    ``write_run=False`` only ``run`` (the dict) is advanced and the caller must write
    :func:`progress` in its own run update before the transaction ends, saving an ``UPDATE``.
    ``defer=True`` leaves the rows to the transaction's next append (one multi-row ``INSERT``),
    or to :func:`history_rows` or the body's end (:func:`insert_pending`), whichever comes first:
    for a caller that knows nothing else reads the run's history meanwhile.
    """
    if not events:
        return []
    rows = []
    sequence = int(run["last_history_sequence"])
    for event_type, payload in events:
        sequence += 1
        rows.append(
            {
                "id": new_id(),
                "run_id": run["run_id"],
                "sequence": sequence,
                "namespace": run["namespace"],
                "event_type": event_type,
                "payload": payload,
                "workflow_task_id": workflow_task_id,
                "workflow_command_id": payload.get("workflow_command_id"),
                "recorded_at": tx.now,
            }
        )
    kept = tx.kept_events.get(run["run_id"])
    if kept is not None:
        kept.appended(int(run["last_history_sequence"]), sequence)
    if defer:
        tx.pending_events.extend(rows)
    else:
        pending, tx.pending_events = tx.pending_events, []
        inserted = [*pending, *rows]
        await tx.conn.execute(INSERT_EVENTS, inserted)
        _keep_inserted(tx, inserted)
    # The one place every history payload passes: objects its events refer to are noted for the
    # run (a child's output in its parent, an input carried into a continued run).
    await external_payloads.record_history(tx, run["namespace"], run["run_id"], (p for _, p in events))
    tx.history_runs.add(run["run_id"])
    if write_run:
        await update_run(tx, run, last_history_sequence=sequence, last_progress_at=tx.now)
    else:
        run["last_history_sequence"], run["last_progress_at"] = sequence, tx.now
    return rows


async def insert_pending(tx: Tx) -> None:
    """Insert the history rows appended with ``defer=True`` and not inserted yet."""
    if tx.pending_events:
        pending, tx.pending_events = tx.pending_events, []
        await tx.conn.execute(INSERT_EVENTS, pending)
        _keep_inserted(tx, pending)


def take_pending(tx: Tx) -> list[dict[str, Any]]:
    """The rows appended with ``defer=True``, for a caller inserting them in a statement of its own.

    They count as inserted from here (kept runs note them): the caller runs that statement in
    this transaction, which otherwise fails as a whole.
    """
    pending, tx.pending_events = tx.pending_events, []
    _keep_inserted(tx, pending)
    return pending


def _keep_inserted(tx: Tx, rows: list[dict[str, Any]]) -> None:
    if tx.kept_events:
        for row in rows:
            kept = tx.kept_events.get(row["run_id"])
            if kept is not None:
                kept.inserted(row)


@dataclass
class KeptEvents:
    """The history rows one transaction appended to one run, as the database holds them now.

    The transaction holds the run (``append`` requires it, and a new run is its own), so the
    run's events after ``base`` (its sequence before this transaction's first append) are these
    and no others. Each row is copied as it is inserted, its payload through the JSON text the
    column stores (the same ``json.dumps`` the column's bind processor runs, at the same moment),
    so it is what a read of it returns. ``through``: the last sequence appended, inserted or not.
    """

    base: int | None = None
    through: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def appended(self, before: int, last: int) -> None:
        if self.base is None:
            self.base = before
        self.through = last

    def inserted(self, row: dict[str, Any]) -> None:
        self.rows.append({**row, "payload": json.loads(json.dumps(row["payload"]))})

    def page(self, after: int, limit: int) -> list[HistoryEventRow] | None:
        """The run's events after ``after`` (at most ``limit``), or ``None``: not all known here."""
        base = self.base
        if base is None or after < base or base + len(self.rows) != self.through:
            return None  # older events, or some not inserted yet: read them
        return cast(list[HistoryEventRow], self.rows[after - base : after - base + limit])


def keep(tx: Tx, run_id: str) -> None:
    """Keep the rows this transaction appends to ``run_id`` from now on (see :class:`KeptEvents`).

    For a transaction that may answer a page of them (an eager workflow-task hand-out), saving
    the read of what it has just written.
    """
    tx.kept_events.setdefault(run_id, KeptEvents())


async def history_rows(tx: Tx, run_id: str, *, after: int, limit: int) -> list[HistoryEventRow]:
    kept = tx.kept_events.get(run_id)
    known = kept.page(after, limit) if kept is not None else None
    if known is not None:
        return known
    await insert_pending(tx)
    rows = await tx.all(HISTORY_ROWS, {"b_run_id": run_id, "b_after": after, "b_limit": limit})
    return cast(list[HistoryEventRow], rows)


def last_of_types(event_types: tuple[str, ...]) -> sa.Select[Any]:
    """The run's latest event of ``event_types`` (its ``event_type`` and ``payload``)."""
    return (
        sa.select(_he.c.event_type, _he.c.payload)
        .where(_he.c.run_id == sa.bindparam("b_run_id"), _he.c.event_type.in_(event_types))
        .order_by(_he.c.sequence.desc())
        .limit(1)
    )
