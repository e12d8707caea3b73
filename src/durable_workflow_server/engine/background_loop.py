"""The one background loop: time out runs, fire due timers, enforce activity timeouts, recover leases.

Every process runs this loop (:func:`sweep` is one pass; each step lives with its noun). Each due
item is claimed with a fenced row update, so two processes sharing a database never act on the
same item twice. The loop sleeps until the earliest due time or ``timer_loop_interval``,
whichever is sooner; :meth:`BackgroundLoop.poke` wakes it early when a new, shorter timer is
scheduled, :meth:`BackgroundLoop.poke_before` when a new activity or run deadline falls before
its planned wake-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..store import Store
from ..store.errors import conflict_kind, is_unavailable
from .activities import leases as activity_leases
from .activities import rows as activity_rows
from .activities import timeouts as activity_timeouts
from .maintenance.counters import LEASE_EXPIRIES, WORKER_LEASE_RELEASES, ProcessCounters
from .maintenance.retention_sweep import RetentionSweep
from .queries import broker as query_broker
from .queries import rows as query_rows
from .runs import rows as run_rows
from .runs import timeouts as run_timeouts
from .schedules import rows as schedule_rows
from .timers import firing
from .timers import rows as timer_rows
from .transaction import OpenTx
from .workers import rows as worker_rows
from .workers import views as worker_views
from .workers.liveness import silence_cutoff
from .workflow_tasks import leases as workflow_task_leases
from .workflow_tasks import rows as workflow_task_rows

log = logging.getLogger(__name__)

# A step run after the others with the pass's probe row (the schedule step reads its columns,
# :data:`SCHEDULE_PROBE`); it returns its own next due time.
ProbedStep = Callable[[Mapping[str, Any]], Awaitable[datetime | None]]


async def sweep(
    open_tx: OpenTx,
    store: Store,
    now: Callable[[], datetime],
    counters: ProcessCounters | None = None,
    *,
    worker_prune_after: float | None = None,
    liveness: float | None = None,
    observed_since: datetime | None = None,
    retention: RetentionSweep | None = None,
    probed: ProbedStep | None = None,
) -> datetime | None:
    """One pass over everything due; returns the next due time (or ``None``).

    ``counters`` counts the leases it expires (``durable_workflow_server_lease_expiries_total``)
    and releases for silent workers (``durable_workflow_server_worker_lease_releases_total``).
    ``worker_prune_after``: registrations silent that long are deleted (``None``: never).
    ``liveness``: registered workers silent that long have their leases released, and it is the
    window of the activity worker-death rule (``None``: not enforced); silence counts only
    from ``observed_since`` (when this process began to see the database).
    ``retention``: the periodic retention sweep, run when it is due (``None``: never).
    ``probed``: a step run last with the probe's row (the schedule step), so it needs no probe of
    its own; its due time is part of the answer.
    """
    # One statement says which of the deadline steps has anything due; the others are skipped
    # (an idle pass is then this probe alone, see _HOUSEKEEPING). Work that becomes due after the probe
    # announces its due time to the loop, which sweeps again by then.
    due = await _earliest_due(store)
    ran = False

    def is_due(*names: str) -> bool:
        nonlocal ran
        at = now()
        found = any((value := due[name]) is not None and value <= at for name in names)
        ran = ran or found
        return found

    # Run deadlines first: a run past its deadline is closed, not advanced by a due timer.
    if is_due("run_timeout"):
        await run_timeouts.enforce(open_tx, store, now())
    if is_due("timer"):
        await firing.fire_due_timers(open_tx, store, now())
    # Timeouts before lease expiry: an attempt past its deadline times out, it is not retried
    # as a lost lease.
    if is_due("activity_timeout_ready", "activity_timeout_leased"):
        await activity_timeouts.enforce(open_tx, store, now(), liveness, observed_since)
    expired_workflow = await workflow_task_leases.expire_leases(open_tx) if is_due("workflow_lease") else 0
    expired_activity = await activity_leases.expire_leases(open_tx) if is_due("activity_lease") else 0
    if counters is not None:
        counters.inc(LEASE_EXPIRIES, {"kind": "workflow"}, expired_workflow)
        counters.inc(LEASE_EXPIRIES, {"kind": "activity"}, expired_activity)
    # Liveness acts only on registered workers silent since the cutoff: none while the oldest
    # heartbeat the probe saw is more recent.
    cutoff = silence_cutoff(now(), liveness, observed_since) if liveness is not None else None
    oldest = due["oldest_heartbeat"]
    if liveness is not None and cutoff is not None and oldest is not None and oldest <= cutoff:
        silent_workflow = await workflow_task_leases.release_silent(open_tx, liveness, observed_since)
        silent_activity = await activity_leases.release_silent(open_tx, liveness, observed_since)
        if counters is not None:
            counters.inc(WORKER_LEASE_RELEASES, {"kind": "workflow", "reason": "liveness"}, silent_workflow)
            counters.inc(WORKER_LEASE_RELEASES, {"kind": "activity", "reason": "liveness"}, silent_activity)
    # The purges and the prune run only when the probe saw a row they would delete.
    if _has(due, "query_task_expiry", now()):
        await query_broker.purge_expired(open_tx)
    if worker_prune_after is not None:
        at = now()
        if oldest is not None and oldest < at - timedelta(seconds=worker_prune_after):
            await worker_views.prune_stale(open_tx, store, at, worker_prune_after)
    if retention is not None:
        await retention.due_run(open_tx, store, now())
    probed_due = await probed(due) if probed is not None else None
    if ran:
        after: datetime | None = earliest_value({"steps": await next_due_at(store), "probed": probed_due})
        return after
    # Nothing the probe covers was due, so nothing it covers moved (the purges, liveness and
    # retention only retire work, which can only make a due time later): it is the answer.
    earliest: datetime | None = earliest_value({**_steps(due), "probed": probed_due})
    return earliest


def _has(due: Mapping[str, datetime | None], name: str, at: datetime) -> bool:
    value = due[name]
    return value is not None and value <= at


def _steps(due: Mapping[str, datetime | None]) -> dict[str, datetime | None]:
    """The deadline steps' due times of a probe (the housekeeping columns wake nothing)."""
    return {name: due[name] for name in _DUE_STEPS}


