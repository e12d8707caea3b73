"""Deciding a fire inside the transaction that holds the schedule's lock.

A fire (a due occurrence, a trigger, a backfilled occurrence, a buffered fire whose turn came)
is decided under the schedule row's lock: skipped (with the reason recorded in the audit
history), buffered, or *claimed*. A claimed fire gets its workflow id and a ``schedule_fires``
row in the same transaction; the workflow itself is started after commit through the normal
start path (:mod:`.starting`). Deciding and claiming in one locked transaction is what makes
fires exact across processes: an occurrence is claimed once, when ``next_fire_at`` moves past it.

Overlap: the schedule's latest started workflow is *running* while its current run is open, or
while its fire is still being started (no instance yet). Then ``skip`` skips
(``overlap_policy_skip``), ``buffer_one`` keeps one pending fire (another is ``buffer_full``),
``buffer_all`` keeps every one, ``cancel_other`` / ``terminate_other`` close the running run
first, and ``allow_all`` starts anyway.

Catch-up (:func:`take_due`): an occurrence further in the past than the catch-up window (plus
the schedule's jitter) when the loop reaches it was missed while no server ran. If later
occurrences are still inside the window, every missed one is skipped; otherwise the latest
missed one fires (honoring overlap) and the earlier ones are skipped. Skips are recorded as one
``ScheduleTriggerSkipped`` event (reason ``catchup_window_passed``) with their count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from ...settings import Settings
from ...store.rows import RunRow, ScheduleRow
from ...store.statuses import OPEN_RUN_STATUSES, ScheduleFireSource, ScheduleFireStatus, ScheduleStatus
from ..api import StartWorkflowRequest
from ..cancellation import close_by_command
from ..errors import DomainError
from ..targets import lock_target
from ..transaction import Tx
from ..util import new_id, rfc3339, seconds
from . import audit, rows, specs

# One transaction takes at most this many fires of one schedule (the next pass goes on).
MAX_FIRES_PER_CLAIM = 100
# How many missed occurrences a catch-up counts before it reports "at least".
MAX_COUNTED_MISSES = 1000
DEFAULT_TASK_QUEUE = "default"
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class Claimed:
    """A fire whose workflow is to be started once the claiming transaction committed."""

    fire_id: str
    namespace: str
    schedule_id: str
    workflow_id: str
    fire_at: datetime
    source: str
    request: StartWorkflowRequest


@dataclass(frozen=True)
class Decision:
    """What became of one fire: ``triggered`` (claimed), ``buffered``, ``buffer_full`` or ``skipped``."""

    fire_at: datetime
    outcome: str
    claimed: Claimed | None = None
    reason: str | None = None
    buffer_depth: int | None = None


def workflow_id_for(namespace: str, schedule_id: str, fire_at: datetime, source: str) -> str:
    """The server-generated workflow id of a fire: one id per occurrence (a retried fire is idempotent).

    Occurrences (scheduled or backfilled) are named by their time, ``<schedule_id>-<UTC time>``;
    a trigger by a fresh id. Workflow ids are unique across namespaces, so outside the
    ``default`` namespace the id starts with ``<namespace>.`` (or, past the id length, a hash of it).
    """
    base = schedule_id
    if namespace != DEFAULT_NAMESPACE:
        prefix = namespace if len(namespace) <= 24 else hashlib.sha256(namespace.encode()).hexdigest()[:16]
        base = f"{prefix}.{schedule_id}"
    if source == ScheduleFireSource.TRIGGER:
        return f"{base}-trigger-{new_id()}"
    return f"{base}-{fire_at.strftime('%Y%m%dT%H%M%SZ')}"


def start_request(row: ScheduleRow, workflow_id: str) -> StartWorkflowRequest:
    """The start a fire of ``row`` makes: its action, memo and search attributes."""
    action = row["action"]
    return StartWorkflowRequest(
        workflow_type=str(action["workflow_type"]),
        input=action.get("input") or {"codec": "avro", "blob": ""},
        workflow_id=workflow_id,
        task_queue=action.get("task_queue") or DEFAULT_TASK_QUEUE,
        memo=row["memo"] or None,
        search_attributes=row["search_attributes"] or None,
        # A fire retried after its start landed finds the open run instead of failing.
        duplicate_policy="use-existing",
        execution_timeout_seconds=action.get("execution_timeout_seconds"),
        run_timeout_seconds=action.get("run_timeout_seconds"),
    )


def exhausted(row: ScheduleRow) -> bool:
    remaining = row["remaining_actions"]
    return remaining is not None and remaining <= 0


async def set_next(tx: Tx, row: ScheduleRow, nominal: datetime | None, settings: Settings) -> None:
    """Plan the next fire at ``nominal`` plus jitter; none while paused, deleted or exhausted."""
    if nominal is None or row["status"] != ScheduleStatus.ACTIVE or exhausted(row):
        await rows.update(tx, row, next_nominal_at=None, next_fire_at=None)
        return
    jitter = int(row["jitter_seconds"] or 0)
    delay = min(max(settings.jitter_source(jitter), 0.0), float(jitter)) if jitter > 0 else 0.0
    due = nominal + seconds(delay)
    await rows.update(tx, row, next_nominal_at=nominal, next_fire_at=due)
    tx.due(due)


def plan_from(row: ScheduleRow, after: datetime) -> datetime | None:
    """The first occurrence of the row's spec after ``after``."""
    return specs.load(row["spec"]).next_after(after)


