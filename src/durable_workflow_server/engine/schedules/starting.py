"""Starting claimed fires and the background loop's schedule step.

A claimed fire (:mod:`.fires`) is started after its claim committed, through the engine's normal
``start_workflow`` (the server-generated workflow id, ``use-existing``), and then *recorded*: in
one transaction under the schedule's lock its ``schedule_fires`` row is deleted (a fenced
delete: only one process records a fire) and ``ScheduleTriggered`` appended. A process that dies
between claiming and recording leaves the row behind with its lease; once the lease expired the
loop of any process takes the row over and finishes the fire: if the workflow id already exists
the start happened and is only recorded, otherwise it is started now. So a fire is started once
however the processes sharing the database crash.

The schedule step runs in the engine's one background loop (:meth:`ScheduleFiring._probed_sweep`
extends ``EngineCore._probed_sweep``, given the pass's probe row): due fires, then buffered fires
whose turn came, then fires left behind; it returns the earliest next fire or lease expiry so the
loop wakes for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ...store.rows import ScheduleFireRow, ScheduleRow
from ...store.statuses import ScheduleFireSource, ScheduleStatus
from ..background_loop import earliest_of, earliest_value
from ..core import EngineCore
from ..errors import DomainError
from ..maintenance.counters import SCHEDULE_FIRES
from ..util import rfc3339, seconds
from . import audit, fires, rows

if TYPE_CHECKING:
    from ..api import StartWorkflowRequest
    from ..shapes import StartWorkflowBody

log = logging.getLogger(__name__)

BATCH = 100
# The schedule step's next due time: the next fire, or a starting fire's lease running out.
_EARLIEST = earliest_of(rows.EARLIEST_FIRE, rows.EARLIEST_LEASE)
# The step's probe (those two, and whether any schedule holds a buffer) is part of the background
# pass's one probe (``background_loop.EARLIEST_DUE``): a pass runs only the parts it says have
# something to do, so an idle pass is that one statement.
ALREADY_RUNNING = "returned_existing_active"  # the start answer when the workflow id has an open run
WORKFLOW_ALREADY_RUNNING = "workflow_already_running"
# The ``outcome`` label of the schedule-fires counter.
FIRE_STARTED, FIRE_FAILED, FIRE_ALREADY_RUNNING = "started", "failed", "already_running"


@dataclass(frozen=True)
class FireResult:
    """A started (``run_id``) or failed (``error``) fire."""

    claimed: fires.Claimed
    run_id: str | None = None
    start_outcome: str | None = None
    error: DomainError | None = None


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


class ScheduleFiring(EngineCore):
    """The schedule step of the background loop, and starting claimed fires."""

    if TYPE_CHECKING:  # implemented by ControlPlane; declared so this mixin can call it

        async def start_workflow(
            self, namespace: str, request: StartWorkflowRequest
        ) -> StartWorkflowBody: ...

    async def _probed_sweep(self, due: Mapping[str, Any]) -> datetime | None:
        earlier = await super()._probed_sweep(due)
        return _earliest(earlier, await self._sweep_schedules(due))

    async def _sweep_schedules(self, probe: Mapping[str, Any]) -> datetime | None:
        """The schedule step, run by the background pass with its probe row (``schedule_fire``,
        ``schedule_lease``, ``schedule_buffered``: see ``background_loop.SCHEDULE_PROBE``)."""
        now = self.now()
        fire_at, lease_at = probe["schedule_fire"], probe["schedule_lease"]
        ran = False
        if fire_at is not None and fire_at <= now:
            ran = True
            async with self._read() as tx:
                due = await tx.all(rows.DUE, {"b_now": now, "b_limit": BATCH})
            for item in due:
                try:
                    await self._fire_due(item["namespace"], item["schedule_id"])
                except Exception as exc:  # one broken schedule must not hold the others back
                    log.exception("schedule %s/%s failed to fire", item["namespace"], item["schedule_id"])
                    await self._fire_failed(item["namespace"], item["schedule_id"], exc)
        if ran or probe["schedule_buffered"] is not None:
            # (A fire just taken may have buffered one.)
            ran = await self._drain_buffers() or ran
        if lease_at is not None and lease_at <= now:
            ran = True
            await self._finish_abandoned(now)
        if not ran:
            # Nothing moved since the probe: its due times are the answer.
            return _earliest(fire_at, lease_at)
        async with self._read() as tx:
            found: datetime | None = earliest_value(await tx.one(_EARLIEST))
        return found

    async def _fire_due(self, namespace: str, schedule_id: str) -> None:
        claimed: list[fires.Claimed] = []
        async for txn in self._tx():
            async with txn as tx:
                # Skip-locked: a schedule another process is firing is that process's; the
                # compare-and-set on next_fire_at (inside take_due) stops a late second claim.
                row = await rows.claim(tx, namespace, schedule_id)
                if row is not None and row["status"] == ScheduleStatus.ACTIVE:
                    decided = await fires.take_due(tx, row, self.settings)
                    claimed = [d.claimed for d in decided if d.claimed is not None]
        for fire in claimed:
            await self.start_claimed(fire)

    async def _fire_failed(self, namespace: str, schedule_id: str, exc: Exception) -> None:
        """Skip the due occurrence that could not be fired (recorded), so the loop does not spin on it."""
        recorded = False
        try:
            async for txn in self._tx():
                async with txn as tx:
                    row = await rows.claim(tx, namespace, schedule_id)
                    due, nominal = (
                        (row["next_fire_at"], row["next_nominal_at"]) if row is not None else (None, None)
                    )
                    if row is None or due is None or nominal is None or due > tx.now:
                        return
                    await rows.update(tx, row, failures_count=int(row["failures_count"]) + 1)
                    source = ScheduleFireSource.SCHEDULED
                    await fires.skip(tx, row, nominal, source, "fire_failed", message=str(exc)[:1000])
                    # Plan from now, not from the failed occurrence: a schedule failing after downtime
                    # would otherwise step through its backlog one occurrence per sweep, each sweep
                    # failing again at once. A spec that cannot be planned has no next fire.
                    try:
                        upcoming = fires.plan_from(row, max(nominal, tx.now))
                    except Exception:
                        log.exception("schedule %s/%s: planning its next fire failed", namespace, schedule_id)
                        upcoming = None
                    await fires.set_next(tx, row, upcoming, self.settings)
                    recorded = True
        except Exception:  # the database itself is failing: the next pass tries again
            log.exception("schedule %s/%s: recording the failed fire failed too", namespace, schedule_id)
        if recorded:
            self.counters.inc(SCHEDULE_FIRES, {"namespace": namespace, "outcome": FIRE_FAILED})

    async def _drain_buffers(self) -> bool:
        """Start the buffered fires whose turn has come; whether there were any."""
        async with self._read() as tx:
            ready = await tx.all(rows.DRAINABLE, {"b_limit": BATCH})
        for item in ready:
            try:
                await self._drain_buffer(item["namespace"], item["schedule_id"])
            except Exception:  # one broken schedule must not hold the others' buffers back
                log.exception(
                    "schedule %s/%s: starting a buffered fire failed", item["namespace"], item["schedule_id"]
                )
        return bool(ready)

    async def _drain_buffer(self, namespace: str, schedule_id: str) -> None:
        claimed: fires.Claimed | None = None
        async for txn in self._tx():
            async with txn as tx:
                row = await rows.claim(tx, namespace, schedule_id)
                if (
                    row is not None
                    and row["status"] == ScheduleStatus.ACTIVE
                    and row["buffered_count"] > 0
                    and await fires.latest_running(tx, row) is None
                ):
                    claimed = await fires.promote_buffered(tx, row, self.settings)
        if claimed is not None:
            await self.start_claimed(claimed)

    async def _finish_abandoned(self, now: datetime) -> None:
        async with self._read() as tx:
            expired = cast(
                list[ScheduleFireRow], await tx.all(rows.EXPIRED, {"b_now": now, "b_limit": BATCH})
            )
        for fire in expired:
            try:
                await self._finish_abandoned_fire(fire)
            except Exception:  # its lease was renewed (or not taken): retried later, others go on
                log.exception(
                    "schedule %s/%s: finishing abandoned fire %s failed",
                    fire["namespace"],
                    fire["schedule_id"],
                    fire["fire_id"],
                )

    async def _finish_abandoned_fire(self, fire: ScheduleFireRow) -> None:
        workflow_id = fire["workflow_id"]
        assert workflow_id is not None  # a starting fire always has its id
        async for txn in self._tx():
            async with txn as tx:
                lease = tx.now + seconds(self.settings.schedule_fire_lease_seconds)
                taken = await tx.conn.execute(
                    rows.RELEASE_EXPIRED, {"b_fire_id": fire["fire_id"], "b_now": tx.now, "b_lease": lease}
                )
                if taken.rowcount != 1:
                    return  # another process took it over first
                row = cast(
                    ScheduleRow | None,
                    await tx.one(rows.SELECT, rows.key(fire["namespace"], fire["schedule_id"])),
                )
                instance = await tx.one(rows.INSTANCE, {"b_workflow_id": workflow_id})
        if row is None:
            return
        claimed = fires.Claimed(
            fire["fire_id"],
            fire["namespace"],
            fire["schedule_id"],
            workflow_id,
            fire["fire_at"],
            fire["source"],
            fires.start_request(row, workflow_id),
        )
        if instance is not None and instance["namespace"] == fire["namespace"]:
            # The claimer started it and died before recording: record, start nothing.
            await self._record(FireResult(claimed, instance["current_run_id"], "started_new"))
            return
        await self.start_claimed(claimed)

    async def start_claimed(self, claimed: fires.Claimed) -> FireResult:
        """Start a claimed fire's workflow and record the outcome in the schedule's history."""
        try:
            body = await self.start_workflow(claimed.namespace, claimed.request)
        except DomainError as exc:
            result = FireResult(claimed, error=exc)
        else:
            result = FireResult(claimed, body["run_id"], body.get("outcome"))
        await self._record(result)
        return result

    async def _record(self, result: FireResult) -> None:
        outcome = await self._record_outcome(result)
        if outcome is not None:  # counted once committed, by the one process that recorded it
            labels = {"namespace": result.claimed.namespace, "outcome": outcome}
            self.counters.inc(SCHEDULE_FIRES, labels)

    async def _record_outcome(self, result: FireResult) -> str | None:
        """Record ``result`` in the schedule's history; its outcome label, ``None`` if recorded elsewhere."""
        claimed = result.claimed
        async for txn in self._tx():
            async with txn as tx:
                row = cast(
                    ScheduleRow | None,
                    await tx.one(
                        tx.store.lock(rows.SELECT), rows.key(claimed.namespace, claimed.schedule_id)
                    ),
                )
                finished = await tx.conn.execute(rows.FINISH, {"b_fire_id": claimed.fire_id})
                if row is None or finished.rowcount != 1:
                    return None  # recorded by another process
                payload: dict[str, str | None] = {
                    "scheduled_at": rfc3339(claimed.fire_at),
                    "source": claimed.source,
                    "overlap_policy": row["overlap_policy"],
                    "workflow_type": claimed.request.workflow_type,
                }
                if result.error is not None:
                    await rows.update(tx, row, failures_count=int(row["failures_count"]) + 1)
                    payload.update(
                        reason="start_failed", error_reason=result.error.reason, message=result.error.message
                    )
                    await audit.record(
                        tx, row, audit.TRIGGER_SKIPPED, payload, workflow_id=claimed.workflow_id
                    )
                    return FIRE_FAILED
                if result.start_outcome == ALREADY_RUNNING:
                    # The occurrence's workflow was started earlier (a backfill over fired times)
                    # and still runs: nothing new started.
                    reason, workflow_id = WORKFLOW_ALREADY_RUNNING, claimed.workflow_id
                    await fires.skip(
                        tx, row, claimed.fire_at, claimed.source, reason, workflow_id=workflow_id
                    )
                    return FIRE_ALREADY_RUNNING
                values: dict[str, object] = {
                    "fires_count": int(row["fires_count"]) + 1,
                    "last_fired_at": tx.now,
                }
                if row["latest_workflow_id"] == claimed.workflow_id:
                    values["latest_run_id"] = result.run_id
                await rows.update(tx, row, **values)
                payload["start_outcome"] = result.start_outcome
                await audit.record(
                    tx, row, audit.TRIGGERED, payload, workflow_id=claimed.workflow_id, run_id=result.run_id
                )
        return FIRE_STARTED
