"""Schedules that cannot be evaluated or fired: huge durations, failing fires, broken rows.

Each test drives the one background loop with the injected FakeClock (``engine.tick()``); a
broken piece is injected with monkeypatch so the failure is the one the test names.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from durable_workflow_server.engine.errors import DomainError, ValidationFailed
from durable_workflow_server.engine.schedules import fires, specs
from durable_workflow_server.engine.schedules import rows as schedule_rows
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.schedule_helpers import NS, close, create, describe, parse, started, step

UTC = timezone.utc


async def test_huge_interval_durations_are_field_errors_and_nothing_is_written(engine: Engine) -> None:
    for spec, key in (
        ({"intervals": [{"every": "P99999999999999W"}]}, "spec.intervals.0.every"),
        ({"intervals": [{"every": "PT99999999999999999999S"}]}, "spec.intervals.0.every"),
        ({"intervals": [{"every": "P100000000D"}]}, "spec.intervals.0.every"),
        ({"intervals": [{"every": "PT1H", "offset": "P99999999D"}]}, "spec.intervals.0.offset"),
        ({"intervals": [{"every": "PT1H", "offset": "PT1H"}]}, "spec.intervals.0.offset"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            await create(engine, "huge", spec)
        assert key in bad.value.errors, spec
    assert (await engine.list_schedules(NS))["schedules"] == []
    await create(engine, "longest", {"intervals": [{"every": "P36500D", "offset": "P36499D"}]})
    assert (await describe(engine, "longest"))["next_fire_at"] is not None


def test_an_interval_occurrence_past_year_9999_means_no_next_fire() -> None:
    spec = specs.parse_spec({"intervals": [{"every": "P36500D"}]})
    late = datetime(9990, 1, 1, tzinfo=UTC)
    assert spec.next_after(late) is None
    assert spec.latest_at_or_before(late) is not None
    window = spec.occurrences(datetime(9000, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC), 1000)
    assert all(o.year < 9999 for o in window)


async def test_a_failing_schedule_plans_its_next_fire_from_now_not_through_its_backlog(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create(engine, "broken", {"intervals": [{"every": "PT1S"}]}, overlap_policy="allow_all")
    calls: list[str] = []

    async def failing(tx: Any, row: Any, settings: Any) -> Any:
        calls.append(row["schedule_id"])
        raise RuntimeError("spec store corrupted")

    monkeypatch.setattr(fires, "take_due", failing)
    clock.advance(3600)  # an hour of downtime: 3600 occurrences behind
    await engine.tick()
    due = parse((await describe(engine, "broken"))["next_fire_at"])
    assert due is not None and due > clock.current
    await engine.tick()
    await engine.tick()
    assert calls == ["broken"]  # not re-raised on every pass


async def _buffered_with_latest_closed(engine: Engine, clock: FakeClock, *ids: str) -> None:
    for schedule_id in ids:
        await create(engine, schedule_id, overlap_policy="buffer_one")
    await step(engine, clock)  # 12:01 starts, 12:02 is buffered
    await step(engine, clock)
    for schedule_id in ids:
        assert len((await describe(engine, schedule_id))["info"]["buffered_actions"]) == 1
        await close(engine, f"{schedule_id}-20260301T120100Z")


@pytest.mark.parametrize("broken", ["a", "b"])
async def test_one_broken_buffer_does_not_stall_the_others(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    await _buffered_with_latest_closed(engine, clock, "a", "b")
    original = fires.promote_buffered

    async def failing(tx: Any, row: Any, settings: Any) -> Any:
        if row["schedule_id"] == broken:
            raise RuntimeError("unreadable buffered fire")
        return await original(tx, row, settings)

    monkeypatch.setattr(fires, "promote_buffered", failing)
    await engine.tick()
    fine = "b" if broken == "a" else "a"
    assert await started(engine, fine) == [f"{fine}-20260301T120100Z", f"{fine}-20260301T120200Z"]
    assert await started(engine, broken) == [f"{broken}-20260301T120100Z"]
    monkeypatch.setattr(fires, "promote_buffered", original)
    await engine.tick()
    assert len(await started(engine, broken)) == 2


@pytest.mark.parametrize("broken", ["a", "b"])
async def test_one_broken_abandoned_fire_does_not_stall_the_others(
    make_engine: EngineFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    engine = await make_engine(schedule_fire_lease_seconds=120)
    for schedule_id in ("a", "b"):
        await create(engine, schedule_id, {"intervals": [{"every": "PT1H"}]}, overlap_policy="allow_all")
    clock.current = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    for schedule_id in ("a", "b"):  # claimed, then the process died before starting them
        async with engine._tx() as tx:
            row = await schedule_rows.claim(tx, NS, schedule_id)
            assert row is not None
            await fires.take_due(tx, row, engine.settings)
    original = fires.start_request

    def failing(row: Any, workflow_id: str) -> Any:
        if row["schedule_id"] == broken:
            raise RuntimeError("unreadable action")
        return original(row, workflow_id)

    monkeypatch.setattr(fires, "start_request", failing)
    clock.advance(121)
    await engine.tick()
    fine = "b" if broken == "a" else "a"
    assert await started(engine, fine) == [f"{fine}-20260301T130000Z"]
    assert await started(engine, broken) == []


async def test_buffered_fires_start_after_the_latest_fires_start_failed(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create(engine, overlap_policy="buffer_all")
    await step(engine, clock)  # 12:01 starts
    await step(engine, clock)  # 12:02 is buffered
    await close(engine, "s1-20260301T120100Z")
    original = engine.start_workflow
    failures: list[str] = []

    async def failing_once(namespace: str, request: Any) -> Any:
        if not failures:
            failures.append(request.workflow_id)
            raise DomainError("start_refused", "the start failed")
        return await original(namespace, request)

    monkeypatch.setattr(engine, "start_workflow", failing_once)
    clock.advance(timedelta(minutes=1).total_seconds())
    await engine.tick()
    await engine.tick()
    assert failures
    ids = await started(engine)
    assert "s1-20260301T120200Z" in ids, ids
    assert (await describe(engine))["info"]["buffered_actions"] == []


async def test_schedule_fires_are_counted_once_each_with_their_outcome(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from durable_workflow_server.engine.maintenance.counters import SCHEDULE_FIRES

    async def fire_counts() -> dict[str, float]:
        samples = (await engine.server_metrics())["counters"]
        found = [s for s in samples if s["name"] == SCHEDULE_FIRES]
        assert all(s["labels"]["namespace"] == NS for s in found)
        return {s["labels"]["outcome"]: s["value"] for s in found}

    await create(engine, "s1", overlap_policy="allow_all")
    assert await fire_counts() == {}
    await step(engine, clock)
    await step(engine, clock)
    assert len(await started(engine)) == 2
    assert await fire_counts() == {"started": 2.0}

    async def failing(tx: Any, row: Any, settings: Any) -> Any:
        raise RuntimeError("spec store corrupted")

    monkeypatch.setattr(fires, "take_due", failing)
    await step(engine, clock)
    assert await fire_counts() == {"started": 2.0, "failed": 1.0}
    await engine.tick()  # nothing due: nothing counted again
    assert await fire_counts() == {"started": 2.0, "failed": 1.0}
