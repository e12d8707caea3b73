"""The ``Engine`` mixin implementing :class:`.api.ScheduleAPI`.

Every change opens one transaction, locks the schedule row first (the order every schedule
transaction keeps: schedule, then the runs a fire closes, then ``schedule_fires``) and appends
its audit event there. Trigger and backfill decide their fires in that transaction and start
the claimed ones after it committed (:mod:`.starting`), like the background loop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy.exc import IntegrityError

from durable_workflow.protocol import codec
from durable_workflow.protocol import errors as reasons

from ...store.rows import ScheduleFireRow, ScheduleHistoryEventRow, ScheduleRow
from ...store.statuses import ScheduleFireSource, ScheduleStatus
from ..errors import DomainError, ValidationFailed
from ..transaction import Tx
from ..util import new_upper_id, rfc3339
from . import audit, fires, rows, specs, views
from .api import CreateScheduleRequest, OverlapPolicy, UpdateScheduleRequest
from .shapes import (
    BackfillFireBody,
    BackfillScheduleBody,
    DescribeScheduleBody,
    ListSchedulesBody,
    ScheduleActionBody,
    ScheduleCommandBody,
    ScheduleHistoryBody,
    TriggerScheduleBody,
    UpcomingFiresBody,
)
from .starting import ALREADY_RUNNING, WORKFLOW_ALREADY_RUNNING, FireResult, ScheduleFiring

# One backfill request fires at most this many occurrences (a longer range: several requests).
MAX_BACKFILL_FIRES = 1000
MAX_UPCOMING_FIRES = 100
TRIGGER_FAILED = "trigger_failed"


def not_found(schedule_id: str) -> DomainError:
    return DomainError(
        reasons.SCHEDULE_NOT_FOUND, f"Schedule [{schedule_id}] was not found.", schedule_id=schedule_id
    )


def checked_spec(raw: dict[str, Any]) -> specs.Spec:
    try:
        return specs.parse_spec(raw)
    except specs.SpecErrors as exc:
        raise ValidationFailed(exc.errors) from exc


def _action(action: ScheduleActionBody) -> dict[str, Any]:
    stored: dict[str, Any] = dict(action)
    stored.setdefault("input", codec.envelope([]))
    return stored


async def _live(tx: Tx, namespace: str, schedule_id: str) -> ScheduleRow:
    row = await rows.lock_live(tx, namespace, schedule_id)
    if row is None:
        raise not_found(schedule_id)
    return row


class ScheduleCommands(ScheduleFiring):
    """Schedules: specs, fires, overlap policies, the audit history."""

    # ------------------------------------------------------------------ create / read
    async def create_schedule(self, namespace: str, request: CreateScheduleRequest) -> ScheduleCommandBody:
        spec = checked_spec(request.spec)
        schedule_id = request.schedule_id or new_upper_id()
        try:
            async for txn in self._tx():
                async with txn as tx:
                    return await self._create(tx, namespace, schedule_id, request, spec)
        except IntegrityError as exc:  # created concurrently by another request
            raise self._exists(schedule_id) from exc
        raise AssertionError("unreachable: every attempt returns or raises")

    @staticmethod
    def _exists(schedule_id: str) -> DomainError:
        return DomainError(
            reasons.SCHEDULE_ALREADY_EXISTS,
            f"Schedule [{schedule_id}] already exists.",
            schedule_id=schedule_id,
        )

    async def _create(
        self, tx: Tx, namespace: str, schedule_id: str, request: CreateScheduleRequest, spec: specs.Spec
    ) -> ScheduleCommandBody:
        existing = cast(
            ScheduleRow | None, await tx.one(tx.store.lock(rows.SELECT), rows.key(namespace, schedule_id))
        )
        if existing is not None and existing["status"] != ScheduleStatus.DELETED:
            raise self._exists(schedule_id)
        status = ScheduleStatus.PAUSED if request.paused else ScheduleStatus.ACTIVE
        values: dict[str, Any] = {
            "namespace": namespace,
            "schedule_id": schedule_id,
            "status": status,
            "spec": dict(request.spec),
            "action": _action(request.action),
            "overlap_policy": request.overlap_policy,
            "jitter_seconds": request.jitter_seconds,
            "max_runs": request.max_runs,
            "remaining_actions": request.max_runs,
            "memo": request.memo,
            "search_attributes": request.search_attributes,
            "note": request.note,
            "next_fire_at": None,
            "next_nominal_at": None,
            "last_fired_at": None,
            "fires_count": 0,
            "failures_count": 0,
            "skipped_trigger_count": 0,
            "last_skip_reason": None,
            "last_skipped_at": None,
            "buffered_count": 0,
            "latest_workflow_id": None,
            "latest_run_id": None,
            # A deleted schedule's id is reused: its history goes on after ScheduleDeleted.
            "history_sequence": existing["history_sequence"] if existing is not None else 0,
            "created_at": tx.now,
            "updated_at": tx.now,
            "paused_at": tx.now if request.paused else None,
            "resumed_at": None,
            "deleted_at": None,
        }
        if existing is None:
            await tx.conn.execute(rows.INSERT, values)
        else:
            await tx.conn.execute(rows.UPDATE, {**rows.key(namespace, schedule_id), **values})
        row = cast(ScheduleRow, values)
        await fires.set_next(tx, row, spec.next_after(tx.now), self.settings)
        await audit.record(
            tx,
            row,
            audit.CREATED,
            {
                "spec": row["spec"],
                "action": row["action"],
                "overlap_policy": row["overlap_policy"],
                "jitter_seconds": row["jitter_seconds"],
                "max_runs": row["max_runs"],
                "note": row["note"],
                "next_fire_at": rfc3339(row["next_fire_at"]),
            },
        )
        if request.paused:
            await audit.record(tx, row, audit.PAUSED, {"reason": request.note, "paused_at": rfc3339(tx.now)})
        return {
            "namespace": namespace,
            "schedule_id": schedule_id,
            "outcome": "created",
            "status": status,
            "created_at": rfc3339(tx.now),
        }

    async def list_schedules(self, namespace: str) -> ListSchedulesBody:
        async with self._read() as tx:
            found = cast(list[ScheduleRow], await tx.all(rows.LISTING, {"b_namespace": namespace}))
        return {
            "namespace": namespace,
            "schedules": [views.list_item(r) for r in found],
            "next_page_token": None,
        }

    async def describe_schedule(self, namespace: str, schedule_id: str) -> DescribeScheduleBody:
        params = rows.key(namespace, schedule_id)
        async with self._snapshot() as tx:
            row = cast(ScheduleRow | None, await tx.one(rows.LIVE, params))
            if row is None:
                raise not_found(schedule_id)
            recent = await tx.all(rows.RECENT_TRIGGERED, {**params, "b_limit": views.RECENT_ACTIONS})
            buffered = await tx.all(rows.BUFFERED, params)
        return views.describe(
            row, cast(list[ScheduleHistoryEventRow], recent), cast(list[ScheduleFireRow], buffered)
        )

    async def upcoming_schedule_fires(
        self, namespace: str, schedule_id: str, *, limit: int
    ) -> UpcomingFiresBody:
        async with self._read() as tx:
            row = cast(ScheduleRow | None, await tx.one(rows.LIVE, rows.key(namespace, schedule_id)))
        if row is None:
            raise not_found(schedule_id)
        count = max(0, min(int(limit), MAX_UPCOMING_FIRES))
        if row["remaining_actions"] is not None:
            count = min(count, max(0, row["remaining_actions"]))
        # The fire loop's plan: the planned nominal time, then the spec's occurrences after it
        # (none is planned while paused, deleted or exhausted: fires.set_next).
        first = row["next_nominal_at"] if row["status"] == ScheduleStatus.ACTIVE else None
        times = specs.load(row["spec"]).upcoming(first, count) if first is not None and count else []
        return {
            "namespace": namespace,
            "schedule_id": schedule_id,
            "jitter_seconds": int(row["jitter_seconds"] or 0),
            "fires": [rfc3339(t) for t in times],
        }

    async def schedule_history(
        self, namespace: str, schedule_id: str, *, limit: int, after_sequence: int
    ) -> ScheduleHistoryBody:
        params = rows.key(namespace, schedule_id)
        async with self._read() as tx:
            if await tx.one(rows.SELECT, params) is None:  # deleted schedules keep their history
                raise not_found(schedule_id)
            found = await tx.all(
                rows.EVENTS_AFTER, {**params, "b_after": after_sequence, "b_limit": limit + 1}
            )
        events = cast(list[ScheduleHistoryEventRow], found)
        more = len(events) > limit
        events = events[:limit]
        return {
            "schedule_id": schedule_id,
            "namespace": namespace,
            "events": [audit.event_body(e) for e in events],
            "next_cursor": int(events[-1]["sequence"]) if more and events else None,
            "has_more": more,
        }

    # ------------------------------------------------------------------ changes
    async def update_schedule(
        self, namespace: str, schedule_id: str, request: UpdateScheduleRequest
    ) -> ScheduleCommandBody:
        if request.spec is not None:
            checked_spec(request.spec)
        async for txn in self._tx():
            async with txn as tx:
                row = await _live(tx, namespace, schedule_id)
                values: dict[str, Any] = {}
                if request.spec is not None:
                    values["spec"] = dict(request.spec)
                if request.action is not None:
                    values["action"] = {**row["action"], **request.action}
                for name in ("overlap_policy", "jitter_seconds", "memo", "search_attributes", "note"):
                    if getattr(request, name) is not None:
                        values[name] = getattr(request, name)
                if request.max_runs is not None:
                    values["max_runs"] = request.max_runs
                    values["remaining_actions"] = max(request.max_runs - int(row["fires_count"]), 0)
                await rows.update(tx, row, **values, updated_at=tx.now)
                if values.keys() & {"spec", "jitter_seconds", "max_runs"}:
                    await fires.set_next(tx, row, fires.plan_from(row, tx.now), self.settings)
                await audit.record(tx, row, audit.UPDATED, {"fields": sorted(values)})
                return {
                    "namespace": namespace,
                    "schedule_id": schedule_id,
                    "outcome": "updated",
                    "updated_at": rfc3339(tx.now),
                }
        raise AssertionError("unreachable: every attempt returns or raises")

    async def delete_schedule(self, namespace: str, schedule_id: str) -> ScheduleCommandBody:
        async for txn in self._tx():
            async with txn as tx:
                row = await _live(tx, namespace, schedule_id)
                await tx.conn.execute(rows.DROP_BUFFERED, rows.key(namespace, schedule_id))
                await rows.update(
                    tx,
                    row,
                    status=ScheduleStatus.DELETED,
                    deleted_at=tx.now,
                    updated_at=tx.now,
                    next_fire_at=None,
                    next_nominal_at=None,
                    buffered_count=0,
                )
                await audit.record(tx, row, audit.DELETED, {"deleted_at": rfc3339(tx.now)})
                return {
                    "namespace": namespace,
                    "schedule_id": schedule_id,
                    "outcome": "deleted",
                    "deleted_at": rfc3339(tx.now),
                }
        raise AssertionError("unreachable: every attempt returns or raises")

    async def pause_schedule(self, namespace: str, schedule_id: str, note: str | None) -> ScheduleCommandBody:
        async for txn in self._tx():
            async with txn as tx:
                row = await _live(tx, namespace, schedule_id)
                if note is not None:
                    await rows.update(tx, row, note=note)
                if row["status"] != ScheduleStatus.PAUSED:
                    await rows.update(
                        tx,
                        row,
                        status=ScheduleStatus.PAUSED,
                        paused_at=tx.now,
                        updated_at=tx.now,
                        next_fire_at=None,
                        next_nominal_at=None,
                    )
                    await audit.record(tx, row, audit.PAUSED, {"reason": note, "paused_at": rfc3339(tx.now)})
                return {
                    "namespace": namespace,
                    "schedule_id": schedule_id,
                    "outcome": "paused",
                    "paused": True,
                    "note": row["note"],
                    "paused_at": rfc3339(row["paused_at"]),
                }
        raise AssertionError("unreachable: every attempt returns or raises")

    async def resume_schedule(
        self, namespace: str, schedule_id: str, note: str | None
    ) -> ScheduleCommandBody:
        async for txn in self._tx():
            async with txn as tx:
                row = await _live(tx, namespace, schedule_id)
                if note is not None:
                    await rows.update(tx, row, note=note)
                if row["status"] == ScheduleStatus.PAUSED:
                    await rows.update(
                        tx, row, status=ScheduleStatus.ACTIVE, resumed_at=tx.now, updated_at=tx.now
                    )
                    # Fires the pause covered are not caught up: the next one is the first after now.
                    await fires.set_next(tx, row, fires.plan_from(row, tx.now), self.settings)
                    await audit.record(
                        tx, row, audit.RESUMED, {"reason": note, "resumed_at": rfc3339(tx.now)}
                    )
                return {
                    "namespace": namespace,
                    "schedule_id": schedule_id,
                    "outcome": "resumed",
                    "paused": False,
                    "note": row["note"],
                    "resumed_at": rfc3339(row["resumed_at"]),
                }
        raise AssertionError("unreachable: every attempt returns or raises")

    # ------------------------------------------------------------------ fires on request
    async def trigger_schedule(
        self, namespace: str, schedule_id: str, overlap_policy: OverlapPolicy | None
    ) -> TriggerScheduleBody:
        base: TriggerScheduleBody = {"namespace": namespace, "schedule_id": schedule_id, "outcome": "skipped"}
        async for txn in self._tx():
            async with txn as tx:
                row = await _live(tx, namespace, schedule_id)
                if row["status"] == ScheduleStatus.PAUSED:
                    await fires.skip(tx, row, tx.now, ScheduleFireSource.TRIGGER, "status_not_triggerable")
                    return {**base, "reason": "status_not_triggerable"}
                policy = overlap_policy or row["overlap_policy"]
                decision = await fires.decide(
                    tx, row, tx.now, ScheduleFireSource.TRIGGER, policy, self.settings
                )
        if decision.claimed is None:
            if decision.outcome == "buffered":
                return {**base, "outcome": "buffered", "buffer_depth": decision.buffer_depth or 0}
            return {**base, "outcome": decision.outcome, "reason": decision.reason or ""}
        try:
            result = await self.start_claimed(decision.claimed)
        except Exception as exc:  # the fire stays claimed; the loop finishes it
            raise self._trigger_failed(schedule_id, str(exc)) from exc
        if result.error is not None:
            raise self._trigger_failed(schedule_id, result.error.message)
        return {
            **base,
            "outcome": "triggered",
            "workflow_id": decision.claimed.workflow_id,
            "run_id": result.run_id or "",
        }

    @staticmethod
    def _trigger_failed(schedule_id: str, reason: str) -> DomainError:
        return DomainError(
            TRIGGER_FAILED,
            f"Schedule [{schedule_id}] could not start its workflow: {reason}",
            schedule_id=schedule_id,
            outcome=TRIGGER_FAILED,
        )

    async def backfill_schedule(
        self,
        namespace: str,
        schedule_id: str,
        start_time: datetime,
        end_time: datetime,
        overlap_policy: OverlapPolicy | None,
    ) -> BackfillScheduleBody:
        if end_time <= start_time:
            raise DomainError(
                "invalid_time_range",
                "The end_time must be after the start_time.",
                start_time=rfc3339(start_time),
                end_time=rfc3339(end_time),
            )
        async for txn in self._tx():
            async with txn as tx:
                decided: list[fires.Decision] = []  # fresh on every attempt
                row = await _live(tx, namespace, schedule_id)
                times = specs.load(row["spec"]).occurrences(start_time, end_time, MAX_BACKFILL_FIRES + 1)
                if len(times) > MAX_BACKFILL_FIRES:
                    raise DomainError(
                        "invalid_time_range",
                        f"The range holds more than {MAX_BACKFILL_FIRES} fires; backfill shorter ranges.",
                        start_time=rfc3339(start_time),
                        end_time=rfc3339(end_time),
                    )
                policy = overlap_policy or row["overlap_policy"]
                for fire_at in times:
                    if fires.exhausted(row):
                        break  # stops early once the schedule's actions are spent
                    decided.append(
                        await fires.decide(
                            tx, row, fire_at, ScheduleFireSource.BACKFILL, policy, self.settings
                        )
                    )
        results = [await self._backfill_result(d) for d in decided]
        return {
            "namespace": namespace,
            "schedule_id": schedule_id,
            "outcome": "backfill_started",
            "fires_attempted": len(results),
            "results": results,
        }

    async def _backfill_result(self, decision: fires.Decision) -> BackfillFireBody:
        body: BackfillFireBody = {"fire_time": rfc3339(decision.fire_at), "outcome": "skipped"}
        if decision.outcome == "buffered":
            return {**body, "outcome": "buffered", "buffer_depth": decision.buffer_depth or 0}
        if decision.claimed is None:
            return {**body, "reason": decision.reason or decision.outcome}
        result: FireResult = await self.start_claimed(decision.claimed)
        if result.error is not None:
            return {
                **body,
                "outcome": "failed",
                "workflow_id": decision.claimed.workflow_id,
                "reason": result.error.message,
            }
        if result.start_outcome == ALREADY_RUNNING:
            return {**body, "workflow_id": decision.claimed.workflow_id, "reason": WORKFLOW_ALREADY_RUNNING}
        return {
            **body,
            "outcome": "started",
            "workflow_id": decision.claimed.workflow_id,
            "run_id": result.run_id or "",
        }