async def skip(
    tx: Tx, row: ScheduleRow, fire_at: datetime, source: str, reason: str, **extra: object
) -> None:
    count = int(cast(int, extra.pop("count", 1)))
    await rows.update(
        tx,
        row,
        skipped_trigger_count=int(row["skipped_trigger_count"]) + count,
        last_skip_reason=reason,
        last_skipped_at=tx.now,
    )
    payload = {"reason": reason, "scheduled_at": rfc3339(fire_at), "source": source, **extra}
    await audit.record(tx, row, audit.TRIGGER_SKIPPED, payload)


async def latest_running(tx: Tx, row: ScheduleRow) -> RunRow | bool | None:
    """The latest started workflow's open run; ``True`` while its start is in flight; else ``None``."""
    workflow_id = row["latest_workflow_id"]
    if workflow_id is None:
        return None
    run = cast(
        RunRow | None,
        await tx.one(rows.LATEST_RUN, {"b_workflow_id": workflow_id, "b_namespace": row["namespace"]}),
    )
    if run is not None:
        return run if run["status"] in OPEN_RUN_STATUSES else None
    starting = await tx.all(rows.STARTING_OF, {**rows.key(row["namespace"], row["schedule_id"])})
    return True if starting else None


async def claim(tx: Tx, row: ScheduleRow, fire_at: datetime, source: str, settings: Settings) -> Claimed:
    """Choose the fire's workflow id and record it as being started (one action spent)."""
    workflow_id = workflow_id_for(row["namespace"], row["schedule_id"], fire_at, source)
    fire_id = new_id()
    await tx.conn.execute(
        rows.INSERT_FIRE,
        {
            "fire_id": fire_id,
            "namespace": row["namespace"],
            "schedule_id": row["schedule_id"],
            "fire_at": fire_at,
            "source": source,
            "status": ScheduleFireStatus.STARTING,
            "workflow_id": workflow_id,
            "lease_expires_at": tx.now + seconds(settings.schedule_fire_lease_seconds),
            "created_at": tx.now,
        },
    )
    return await _spend(tx, row, fire_id, workflow_id, fire_at, source)


async def _spend(
    tx: Tx, row: ScheduleRow, fire_id: str, workflow_id: str, fire_at: datetime, source: str
) -> Claimed:
    remaining = row["remaining_actions"]
    left = None if remaining is None else max(int(remaining) - 1, 0)
    await rows.update(tx, row, remaining_actions=left, latest_workflow_id=workflow_id, latest_run_id=None)
    if left == 0:  # the last action: nothing more to plan
        await rows.update(tx, row, next_nominal_at=None, next_fire_at=None)
    return Claimed(
        fire_id,
        row["namespace"],
        row["schedule_id"],
        workflow_id,
        fire_at,
        source,
        start_request(row, workflow_id),
    )


async def decide(
    tx: Tx, row: ScheduleRow, fire_at: datetime, source: str, policy: str, settings: Settings
) -> Decision:
    """Skip, buffer or claim one fire of the locked schedule ``row`` under overlap ``policy``."""
    if exhausted(row):
        await skip(tx, row, fire_at, source, "remaining_actions_exhausted")
        return Decision(fire_at, "skipped", reason="remaining_actions_exhausted")
    running = await latest_running(tx, row)
    if running is not None:
        if policy == "skip":
            await skip(tx, row, fire_at, source, "overlap_policy_skip")
            return Decision(fire_at, "skipped", reason="overlap_policy_skip")
        if policy in ("buffer_one", "buffer_all"):
            depth = int(row["buffered_count"])
            if policy == "buffer_one" and depth >= 1:
                await skip(tx, row, fire_at, source, "buffer_full")
                return Decision(
                    fire_at,
                    "buffer_full",
                    reason="The schedule already holds one buffered fire (buffer_one).",
                )
            await tx.conn.execute(
                rows.INSERT_FIRE,
                {
                    "fire_id": new_id(),
                    "namespace": row["namespace"],
                    "schedule_id": row["schedule_id"],
                    "fire_at": fire_at,
                    "source": source,
                    "status": ScheduleFireStatus.BUFFERED,
                    "workflow_id": None,
                    "lease_expires_at": None,
                    "created_at": tx.now,
                },
            )
            await rows.update(tx, row, buffered_count=depth + 1)
            return Decision(fire_at, "buffered", buffer_depth=depth + 1)
        if policy in ("cancel_other", "terminate_other") and isinstance(running, dict):
            kind: Literal["cancel", "terminate"] = "cancel" if policy == "cancel_other" else "terminate"
            reason = f"Schedule [{row['schedule_id']}] fired with overlap policy {policy}."
            try:
                target = await lock_target(tx, row["namespace"], running["workflow_id"])
            except DomainError:
                target = None  # it closed (or moved on) meanwhile: nothing to close
            if target is not None:
                await close_by_command(tx, target, kind, reason=reason, request_id=None)
    claimed = await claim(tx, row, fire_at, source, settings)
    return Decision(fire_at, "triggered", claimed=claimed)


