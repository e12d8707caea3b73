"""Schedules and time: jitter, max_runs, pause/resume, downtime catch-up, time zones across DST,
and fires whose process died between claiming and recording them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.schedules import fires
from durable_workflow_server.engine.schedules import rows as schedule_rows
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.schedule_helpers import (
    NS,
    create,
    describe,
    events,
    run_until,
    skipped,
    started,
    step,
)

UTC = timezone.utc


async def test_jitter_delays_each_fire_by_the_injected_random_source(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    asked: list[int] = []

    def jitter(limit: int) -> float:
        asked.append(limit)
        return 17.0

    engine = await make_engine(jitter_source=jitter)
    await create(engine, jitter_seconds=30, overlap_policy="allow_all")
    assert (await describe(engine))["next_fire_at"] == "2026-03-01T12:01:17.000000Z"
    await step(engine, clock, 76)
    assert await started(engine) == []
    await step(engine, clock, 1)
    # The workflow id names the occurrence, not the jittered moment.
    assert await started(engine) == ["s1-20260301T120100Z"]
    assert (await describe(engine))["next_fire_at"] == "2026-03-01T12:02:17.000000Z"
    assert asked == [30, 30]


async def test_a_jitter_source_answering_out_of_range_is_clamped(make_engine: EngineFactory) -> None:
    engine = await make_engine(jitter_source=lambda limit: limit * 5.0)
    await create(engine, jitter_seconds=10)
    assert (await describe(engine))["next_fire_at"] == "2026-03-01T12:01:10.000000Z"


async def test_max_runs_stops_the_schedule_after_that_many_fires(engine: Engine, clock: FakeClock) -> None:
    await create(engine, max_runs=3, overlap_policy="allow_all")
    assert (await describe(engine))["remaining_actions"] == 3
    await run_until(engine, clock, datetime(2026, 3, 1, 12, 10, tzinfo=UTC))
    assert len(await started(engine)) == 3
    body = await describe(engine)
    assert (body["remaining_actions"], body["next_fire_at"], body["fires_count"]) == (0, None, 3)


async def test_pause_stops_fires_and_resume_goes_on_from_now(engine: Engine, clock: FakeClock) -> None:
    await create(engine, overlap_policy="allow_all")
    await step(engine, clock)
    paused = await engine.pause_schedule(NS, "s1", "maintenance window")
    assert (paused["outcome"], paused.get("paused"), paused.get("note")) == (
        "paused",
        True,
        "maintenance window",
    )
    body = await describe(engine)
    assert (body["status"], body["paused"], body["next_fire_at"], body["note"]) == (
        "paused",
        True,
        None,
        "maintenance window",
    )
    assert body["paused_at"] == "2026-03-01T12:01:00.000000Z"
    for _ in range(5):
        await step(engine, clock)
    assert len(await started(engine)) == 1
    resumed = await engine.resume_schedule(NS, "s1", "maintenance complete")
    assert (resumed["outcome"], resumed.get("paused")) == ("resumed", False)
    body = await describe(engine)
    # The minutes the pause covered are not caught up.
    assert (body["status"], body["next_fire_at"], body["note"]) == (
        "active",
        "2026-03-01T12:07:00.000000Z",
        "maintenance complete",
    )
    await step(engine, clock)
    assert await started(engine) == ["s1-20260301T120100Z", "s1-20260301T120700Z"]
    kinds = [(e["event_type"], e["payload"].get("reason")) for e in await events(engine)]
    assert ("SchedulePaused", "maintenance window") in kinds and (
        "ScheduleResumed",
        "maintenance complete",
    ) in kinds


async def test_created_paused_it_waits_for_resume(engine: Engine, clock: FakeClock) -> None:
    created = await create(engine, paused=True, note="later")
    assert created["status"] == "paused"
    await step(engine, clock, 600)
    assert await started(engine) == []
    assert [e["event_type"] for e in await events(engine)] == ["ScheduleCreated", "SchedulePaused"]


async def test_after_downtime_the_missed_fires_are_skipped_and_those_in_the_window_fire(
    engine: Engine, clock: FakeClock
) -> None:
    """Down from 12:00 to 13:00:30: 12:01..12:59 were missed; 13:00 is inside the window and fires."""
    await create(engine, overlap_policy="allow_all")
    clock.advance(3630)
    await engine.tick()
    assert await started(engine) == ["s1-20260301T130000Z"]
    [missed] = await skipped(engine)
    assert (missed["reason"], missed["missed_count"]) == ("catchup_window_passed", 59)
    assert (missed["first_missed_at"], missed["last_missed_at"]) == (
        "2026-03-01T12:01:00.000000Z",
        "2026-03-01T12:59:00.000000Z",
    )
    assert (await describe(engine))["info"]["skipped_trigger_count"] == 59


async def test_after_downtime_with_nothing_in_the_window_the_latest_missed_fire_is_taken(
    engine: Engine, clock: FakeClock
) -> None:
    await create(engine, spec={"intervals": [{"every": "PT1H"}]}, overlap_policy="allow_all")
    clock.current = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 13:00, 14:00, 15:00, 16:00 missed
    await engine.tick()
    assert await started(engine) == ["s1-20260301T160000Z"]
    [missed] = await skipped(engine)
    assert missed["missed_count"] == 3
    assert (await describe(engine))["next_fire_at"] == "2026-03-01T17:00:00.000000Z"


async def test_a_catchup_fire_honors_overlap(engine: Engine, clock: FakeClock) -> None:
    await create(engine, spec={"intervals": [{"every": "PT1H"}]})
    await engine.trigger_schedule(NS, "s1", None)  # running: a catch-up fire overlaps it
    clock.current = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    await engine.tick()
    assert [s["reason"] for s in await skipped(engine)] == ["catchup_window_passed", "overlap_policy_skip"]


async def test_cron_in_a_time_zone_across_both_dst_changes(engine: Engine, clock: FakeClock) -> None:
    """New York: 2026-03-08 02:00 does not exist, 2026-11-01 01:30 happens twice."""
    clock.current = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    new_york = "America/New_York"
    await create(
        engine,
        "spring",
        {"cron_expressions": ["0 2 * * *"], "timezone": new_york},
        overlap_policy="allow_all",
    )
    await create(
        engine, "nine", {"cron_expressions": ["0 9 * * *"], "timezone": new_york}, overlap_policy="allow_all"
    )
    await run_until(engine, clock, datetime(2026, 3, 10, 0, 0, tzinfo=UTC), "spring", "nine")
    # 02:00 EST = 07:00Z; on the 8th 02:00 does not exist: it runs when the clock jumps (03:00 EDT =
    # 07:00Z); then 02:00 EDT = 06:00Z.
    assert await started(engine, "spring") == [
        "spring-20260308T070000Z",
        "spring-20260309T060000Z",
    ]
    assert await started(engine, "nine") == [  # 09:00 local: 14:00Z before the change, 13:00Z after
        "nine-20260307T140000Z",
        "nine-20260308T130000Z",
        "nine-20260309T130000Z",
    ]
    clock.current = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    await create(
        engine, "fall", {"cron_expressions": ["30 1 * * *"], "timezone": new_york}, overlap_policy="allow_all"
    )
    await create(
        engine,
        "half-hourly",
        {"cron_expressions": ["*/30 * * * *"], "timezone": new_york},
        overlap_policy="allow_all",
    )
    await run_until(engine, clock, datetime(2026, 11, 1, 8, 0, tzinfo=UTC), "fall", "half-hourly")
    assert await started(engine, "fall") == ["fall-20261101T053000Z"]  # 01:30 EDT, once
    half = await started(engine, "half-hourly")
    # The repeated hour runs in real time: 01:00 and 01:30 EDT (05:00Z, 05:30Z), then again EST.
    around = [w.removeprefix("half-hourly-20261101T") for w in half if "20261101T0" in w]
    assert around[-9:] == [
        "040000Z",
        "043000Z",
        "050000Z",
        "053000Z",
        "060000Z",
        "063000Z",
        "070000Z",
        "073000Z",
        "080000Z",
    ]
    assert len(half) == len(set(half))


async def _claim_without_starting(engine: Engine) -> fires.Claimed:
    """Claim the due fire as the loop does, then stop, as a process dying after its commit would."""
    async with engine._tx() as tx:
        row = await schedule_rows.claim(tx, NS, "s1")
        assert row is not None
        [decision] = await fires.take_due(tx, row, engine.settings)
    assert decision.claimed is not None
    return decision.claimed


async def test_a_fire_abandoned_before_its_start_is_started_once_its_lease_expired(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(schedule_fire_lease_seconds=120)
    await create(engine, overlap_policy="allow_all", spec={"intervals": [{"every": "PT1H"}]})
    clock.current = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    claimed = await _claim_without_starting(engine)
    await step(engine, clock, 60)  # the lease still holds: the claimer may be slow, not dead
    assert await started(engine) == []
    await step(engine, clock, 61)
    assert await started(engine) == [claimed.workflow_id] == ["s1-20260301T130000Z"]
    await step(engine, clock, 600)
    assert await started(engine) == [claimed.workflow_id]
    assert (await describe(engine))["fires_count"] == 1


async def test_a_fire_abandoned_after_its_start_is_recorded_without_a_second_start(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(schedule_fire_lease_seconds=120)
    await create(engine, overlap_policy="allow_all", spec={"intervals": [{"every": "PT1H"}]})
    clock.current = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    claimed = await _claim_without_starting(engine)
    first = await engine.start_workflow(NS, claimed.request)  # started, then the process died
    await engine.terminate_workflow(NS, claimed.workflow_id, reason="done quickly")
    clock.advance(121)
    await engine.tick()
    assert await started(engine) == [claimed.workflow_id]
    runs = await engine.list_runs(NS, claimed.workflow_id)
    assert [r["run_id"] for r in runs["runs"]] == [first["run_id"]]  # no second run under the id
    async with engine._read() as tx:
        left = (await tx.conn.execute(sa.select(sa.func.count()).select_from(t.schedule_fires))).scalar()
    assert left == 0


async def test_the_loop_plans_its_wake_up_for_the_next_fire(engine: Engine, clock: FakeClock) -> None:
    await create(engine, spec={"intervals": [{"every": "PT10M"}]})
    wake = await engine._sweep()
    assert wake is not None and wake <= clock.current + timedelta(minutes=10)


async def test_a_schedule_that_fails_to_fire_skips_that_fire_and_holds_no_other_back(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create(engine, "broken", overlap_policy="allow_all")
    await create(engine, "fine", overlap_policy="allow_all")
    original = fires.take_due

    async def failing(tx: Any, row: Any, settings: Any) -> Any:
        if row["schedule_id"] == "broken":
            raise RuntimeError("spec store corrupted")
        return await original(tx, row, settings)

    monkeypatch.setattr(fires, "take_due", failing)
    await step(engine, clock)
    assert await started(engine, "fine") == ["fine-20260301T120100Z"]
    assert await started(engine, "broken") == []
    [failed] = await skipped(engine, "broken")
    assert (failed["reason"], failed["message"]) == ("fire_failed", "spec store corrupted")
    body = await describe(engine, "broken")
    assert (body["failures_count"], body["next_fire_at"]) == (1, "2026-03-01T12:02:00.000000Z")
    monkeypatch.setattr(fires, "take_due", original)
    await step(engine, clock)
    assert await started(engine, "broken") == ["broken-20260301T120200Z"]