def earliest_of(*statements: sa.Select[Any], names: tuple[str, ...] | None = None) -> sa.Select[Any]:
    """One statement answering each single-value ``statements`` (a ``min()``) in its own column
    (``names``, else ``due_0``, ``due_1``, ...).

    Each stays the index range scan it is alone; together they are one round trip.
    """
    labels = names or tuple(f"due_{i}" for i in range(len(statements)))
    assert len(labels) == len(statements)
    return sa.select(
        *(stmt.scalar_subquery().label(label) for stmt, label in zip(statements, labels, strict=True))
    )


# Pending timers, live leases, activity and run deadlines: each step's earliest due time.
_DUE_STEPS = (
    "timer",
    "workflow_lease",
    "activity_lease",
    "activity_timeout_ready",
    "activity_timeout_leased",
    "run_timeout",
)
# The same probe also says whether the housekeeping steps have anything to delete: the earliest
# query task expiry, and the oldest worker heartbeat (liveness and the prune
# act only on workers silent that long). None is a wake-up time: these steps only retire rows,
# so the loop does not sweep for them; a pass that runs anyway does them.
_HOUSEKEEPING = ("query_task_expiry", "oldest_heartbeat")
# The schedule step's probe, read by this one statement too (``schedules/starting.py`` runs each
# of its parts only when its column says so): the next fire, the earliest starting fire's lease
# expiry, and whether any active schedule holds a buffer.
SCHEDULE_PROBE = ("schedule_fire", "schedule_lease", "schedule_buffered")
EARLIEST_DUE = earliest_of(
    timer_rows.EARLIEST_FIRE,
    workflow_task_rows.EARLIEST_LEASE_EXPIRY,
    activity_rows.EARLIEST_LEASE_EXPIRY,
    *activity_rows.EARLIEST_TIMEOUTS,
    run_rows.EARLIEST_TIMEOUT,
    query_rows.EARLIEST_EXPIRY,
    worker_rows.OLDEST_HEARTBEAT,
    schedule_rows.EARLIEST_FIRE,
    schedule_rows.EARLIEST_LEASE,
    schedule_rows.ANY_BUFFERED,
    names=(*_DUE_STEPS, *_HOUSEKEEPING, *SCHEDULE_PROBE),
)


