"""Claiming from a task queue: the candidate queries and the claim order shared by both task tables.

A claim is one fenced row update (``ready`` → ``leased``, or an expired lease taken over) inside
a write transaction. On PostgreSQL candidates are selected ``FOR UPDATE SKIP LOCKED`` so
concurrent pollers never block on each other; the run of each is then tried without waiting
(:func:`claim_first`), and only if every candidate's run was busy are those tried again in a
fresh transaction that locks the run first and waits (:func:`claim_waiting`). The lease itself is
an update fenced on what the claimer read and on the task still being due.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from .runs.rows import load_run, try_lock_run
from .transaction import Tx

T = TypeVar("T")
Row = TypeVar("Row")


def still_due(table: sa.Table, ready: str, leased: str) -> sa.ColumnElement[bool]:
    """The row is still claimable at ``b_now``: ready and available, or leased past its lease."""
    return sa.or_(
        sa.and_(table.c.status == ready, table.c.available_at <= sa.bindparam("b_now")),
        sa.and_(table.c.status == leased, table.c.lease_expires_at <= sa.bindparam("b_now")),
    )


@dataclass(frozen=True)
class Candidates:
    """Claim candidates of one task table, as two index-ordered queries.

    Ready tasks come from ``(namespace, task_queue, status, available_at)`` in index order, so
    ``LIMIT`` stops after a few rows however long the backlog is (one query with ``OR`` over both
    kinds had to sort every due row first); tasks whose lease ran out are a separate, usually
    empty, query. Each has a variant restricted to the types in ``b_types``. A claim runs both as
    one statement (:attr:`both`): the two scans as subqueries of a ``UNION ALL``.
    """

    ready: sa.Select[Any]
    ready_typed: sa.Select[Any]
    expired: sa.Select[Any]
    expired_typed: sa.Select[Any]
    #: The leased status: what orders the expired leases first in :attr:`both`.
    leased: str = ""
    #: Both queries as one statement (each its own locked, limited index scan), in the same order.
    both: sa.Select[Any] = dataclasses.field(init=False, repr=False, compare=False)
    both_typed: sa.Select[Any] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "both", _one_statement(self.expired, self.ready, self.leased))
        object.__setattr__(
            self, "both_typed", _one_statement(self.expired_typed, self.ready_typed, self.leased)
        )

    @classmethod
    def of(cls, table: sa.Table, type_column: str, *, ready: str, leased: str) -> Candidates:
        queue = (
            table.c.namespace == sa.bindparam("b_namespace"),
            table.c.task_queue == sa.bindparam("b_queue"),
        )
        ready_rows = (
            sa.select(table)
            .where(*queue, table.c.status == ready, table.c.available_at <= sa.bindparam("b_now"))
            .order_by(table.c.available_at, table.c.task_id)
            .limit(10)
        )
        expired_rows = (
            sa.select(table)
            .where(*queue, table.c.status == leased, table.c.lease_expires_at <= sa.bindparam("b_now"))
            .order_by(table.c.available_at, table.c.task_id)
            .limit(10)
        )
        typed = table.c[type_column].in_(sa.bindparam("b_types", expanding=True))
        return cls(ready_rows, ready_rows.where(typed), expired_rows, expired_rows.where(typed), leased)

    def where(self, *clauses: sa.ColumnElement[bool]) -> Candidates:
        """These candidates with ``clauses`` added to all four queries."""
        return Candidates(
            self.ready.where(*clauses),
            self.ready_typed.where(*clauses),
            self.expired.where(*clauses),
            self.expired_typed.where(*clauses),
            self.leased,
        )

    async def due(
        self, tx: Tx, namespace: str, queue: str, types: list[str], *, leased: bool = True, **extra: Any
    ) -> list[dict[str, Any]]:
        """Due tasks of ``queue``: expired leases first (older work), then ready tasks, oldest first.

        ``leased=False`` leaves out the expired-lease query, for candidates that cannot have
        been leased yet (tasks this transaction created). ``extra``: the values of further bind
        parameters a table's statements add (``b_build_key``).
        """
        params: dict[str, Any] = {"b_namespace": namespace, "b_queue": queue, "b_now": tx.now, **extra}
        if types:
            params["b_types"] = types
        ready = self.ready_typed if types else self.ready
        if not leased:
            return await tx.all(tx.store.claim(ready), params)
        return await tx.all(self.both_typed if types else self.both, params)


def _one_statement(expired: sa.Select[Any], ready: sa.Select[Any], leased: str) -> sa.Select[Any]:
    """``expired`` then ``ready`` in one round trip: each stays its own skip-locked ``LIMIT``ed
    index scan (a subquery; ``FOR UPDATE`` renders only where the database has row locks), and
    the at most twenty rows are put in the two queries' order (expired leases first)."""
    branches = [stmt.with_for_update(skip_locked=True).subquery() for stmt in (expired, ready)]
    both = sa.union_all(*(sa.select(branch) for branch in branches)).subquery()
    first = sa.case((both.c.status == leased, 0), else_=1)
    return sa.select(both).order_by(first, both.c.available_at, both.c.task_id)


