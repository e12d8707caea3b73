"""Task queues: claiming workflow/activity tasks under a lease, and long-poll wake-ups.

A claim is one fenced row update (``ready`` → ``leased``, or an expired lease taken over) inside
a write transaction; on PostgreSQL candidates are selected ``FOR UPDATE SKIP LOCKED`` so
concurrent pollers never block on each other.

Long-poll: a waiting poll registers an :class:`asyncio.Event` under ``(kind, namespace, queue)``
*before* probing, so work committed between the probe and the wait still wakes it. Other
processes' work (shared PostgreSQL) wakes it through ``LISTEN``/``NOTIFY`` (:mod:`.broadcast`);
re-probing every ``reprobe_interval`` seconds is the safety net, and the only way across SQLite
processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol.history import EventType, RunStatus

from ..store import tables as t
from . import deadlines
from . import history as h
from .runs import Tx, append, is_terminal_run, load_run, try_lock_run, update_run
from .util import encode_token, new_id, rfc3339, seconds

T = TypeVar("T")
Key = tuple[str, str, str]

RESUME_CONTEXT_KEYS = (
    "workflow_wait_kind",
    "open_wait_id",
    "resume_source_kind",
    "resume_source_id",
    "workflow_update_id",
    "workflow_signal_id",
    "signal_name",
    "signal_wait_id",
    "workflow_command_id",
    "activity_execution_id",
    "activity_attempt_id",
    "activity_type",
    "child_call_id",
    "child_workflow_run_id",
    "workflow_sequence",
    "workflow_event_type",
    "timer_id",
    "condition_wait_id",
    "condition_key",
    "condition_definition_fingerprint",
)


class Waiters:
    """In-process wake-ups for long polls, keyed by arbitrary tuples."""

    def __init__(self) -> None:
        self._events: dict[Any, set[asyncio.Event]] = {}
        self.closed = False
        self.active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextmanager
    def polling(self) -> Iterator[None]:
        """Count a running long poll so ``drain`` can wait for it before the store closes."""
        self.active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.active -= 1
            if self.active == 0:
                self._idle.set()

    async def drain(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    @contextmanager
    def watch(self, *keys: Any) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        if self.closed:
            event.set()
        for key in keys:
            self._events.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            for key in keys:
                bucket = self._events.get(key)
                if bucket is not None:
                    bucket.discard(event)
                    if not bucket:
                        del self._events[key]

    def watching(self, key: Any) -> int:
        """How many polls are waiting on ``key`` right now (lets tests wait until a poll parked)."""
        return len(self._events.get(key, ()))

    def notify(self, key: Any) -> None:
        for event in self._events.get(key, ()):
            event.set()

    def notify_all(self) -> None:
        """Wake every waiting poll (each re-probes; used when specific wake-ups may be lost)."""
        for bucket in self._events.values():
            for event in bucket:
                event.set()

    def close(self) -> None:
        self.closed = True
        for bucket in self._events.values():
            for event in bucket:
                event.set()


async def long_poll(
    waiters: Waiters,
    keys: tuple[Any, ...],
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,
    reprobe_interval: float,
) -> T | None:
    """Probe now, then again on every wake-up or ``reprobe_interval``, until ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, timeout)
    with waiters.polling():
        return await _poll_loop(waiters, keys, probe, deadline, reprobe_interval)


async def _poll_loop(
    waiters: Waiters,
    keys: tuple[Any, ...],
    probe: Callable[[], Awaitable[T | None]],
    deadline: float,
    reprobe_interval: float,
) -> T | None:
    loop = asyncio.get_running_loop()
    while True:
        if waiters.closed:
            return None
        with waiters.watch(*keys) as woken:
            result = await probe()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0 or waiters.closed:
                return None
            try:
                await asyncio.wait_for(woken.wait(), min(remaining, reprobe_interval))
            except asyncio.TimeoutError:
                pass