def earliest_value(row: Mapping[str, Any] | None) -> Any:
    """The earliest non-null value of an :func:`earliest_of` row, or ``None``."""
    values = [v for v in (row or {}).values() if v is not None]
    return min(values) if values else None


async def _earliest_due(store: Store) -> dict[str, Any]:
    """Each deadline step's earliest due time (:data:`EARLIEST_DUE`), by step name, and the
    housekeeping and schedule columns."""
    async with store.brief_read() as conn:  # one statement, nothing else awaited
        rows = await conn.fetch(EARLIEST_DUE)
    # min() keeps the column type, so these come back as aware UTC datetimes.
    return dict(rows[0]) if rows else dict.fromkeys((*_DUE_STEPS, *_HOUSEKEEPING, *SCHEDULE_PROBE))


async def next_due_at(store: Store) -> datetime | None:
    """The earliest due time among pending timers, live leases, activity and run deadlines."""
    found: datetime | None = earliest_value(_steps(await _earliest_due(store)))
    return found


class BackgroundLoop:
    """Runs ``sweep`` repeatedly; ``sweep`` returns the next due time (or ``None``)."""

    def __init__(
        self,
        sweep: Callable[[], Awaitable[datetime | None]],
        *,
        interval: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._sweep = sweep
        self._interval = interval
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # When the loop plans to sweep next (by ``clock``); ``None`` while sweeping or stopped.
        self._wake_at: datetime | None = None
        # The earliest due time announced while a sweep ran (see poke_before).
        self._due_while_sweeping: datetime | None = None
        self._sweeping = False
        # Whether the last sweep failed on an unreachable database (one log line per outage).
        self.database_down = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="durable-workflow-background-loop")

    def poke(self) -> None:
        self._wake.set()

    def poke_before(self, due: datetime) -> None:
        """Wake the loop only if it would otherwise sleep past ``due`` (cheap to call often).

        During a sweep the due time is only remembered and bounds the sleep after it: under load
        every transaction announces a deadline (an activity's timeout, a lease), and waking at
        once for each of them kept the loop sweeping back to back, twenty statements a time.
        """
        if self._sweeping:
            if self._due_while_sweeping is None or due < self._due_while_sweeping:
                self._due_while_sweeping = due
            return
        if self._wake_at is None or due < self._wake_at:
            self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            try:
                await task
            except asyncio.CancelledError:
                pass

    def _failed(self, exc: Exception) -> None:
        """Log a failed sweep: a database outage once (it retries every interval), anything else in full."""
        if not (is_unavailable(exc) or conflict_kind(exc) is not None):
            log.exception("background loop sweep failed")
            return
        if not self.database_down:
            self.database_down = True
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            log.warning(
                "background loop: database unavailable (%s: %s); retrying every %.1fs",
                type(exc).__name__,
                first,
                self._interval,
            )

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._wake_at = None
            self._due_while_sweeping = None
            self._sweeping = True
            next_due: datetime | None = None
            try:
                next_due = await self._sweep()
            except Exception as exc:  # keep the loop alive; the next pass retries
                self._failed(exc)
            else:
                if self.database_down:
                    self.database_down = False
                    log.warning("background loop: the database is reachable again; sweeping resumed")
            finally:
                self._sweeping = False
            announced = self._due_while_sweeping
            if announced is not None and (next_due is None or announced < next_due):
                next_due = announced
            delay = self._interval
            if next_due is not None:
                delay = max(0.0, min(delay, (next_due - self._clock()).total_seconds()))
            if self._stopping:
                break
            self._wake_at = self._clock() + timedelta(seconds=delay)
            try:
                await asyncio.wait_for(self._wake.wait(), max(delay, 0.001))
            except asyncio.TimeoutError:
                pass