async def claim_first(
    tx: Tx,
    candidates: list[Row],
    run_id: Callable[[Row], str],
    attempt: Callable[[Row, Any], Awaitable[T | None]],
    *,
    held: Mapping[str, Any] | None = None,
    try_run: Callable[[Row], Awaitable[Any | None]] | None = None,
) -> tuple[T | None, list[Row]]:
    """The fast pass: ``attempt(candidate, locked run)`` in order until one claims.

    ``held``: a run this transaction has locked already (an eager hand-out inside the
    completion that locked it), used as it is for its candidates instead of being tried again.
    ``try_run``: how a candidate's run is tried (``None``: :func:`try_lock_run`), for a claim
    that tries it with a statement that does more (``workflow_tasks.rows.CLAIM_RUN``).

    The candidates are row-locked already (``SKIP LOCKED``), so their runs are only *tried*
    (``SKIP LOCKED`` again): a claim never waits for a run while it holds task rows, so it can
    never be one half of a deadlock with a writer that holds the run and waits for those rows
    (closing a run, a timeout). Returns ``(claimed, [])``, or ``(None, busy)`` with the
    candidates whose run another transaction held, for :func:`claim_waiting` in a fresh
    transaction.
    """
    busy: list[Row] = []
    for candidate in candidates:
        owner = run_id(candidate)
        if held is not None and held["run_id"] == owner:
            run: Any = held
        else:
            run = await try_run(candidate) if try_run is not None else await try_lock_run(tx, owner)
        if run is None:
            busy.append(candidate)
            continue
        claimed = await attempt(candidate, run)
        if claimed is not None:
            return claimed, []
    return None, busy


async def claim_waiting(
    tx: Tx,
    busy: list[Row],
    run_id: Callable[[Row], str],
    relock: Callable[[Row], Awaitable[Row | None]],
    attempt: Callable[[Row, Any], Awaitable[T | None]],
) -> T | None:
    """The slow pass over candidates whose run was busy, in a transaction holding nothing yet.

    Each run is locked first, waiting for its holder (usually a poller claiming another task of
    the same run, as in a fan-out), then the task is locked and read again (``relock``; ``None``
    once it is no longer claimable): the engine's lock order, run then task. A candidate that
    does not claim keeps its locks until the transaction ends, so the runs are visited in one
    global order (by run id): two slow passes can then never wait for each other in a cycle.
    """
    for candidate in sorted(busy, key=run_id):
        run = await load_run(tx, run_id(candidate))
        fresh = await relock(candidate)
        if fresh is None:
            continue
        claimed = await attempt(fresh, run)
        if claimed is not None:
            return claimed
    return None