@dataclass(frozen=True)
class _Candidates:
    """Claim candidates of one task table, as two index-ordered queries.

    Ready tasks come from ``(namespace, task_queue, status, available_at)`` in index order, so
    ``LIMIT`` stops after a few rows however long the backlog is (one query with ``OR`` over both
    kinds had to sort every due row first); tasks whose lease ran out are a separate, usually
    empty, query. Each has a variant restricted to the types in ``b_types``.
    """

    ready: sa.Select[Any]
    ready_typed: sa.Select[Any]
    expired: sa.Select[Any]
    expired_typed: sa.Select[Any]

    @classmethod
    def of(cls, table: sa.Table, type_column: str) -> _Candidates:
        queue = (
            table.c.namespace == sa.bindparam("b_namespace"),
            table.c.task_queue == sa.bindparam("b_queue"),
        )
        ready = (
            sa.select(table)
            .where(
                *queue,
                table.c.status == h.WORKFLOW_TASK_READY,
                table.c.available_at <= sa.bindparam("b_now"),
            )
            .order_by(table.c.available_at, table.c.task_id)
            .limit(10)
        )
        expired = (
            sa.select(table)
            .where(
                *queue,
                table.c.status == h.WORKFLOW_TASK_LEASED,
                table.c.lease_expires_at <= sa.bindparam("b_now"),
            )
            .order_by(table.c.available_at, table.c.task_id)
            .limit(10)
        )
        typed = table.c[type_column].in_(sa.bindparam("b_types", expanding=True))
        return cls(ready, ready.where(typed), expired, expired.where(typed))


_wt, _at, _ae, _aa, _he = (
    t.workflow_tasks,
    t.activity_tasks,
    t.activity_executions,
    t.activity_attempts,
    t.history_events,
)
_WORKFLOW_CANDIDATES = _Candidates.of(_wt, "workflow_type")
_ACTIVITY_CANDIDATES = _Candidates.of(_at, "activity_type")
_CANCEL_WORKFLOW_TASK = (
    sa.update(_wt).where(_wt.c.task_id == sa.bindparam("b_task_id")).values(status=h.TASK_CANCELLED)
)
_CANCEL_ACTIVITY_TASK = (
    sa.update(_at).where(_at.c.task_id == sa.bindparam("b_task_id")).values(status=h.TASK_CANCELLED)
)


def _still_due(table: sa.Table) -> sa.ColumnElement[bool]:
    """The row is still claimable at ``b_now``: ready and available, or leased past its lease."""
    return sa.or_(
        sa.and_(table.c.status == h.WORKFLOW_TASK_READY, table.c.available_at <= sa.bindparam("b_now")),
        sa.and_(table.c.status == h.WORKFLOW_TASK_LEASED, table.c.lease_expires_at <= sa.bindparam("b_now")),
    )