async def promote_buffered(tx: Tx, row: ScheduleRow, settings: Settings) -> Claimed | None:
    """Start the oldest buffered fire of the locked schedule (its latest workflow has closed)."""
    waiting = await rows.buffered(tx, row)
    if not waiting:
        await rows.update(tx, row, buffered_count=0)
        return None
    if exhausted(row):
        await tx.conn.execute(rows.DROP_BUFFERED, rows.key(row["namespace"], row["schedule_id"]))
        await rows.update(tx, row, buffered_count=0)
        await skip(
            tx,
            row,
            waiting[0]["fire_at"],
            waiting[0]["source"],
            "remaining_actions_exhausted",
            count=len(waiting),
        )
        return None
    fire = waiting[0]
    workflow_id = workflow_id_for(row["namespace"], row["schedule_id"], fire["fire_at"], fire["source"])
    lease = tx.now + seconds(settings.schedule_fire_lease_seconds)
    await tx.conn.execute(
        rows.PROMOTE, {"b_fire_id": fire["fire_id"], "b_workflow_id": workflow_id, "b_lease": lease}
    )
    await rows.update(tx, row, buffered_count=len(waiting) - 1)
    return await _spend(tx, row, fire["fire_id"], workflow_id, fire["fire_at"], fire["source"])


def _count(spec: specs.Spec, start: datetime, end: datetime, *, inclusive: bool) -> tuple[int, bool]:
    limit = end + timedelta(microseconds=1) if inclusive else end
    found = spec.occurrences(start, limit, MAX_COUNTED_MISSES + 1)
    return min(len(found), MAX_COUNTED_MISSES), len(found) > MAX_COUNTED_MISSES


async def _missed(
    tx: Tx, row: ScheduleRow, spec: specs.Spec, first: datetime, last: datetime, *, inclusive: bool
) -> None:
    count, capped = _count(spec, first, last, inclusive=inclusive)
    if count == 0:
        return
    await skip(
        tx,
        row,
        first,
        ScheduleFireSource.SCHEDULED,
        "catchup_window_passed",
        count=count,
        missed_count=count,
        missed_count_is_lower_bound=capped,
        first_missed_at=rfc3339(first),
        last_missed_at=rfc3339(last),
    )


async def take_due(tx: Tx, row: ScheduleRow, settings: Settings) -> list[Decision]:
    """Decide every fire of the locked, active ``row`` due at ``tx.now`` (see the catch-up rule)."""
    spec = specs.load(row["spec"])
    grace = seconds(settings.schedule_catchup_window_seconds + int(row["jitter_seconds"] or 0))
    decided: list[Decision] = []
    for _ in range(MAX_FIRES_PER_CLAIM):
        due, nominal = row["next_fire_at"], row["next_nominal_at"]
        if due is None or nominal is None or due > tx.now or row["status"] != ScheduleStatus.ACTIVE:
            break
        if tx.now - nominal > grace:
            cutoff = tx.now - grace
            first_timely = spec.next_after(cutoff)
            if first_timely is not None and first_timely <= tx.now:
                last_missed = max(spec.latest_at_or_before(cutoff) or nominal, nominal)
                await _missed(tx, row, spec, nominal, last_missed, inclusive=True)
                await set_next(tx, row, first_timely, settings)
                continue
            latest = spec.latest_at_or_before(cutoff) or nominal
            latest = max(latest, nominal)
            await _missed(tx, row, spec, nominal, latest, inclusive=False)
            nominal = latest
        decided.append(
            await decide(tx, row, nominal, ScheduleFireSource.SCHEDULED, row["overlap_policy"], settings)
        )
        await set_next(tx, row, spec.next_after(nominal), settings)
    return decided
