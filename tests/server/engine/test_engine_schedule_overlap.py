"""Overlap policies, manual triggers and backfills.

The started workflows have no worker, so each stays running until the test closes it: the
schedule's latest workflow overlaps every later fire until then.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import FakeClock
from tests.server.engine.schedule_helpers import NS, close, create, describe, skipped, started, step

UTC = timezone.utc
HOURLY = {"cron_expressions": ["0 * * * *"]}


async def test_skip_skips_while_the_latest_runs_and_fires_once_it_closed(
    engine: Engine, clock: FakeClock
) -> None:
    await create(engine)  # skip is the default
    await step(engine, clock)
    await step(engine, clock)
    assert await started(engine) == ["s1-20260301T120100Z"]
    assert [(s["reason"], s["scheduled_at"]) for s in await skipped(engine)] == [
        ("overlap_policy_skip", "2026-03-01T12:02:00.000000Z")
    ]
    body = await describe(engine)
    assert (body["info"]["skipped_trigger_count"], body["info"]["last_skip_reason"]) == (
        1,
        "overlap_policy_skip",
    )
    await close(engine, "s1-20260301T120100Z")
    await step(engine, clock)
    assert await started(engine) == ["s1-20260301T120100Z", "s1-20260301T120300Z"]


async def test_buffer_one_keeps_one_fire_for_when_the_latest_closes(engine: Engine, clock: FakeClock) -> None:
    await create(engine, overlap_policy="buffer_one")
    for _ in range(3):  # 12:01 starts, 12:02 is buffered, 12:03 finds the buffer full
        await step(engine, clock)
    assert await started(engine) == ["s1-20260301T120100Z"]
    assert [s["reason"] for s in await skipped(engine)] == ["buffer_full"]
    body = await describe(engine)
    assert [b["fire_at"] for b in body["info"]["buffered_actions"]] == ["2026-03-01T12:02:00.000000Z"]
    await close(engine, "s1-20260301T120100Z")
    await engine.tick()  # the loop notices the close: the buffered fire starts, named by its time
    assert await started(engine) == ["s1-20260301T120100Z", "s1-20260301T120200Z"]
    assert (await describe(engine))["info"]["buffered_actions"] == []


async def test_buffer_all_starts_every_buffered_fire_in_turn(engine: Engine, clock: FakeClock) -> None:
    await create(engine, overlap_policy="buffer_all")
    for _ in range(4):
        await step(engine, clock)
    assert len((await describe(engine))["info"]["buffered_actions"]) == 3
    for minute in (2, 3, 4):
        await close(engine, (await started(engine))[-1])
        await engine.tick()
        await engine.tick()  # one buffered fire per close, however often the loop runs
        assert (await started(engine))[-1] == f"s1-20260301T120{minute}00Z"
    assert len(await started(engine)) == 4
    assert await skipped(engine) == []


@pytest.mark.parametrize(
    ("policy", "closed_as"), [("cancel_other", "cancelled"), ("terminate_other", "terminated")]
)
async def test_cancel_and_terminate_other_close_the_running_workflow_first(
    engine: Engine, clock: FakeClock, policy: str, closed_as: str
) -> None:
    await create(engine, overlap_policy=policy)
    await step(engine, clock)
    await step(engine, clock)
    assert await started(engine) == ["s1-20260301T120100Z", "s1-20260301T120200Z"]
    first = await engine.describe_workflow(NS, "s1-20260301T120100Z")
    second = await engine.describe_workflow(NS, "s1-20260301T120200Z")
    assert (first["status"], second["status"]) == (closed_as, "pending")


async def test_allow_all_starts_while_others_run(engine: Engine, clock: FakeClock) -> None:
    await create(engine, overlap_policy="allow_all")
    for _ in range(3):
        await step(engine, clock)
    assert len(await started(engine)) == 3
    statuses = [(await engine.describe_workflow(NS, w))["status"] for w in await started(engine)]
    assert statuses == ["pending", "pending", "pending"]


async def test_trigger_outcomes(engine: Engine) -> None:
    await create(engine, spec=HOURLY)
    first = await engine.trigger_schedule(NS, "s1", None)
    assert first["outcome"] == "triggered" and first["workflow_id"].startswith("s1-trigger-")
    assert first["run_id"] == (await engine.describe_workflow(NS, first["workflow_id"]))["run_id"]
    assert await engine.trigger_schedule(NS, "s1", None) == {
        "namespace": NS,
        "schedule_id": "s1",
        "outcome": "skipped",
        "reason": "overlap_policy_skip",
    }
    overridden = await engine.trigger_schedule(NS, "s1", "allow_all")
    assert overridden["outcome"] == "triggered"
    buffered = await engine.trigger_schedule(NS, "s1", "buffer_one")
    assert (buffered["outcome"], buffered.get("buffer_depth")) == ("buffered", 1)
    full = await engine.trigger_schedule(NS, "s1", "buffer_one")
    assert full["outcome"] == "buffer_full" and full.get("reason")
    assert (await describe(engine))["overlap_policy"] == "skip"  # the override was for one fire
    await engine.pause_schedule(NS, "s1", None)
    paused = await engine.trigger_schedule(NS, "s1", "allow_all")
    assert (paused["outcome"], paused.get("reason")) == ("skipped", "status_not_triggerable")
    assert (await describe(engine))["fires_count"] == 2


async def test_trigger_spends_an_action_and_an_exhausted_schedule_skips(engine: Engine) -> None:
    await create(engine, spec=HOURLY, max_runs=1, overlap_policy="allow_all")
    assert (await engine.trigger_schedule(NS, "s1", None))["outcome"] == "triggered"
    body = await describe(engine)
    assert (body["remaining_actions"], body["next_fire_at"]) == (0, None)
    again = await engine.trigger_schedule(NS, "s1", None)
    assert (again["outcome"], again.get("reason")) == ("skipped", "remaining_actions_exhausted")


async def test_backfill_fires_each_occurrence_of_the_window_honoring_overlap(engine: Engine) -> None:
    await create(engine, spec=HOURLY)
    window = (datetime(2026, 2, 1, 0, 0, tzinfo=UTC), datetime(2026, 2, 1, 3, 0, tzinfo=UTC))
    result = await engine.backfill_schedule(NS, "s1", *window, None)  # skip: the first runs on
    assert (result["outcome"], result["fires_attempted"]) == ("backfill_started", 3)
    assert [(r["fire_time"], r["outcome"], r.get("reason")) for r in result["results"]] == [
        ("2026-02-01T00:00:00.000000Z", "started", None),
        ("2026-02-01T01:00:00.000000Z", "skipped", "overlap_policy_skip"),
        ("2026-02-01T02:00:00.000000Z", "skipped", "overlap_policy_skip"),
    ]
    assert result["results"][0].get("workflow_id") == "s1-20260201T000000Z"
    every = await engine.backfill_schedule(NS, "s1", *window, "allow_all")
    # 00:00 is the same occurrence (same workflow id, still running): nothing new starts for it.
    assert [(r["outcome"], r.get("reason")) for r in every["results"]] == [
        ("skipped", "workflow_already_running"),
        ("started", None),
        ("started", None),
    ]
    assert await started(engine) == ["s1-20260201T000000Z", "s1-20260201T010000Z", "s1-20260201T020000Z"]
    assert (await describe(engine))["fires_count"] == 3
    buffered = await engine.backfill_schedule(
        NS, "s1", datetime(2026, 2, 2, tzinfo=UTC), datetime(2026, 2, 2, 2, tzinfo=UTC), "buffer_all"
    )
    assert [(r["outcome"], r.get("buffer_depth")) for r in buffered["results"]] == [
        ("buffered", 1),
        ("buffered", 2),
    ]


async def test_backfill_stops_when_the_actions_are_spent(engine: Engine) -> None:
    await create(engine, spec=HOURLY, max_runs=2, overlap_policy="allow_all")
    result = await engine.backfill_schedule(
        NS, "s1", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 1, 5, tzinfo=UTC), None
    )
    assert result["fires_attempted"] == 2
    assert (await describe(engine))["remaining_actions"] == 0


async def test_backfill_refuses_an_empty_or_reversed_range(engine: Engine) -> None:
    await create(engine, spec=HOURLY)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    for end in (start, datetime(2026, 1, 31, tzinfo=UTC)):
        with pytest.raises(DomainError) as refused:
            await engine.backfill_schedule(NS, "s1", start, end, None)
        assert refused.value.reason == "invalid_time_range"
    with pytest.raises(DomainError) as too_long:
        await engine.backfill_schedule(
            NS, "s1", start, datetime(2026, 4, 1, tzinfo=UTC), None
        )  # 1416 hourly fires
    assert too_long.value.reason == "invalid_time_range"
    assert await started(engine) == []