# Fenced lease: only if the row is still exactly what the claimer saw, and still due. Candidates
# are read without a row lock (the run is locked first, see runs.run_of), so this is the fence
# against a lease renewed or taken in between.
_LEASE_WORKFLOW_TASK = sa.update(_wt).where(
    _wt.c.task_id == sa.bindparam("b_task_id"),
    _wt.c.status == sa.bindparam("b_status"),
    _wt.c.attempt_count == sa.bindparam("b_attempt_count"),
    _still_due(_wt),
)
_LEASE_ACTIVITY_TASK = sa.update(_at).where(
    _at.c.task_id == sa.bindparam("b_task_id"),
    _at.c.status == sa.bindparam("b_status"),
    sa.func.coalesce(_at.c.current_attempt_id, "") == sa.bindparam("b_current_attempt_id"),
    _still_due(_at),
)
_EXECUTION = sa.select(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
_UPDATE_EXECUTION = sa.update(_ae).where(_ae.c.activity_execution_id == sa.bindparam("b_execution_id"))
_EXPIRE_ATTEMPT = (
    sa.update(_aa)
    .where(_aa.c.attempt_id == sa.bindparam("b_attempt_id"), _aa.c.status == "running")
    .values(status="expired", closed_at=sa.bindparam("b_now"))
)
_INSERT_ATTEMPT = sa.insert(_aa)
_HISTORY_ROWS = (
    sa.select(_he)
    .where(_he.c.run_id == sa.bindparam("b_run_id"), _he.c.sequence > sa.bindparam("b_after"))
    .order_by(_he.c.sequence)
    .limit(sa.bindparam("b_limit"))
)


async def _candidates(
    tx: Tx, queries: _Candidates, namespace: str, queue: str, types: list[str]
) -> list[dict[str, Any]]:
    """Due tasks of ``queue``: expired leases first (older work), then ready tasks, oldest first."""
    params: dict[str, Any] = {"b_namespace": namespace, "b_queue": queue, "b_now": tx.now}
    if types:
        params["b_types"] = types
    expired = queries.expired_typed if types else queries.expired
    ready = queries.ready_typed if types else queries.ready
    return [*await tx.all(expired, params), *await tx.all(ready, params)]


async def _claim_first(
    tx: Tx,
    candidates: list[dict[str, Any]],
    attempt: Callable[[dict[str, Any], dict[str, Any] | None], Awaitable[T | None]],
) -> T | None:
    """``attempt(candidate, locked run or None if the run is gone)`` in order until one claims.

    The run is locked before the task is touched (the engine's lock order). A candidate whose run
    another transaction holds (usually another poller claiming the same task) is passed over at
    first so concurrent pollers spread over the backlog; if nothing else could be claimed, those
    candidates are tried again waiting for their runs, so no due task is missed.
    """
    busy: list[dict[str, Any]] = []
    for candidate in candidates:
        run = await try_lock_run(tx, candidate["run_id"])
        if run is None:
            busy.append(candidate)
            continue
        claimed = await attempt(candidate, run)
        if claimed is not None:
            return claimed
    for candidate in busy:
        claimed = await attempt(candidate, await load_run(tx, candidate["run_id"]))
        if claimed is not None:
            return claimed
    return None


# --------------------------------------------------------------------------- workflow tasks


async def claim_workflow_task(
    tx: Tx, *, namespace: str, queue: str, worker_id: str, workflow_types: list[str], lease_seconds: float
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Lease the next due workflow task on ``queue``; returns ``(task, run)`` or ``None``."""

    async def attempt(
        candidate: dict[str, Any], run: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if run is None or is_terminal_run(run):
            await tx.conn.execute(_CANCEL_WORKFLOW_TASK, {"b_task_id": candidate["task_id"]})
            return None
        values = {
            "status": h.WORKFLOW_TASK_LEASED,
            "lease_owner": worker_id,
            "lease_expires_at": tx.now + seconds(lease_seconds),
            "attempt_count": candidate["attempt_count"] + 1,
            "updated_at": tx.now,
            "history_sequence": run["last_history_sequence"],
        }
        result = await tx.conn.execute(
            _LEASE_WORKFLOW_TASK,
            {
                "b_task_id": candidate["task_id"],
                "b_status": candidate["status"],
                "b_attempt_count": candidate["attempt_count"],
                "b_now": tx.now,
                **values,
            },
        )
        if result.rowcount != 1:
            return None
        if run["status"] == RunStatus.PENDING or run["status"] == RunStatus.WAITING:
            await update_run(tx, run, status=RunStatus.RUNNING)
        return {**candidate, **values}, run

    candidates = await _candidates(tx, _WORKFLOW_CANDIDATES, namespace, queue, workflow_types)
    return await _claim_first(tx, candidates, attempt)


async def history_rows(tx: Tx, run_id: str, *, after: int, limit: int) -> list[dict[str, Any]]:
    return await tx.all(_HISTORY_ROWS, {"b_run_id": run_id, "b_after": after, "b_limit": limit})


async def history_page(tx: Tx, run: dict[str, Any], *, after: int, page_size: int) -> dict[str, Any]:
    """Worker-plane page: ``history_events``, ``total_history_events``, ``next_history_page_token``."""
    rows = await history_rows(tx, run["run_id"], after=after, limit=page_size)
    last = rows[-1]["sequence"] if rows else after
    total = int(run["last_history_sequence"])
    return {
        "history_events": [h.worker_event(r) for r in rows],
        "total_history_events": total,
        "next_history_page_token": encode_token(last) if rows and last < total else None,
    }


async def workflow_task_payload(
    tx: Tx, task: dict[str, Any], run: dict[str, Any], page_size: int
) -> dict[str, Any]:
    """The ``task`` object of a workflow-task poll (worker-plane.md §2.3)."""
    page = await history_page(tx, run, after=0, page_size=page_size)
    arguments = (
        {"codec": run["payload_codec"], "blob": run["input_blob"]} if run["input_blob"] is not None else None
    )
    payload: dict[str, Any] = {
        "task_id": task["task_id"],
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_task_attempt": task["attempt_count"],
        "workflow_type": run["workflow_type"],
        "payload_codec": run["payload_codec"],
        "arguments": arguments,
        "run_status": run["status"],
        "last_history_sequence": run["last_history_sequence"],
        **page,
        "task_queue": task["task_queue"],
        "connection": None,
        "compatibility": None,
        "lease_owner": task["lease_owner"],
        "lease_expires_at": rfc3339(task["lease_expires_at"]),
    }
    payload.update({key: None for key in RESUME_CONTEXT_KEYS})
    return payload


# --------------------------------------------------------------------------- activity tasks


def activity_event_ids(
    execution: dict[str, Any], attempt_id: str | None, attempt_number: int
) -> dict[str, Any]:
    return {
        "activity_execution_id": execution["activity_execution_id"],
        "activity_attempt_id": attempt_id,
        "activity_type": execution["activity_type"],
        "activity_class": execution["activity_type"],
        "sequence": execution["sequence"],
        "attempt_number": attempt_number,
    }


async def claim_activity_task(
    tx: Tx, *, namespace: str, queue: str, worker_id: str, activity_types: list[str], lease_seconds: float
) -> dict[str, Any] | None:
    """Lease the next due activity task as a new attempt; returns the poll ``task`` object."""
    candidates = [
        candidate
        for candidate in await _candidates(tx, _ACTIVITY_CANDIDATES, namespace, queue, activity_types)
        # Timed out: the background loop records it (it is due now), nobody runs it.
        if deadlines.fired(candidate, tx.now) is None
    ]

    async def attempt(candidate: dict[str, Any], run: dict[str, Any] | None) -> dict[str, Any] | None:
        if run is None or is_terminal_run(run):
            await tx.conn.execute(_CANCEL_ACTIVITY_TASK, {"b_task_id": candidate["task_id"]})
            return None
        execution = await tx.one(_EXECUTION, {"b_execution_id": candidate["activity_execution_id"]})
        assert execution is not None
        snapshot = execution["retry_policy"]
        attempt_id = new_id()
        timing = deadlines.claimed(snapshot, candidate, tx.now)
        lease_expires_at = deadlines.lease_until(tx.now + seconds(lease_seconds), timing)
        result = await tx.conn.execute(
            _LEASE_ACTIVITY_TASK,
            {
                "b_task_id": candidate["task_id"],
                "b_status": candidate["status"],
                "b_current_attempt_id": candidate["current_attempt_id"] or "",
                "b_now": tx.now,
                "status": h.WORKFLOW_TASK_LEASED,
                "lease_owner": worker_id,
                "lease_expires_at": lease_expires_at,
                "current_attempt_id": attempt_id,
                "updated_at": tx.now,
                **timing,
            },
        )
        if result.rowcount != 1:
            return None
        tx.due(timing["timeout_at"])
        if candidate["status"] == h.WORKFLOW_TASK_LEASED and candidate["current_attempt_id"]:
            # The previous holder's lease ran out: its attempt is over, late outcomes are stale.
            await tx.conn.execute(
                _EXPIRE_ATTEMPT, {"b_attempt_id": candidate["current_attempt_id"], "b_now": tx.now}
            )
        attempt_number = int(execution["attempt_count"]) + 1
        await tx.conn.execute(
            _INSERT_ATTEMPT,
            {
                "attempt_id": attempt_id,
                "task_id": candidate["task_id"],
                "activity_execution_id": execution["activity_execution_id"],
                "namespace": namespace,
                "attempt_number": attempt_number,
                "status": "running",
                "lease_owner": worker_id,
                "started_at": tx.now,
            },
        )
        await tx.conn.execute(
            _UPDATE_EXECUTION,
            {
                "b_execution_id": execution["activity_execution_id"],
                "status": "running",
                "attempt_count": attempt_number,
                "current_attempt_id": attempt_id,
            },
        )
        await append(
            tx, run, [(EventType.ACTIVITY_STARTED, activity_event_ids(execution, attempt_id, attempt_number))]
        )
        blob = execution["arguments_blob"]
        if blob is None:
            blob = payload_codec.encode([])
        task: dict[str, Any] = {
            "task_id": candidate["task_id"],
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "activity_execution_id": execution["activity_execution_id"],
            "activity_attempt_id": attempt_id,
            "attempt_number": attempt_number,
            "activity_type": execution["activity_type"],
            "payload_codec": execution["payload_codec"],
            "arguments": {"codec": execution["payload_codec"], "blob": blob},
            "retry_policy": snapshot,
            "task_queue": candidate["task_queue"],
            "lease_owner": worker_id,
            "lease_expires_at": rfc3339(lease_expires_at),
            "deadlines": deadlines.wire({**candidate, **timing}) or None,
        }
        return {k: v for k, v in task.items() if v is not None}

    return await _claim_first(tx, candidates, attempt)
