"""Schedules in the engine: create, read, update, delete, the fire loop and the audit history.

Time is the injected FakeClock (starting 2026-03-01 12:00 UTC); ``engine.tick()`` runs one pass
of the one background loop, which now fires due schedules too.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError, ValidationFailed
from durable_workflow_server.engine.schedules.api import UpdateScheduleRequest
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import FakeClock
from tests.server.engine.schedule_helpers import (
    NS,
    action,
    create,
    describe,
    events,
    run_until,
    started,
    step,
)

UTC = timezone.utc


async def test_a_created_schedule_is_described_and_listed_with_its_next_fire(engine: Engine) -> None:
    created = await create(engine, memo={"team": "ops"}, search_attributes={"Tier": "gold"}, note="hello")
    assert created == {
        "namespace": NS,
        "schedule_id": "s1",
        "outcome": "created",
        "status": "active",
        "created_at": "2026-03-01T12:00:00.000000Z",
    }
    body = await describe(engine)
    assert (
        body["next_fire_at"]
        == body["next_fire"]
        == body["info"]["next_fire"]
        == "2026-03-01T12:01:00.000000Z"
    )
    assert body["state"] == {"status": "active", "paused": False, "note": "hello"}
    assert (body["status"], body["paused"], body["fires_count"], body["last_fired_at"]) == (
        "active",
        False,
        0,
        None,
    )
    assert body["action"]["input"] == codec.envelope(["pdf"])
    assert body["memo"] == {"team": "ops"} and body["search_attributes"] == {"Tier": "gold"}
    listed = await engine.list_schedules(NS)
    assert [s["schedule_id"] for s in listed["schedules"]] == ["s1"]
    assert listed["schedules"][0]["workflow_type"] == "report"
    assert listed["next_page_token"] is None


async def test_each_fire_starts_the_action_through_the_normal_start_path(
    engine: Engine, clock: FakeClock
) -> None:
    await create(engine, overlap_policy="allow_all", memo={"team": "ops"}, search_attributes={"Tier": "gold"})
    await step(engine, clock, 59)
    assert await started(engine) == []
    await step(engine, clock, 1)
    assert await started(engine) == ["s1-20260301T120100Z"]
    run = await engine.describe_workflow(NS, "s1-20260301T120100Z")
    assert (run["workflow_type"], run["task_queue"]) == ("report", "reports")
    assert run["memo"] == {"team": "ops"} and run["search_attributes"] == {"Tier": "gold"}
    assert codec.decode_envelope(run["input_envelope"]) == ["pdf"]  # type: ignore[typeddict-item]
    body = await describe(engine)
    assert (body["fires_count"], body["last_fired_at"]) == (1, "2026-03-01T12:01:00.000000Z")
    assert body["latest_workflow_instance_id"] == "s1-20260301T120100Z"
    assert body["next_fire_at"] == "2026-03-01T12:02:00.000000Z"
    recent = body["info"]["recent_actions"]
    assert [(a["workflow_id"], a["run_id"]) for a in recent] == [("s1-20260301T120100Z", run["run_id"])]


async def test_no_fire_is_missed_or_doubled_while_the_loop_runs(engine: Engine, clock: FakeClock) -> None:
    await create(engine, overlap_policy="allow_all")
    await run_until(engine, clock, datetime(2026, 3, 1, 13, 0, tzinfo=UTC))
    ids = await started(engine)
    assert ids == [f"s1-20260301T12{m:02d}00Z" for m in range(1, 60)] + ["s1-20260301T130000Z"]
    # A second pass at the same instant fires nothing more.
    await engine.tick()
    assert len(await started(engine)) == 60


async def test_history_pages_by_sequence_with_a_cursor(engine: Engine, clock: FakeClock) -> None:
    await create(engine, overlap_policy="allow_all")
    for _ in range(4):
        await step(engine, clock)
    first = await engine.schedule_history(NS, "s1", limit=2, after_sequence=0)
    assert [e["sequence"] for e in first["events"]] == [1, 2]
    assert [e["event_type"] for e in first["events"]] == ["ScheduleCreated", "ScheduleTriggered"]
    assert (first["has_more"], first["next_cursor"]) == (True, 2)
    rest = await engine.schedule_history(NS, "s1", limit=10, after_sequence=2)
    assert [e["sequence"] for e in rest["events"]] == [3, 4, 5]
    assert (rest["has_more"], rest["next_cursor"]) == (False, None)
    triggered = rest["events"][0]
    assert triggered["workflow_instance_id"] == "s1-20260301T120200Z" and triggered["workflow_run_id"]
    assert triggered["payload"]["scheduled_at"] == "2026-03-01T12:02:00.000000Z"


async def test_update_merges_the_action_and_replans_the_next_fire(engine: Engine, clock: FakeClock) -> None:
    await create(engine, overlap_policy="allow_all", max_runs=10)
    await step(engine, clock)
    await step(engine, clock)  # two fires: 12:01, 12:02
    answer = await engine.update_schedule(
        NS,
        "s1",
        UpdateScheduleRequest(
            spec={"intervals": [{"every": "PT30M"}]},
            action={"task_queue": "fast"},
            max_runs=5,
            note="every half hour",
        ),
    )
    assert answer["outcome"] == "updated"
    body = await describe(engine)
    assert body["action"] == {**action(), "task_queue": "fast"}
    assert body["spec"] == {"intervals": [{"every": "PT30M"}]}
    assert (body["max_runs"], body["remaining_actions"]) == (5, 3)  # 5 minus the 2 fires so far
    assert body["next_fire_at"] == "2026-03-01T12:30:00.000000Z"
    assert body["note"] == "every half hour"
    updated = [e for e in await events(engine) if e["event_type"] == "ScheduleUpdated"]
    assert updated[0]["payload"] == {"fields": ["action", "max_runs", "note", "remaining_actions", "spec"]}


async def test_delete_hides_the_schedule_stops_its_fires_and_keeps_its_history(
    engine: Engine, clock: FakeClock
) -> None:
    await create(engine, overlap_policy="allow_all")
    await step(engine, clock)
    deleted = await engine.delete_schedule(NS, "s1")
    assert deleted["outcome"] == "deleted"
    with pytest.raises(DomainError) as missing:
        await engine.describe_schedule(NS, "s1")
    assert missing.value.reason == "schedule_not_found"
    assert (await engine.list_schedules(NS))["schedules"] == []
    await step(engine, clock)
    assert await started(engine) == ["s1-20260301T120100Z"]
    assert [e["event_type"] for e in await events(engine)] == [
        "ScheduleCreated",
        "ScheduleTriggered",
        "ScheduleDeleted",
    ]
    for call in (engine.delete_schedule(NS, "s1"), engine.pause_schedule(NS, "s1", None)):
        with pytest.raises(DomainError) as again:
            await call
        assert again.value.reason == "schedule_not_found"
    # The id can be used again; its history goes on.
    await create(engine)
    assert [e["sequence"] for e in await events(engine)] == [1, 2, 3, 4]


async def test_a_duplicate_id_and_a_bad_spec_are_refused_and_write_nothing(engine: Engine) -> None:
    await create(engine)
    with pytest.raises(DomainError) as duplicate:
        await create(engine)
    assert duplicate.value.reason == "schedule_already_exists"
    for spec, key in (
        ({}, "spec"),
        ({"cron_expressions": ["61 * * * *"]}, "spec.cron_expressions.0"),
        ({"cron_expressions": ["* * * *"]}, "spec.cron_expressions.0"),
        ({"cron_expressions": ["0 * * * *"], "timezone": "Mars/Olympus"}, "spec.timezone"),
        ({"intervals": [{"every": "P1M"}]}, "spec.intervals.0.every"),
        ({"intervals": [{"every": "PT1H", "offset": "soon"}]}, "spec.intervals.0.offset"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            await create(engine, "s2", spec)
        assert key in bad.value.errors
    assert [s["schedule_id"] for s in (await engine.list_schedules(NS))["schedules"]] == ["s1"]
    with pytest.raises(DomainError):
        await engine.schedule_history(NS, "s2", limit=10, after_sequence=0)


async def test_namespaces_do_not_see_or_touch_each_others_schedules(engine: Engine, clock: FakeClock) -> None:
    async with engine._tx() as tx:  # a second namespace, as the namespace routes would create it
        from durable_workflow_server.engine.namespaces import rows as namespaces

        await namespaces.ensure(tx, {"other"})
    await create(engine, overlap_policy="allow_all")
    assert (await engine.list_schedules("other"))["schedules"] == []
    for call in (
        engine.describe_schedule("other", "s1"),
        engine.pause_schedule("other", "s1", None),
        engine.trigger_schedule("other", "s1", None),
        engine.delete_schedule("other", "s1"),
        engine.schedule_history("other", "s1", limit=10, after_sequence=0),
    ):
        with pytest.raises(DomainError) as refused:
            await call
        assert refused.value.reason == "schedule_not_found"
    await create(engine, namespace="other", overlap_policy="allow_all")  # the same id, its own schedule
    await engine.pause_schedule("other", "s1", "only here")
    assert (await describe(engine))["status"] == "active"
    await step(engine, clock)
    assert await started(engine) == ["s1-20260301T120100Z"]
    assert await started(engine, namespace="other") == []


async def test_deleting_a_namespace_removes_its_schedules_and_nothing_elsewhere(
    engine: Engine, clock: FakeClock
) -> None:
    async with engine._tx() as tx:
        from durable_workflow_server.engine.namespaces import rows as namespaces

        await namespaces.ensure(tx, {"doomed"})
    await create(engine, overlap_policy="allow_all")
    await create(engine, namespace="doomed", overlap_policy="buffer_all")
    for _ in range(3):  # fires, history and a buffered fire in both
        await step(engine, clock)
    deleted = await engine.delete_namespace("doomed")
    assert deleted["deleted"]["workflow_schedules"] == 1  # type: ignore[typeddict-item]
    with pytest.raises(DomainError):
        await engine.schedule_history("doomed", "s1", limit=10, after_sequence=0)
    assert len(await started(engine)) == 3
    await step(engine, clock)
    assert len(await started(engine)) == 4


async def test_upcoming_fires_are_the_fires_the_loop_then_makes(engine: Engine, clock: FakeClock) -> None:
    spec = {"cron_expressions": ["*/15 * * * *"], "intervals": [{"every": "PT40M"}]}
    await create(engine, spec=spec, overlap_policy="allow_all")
    upcoming = await engine.upcoming_schedule_fires(NS, "s1", limit=5)
    # The union of both rules: :15, :30, :45 and 13:00, and the 40-minute interval's 12:40.
    assert upcoming == {
        "namespace": NS,
        "schedule_id": "s1",
        "jitter_seconds": 0,
        "fires": [f"2026-03-01T{t}:00.000000Z" for t in ("12:15", "12:30", "12:40", "12:45", "13:00")],
    }
    await run_until(engine, clock, datetime(2026, 3, 1, 13, 0, tzinfo=UTC))
    fired = [wid.removeprefix("s1-") for wid in await started(engine)]
    assert fired == [
        "20260301T121500Z",
        "20260301T123000Z",
        "20260301T124000Z",
        "20260301T124500Z",
        "20260301T130000Z",
    ]
    after = await engine.upcoming_schedule_fires(NS, "s1", limit=2)
    assert after["fires"] == ["2026-03-01T13:15:00.000000Z", "2026-03-01T13:20:00.000000Z"]


async def test_upcoming_fires_stop_at_the_remaining_actions_and_while_paused(engine: Engine) -> None:
    await create(engine, max_runs=3)
    assert len((await engine.upcoming_schedule_fires(NS, "s1", limit=10))["fires"]) == 3
    await engine.pause_schedule(NS, "s1", None)
    assert (await engine.upcoming_schedule_fires(NS, "s1", limit=10))["fires"] == []
    await engine.resume_schedule(NS, "s1", None)
    assert (await engine.upcoming_schedule_fires(NS, "s1", limit=1))["fires"] == [
        "2026-03-01T12:01:00.000000Z"
    ]
    with pytest.raises(DomainError) as missing:
        await engine.upcoming_schedule_fires(NS, "nope", limit=5)
    assert missing.value.reason == "schedule_not_found"
