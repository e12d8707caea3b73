"""Activity timeouts: each kind, precedence, retry vs final, the fences.

Time is the injected FakeClock; ``engine.tick()`` runs one pass of the background loop (the loop
itself also runs, so assertions look at the resulting state, never at what one pass did).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.activities import deadlines
from durable_workflow_server.engine.activities import timeouts as activity_timeouts
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, WAKE_WITHIN, Driver, activity


async def _scheduled(driver: Driver, **command: Any) -> dict[str, Any]:
    """Start ``wf-1`` and have its first workflow task schedule one ``greet`` activity."""
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity(**command)])
    return task


async def _events(driver: Driver, run_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in await driver.history("wf-1", run_id) if e["event_type"] == event_type]


async def _stale(coro: Any) -> DomainError:
    with pytest.raises(DomainError) as err:
        await coro
    assert err.value.reason == "stale_attempt"
    return err.value


async def _heartbeat(driver: Driver, act: dict[str, Any]) -> dict[str, Any]:
    return await driver.engine.heartbeat_activity_task(
        NS,
        act["task_id"],
        activity_attempt_id=act["activity_attempt_id"],
        lease_owner=act["lease_owner"],
        progress={"message": "working"},
    )


async def _resumed_with(driver: Driver, event_type: str) -> dict[str, Any]:
    """The workflow task the timeout woke, whose history ends with ``event_type``."""
    wf = await driver.poll_wf()
    assert wf is not None
    assert wf["history_events"][-1]["event_type"] == event_type
    return wf


# --------------------------------------------------------------------------- each kind, final


async def test_start_to_close_times_out_the_attempt_and_resumes_the_workflow(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    wf = await _scheduled(driver, start_to_close_timeout=5)
    act = await driver.poll_act()
    assert act is not None
    assert act["deadlines"]["start_to_close"].startswith("2026-03-01T12:00:05")
    clock.advance(4)
    await driver.engine.tick()
    assert await _events(driver, wf["run_id"], "ActivityTimedOut") == []
    clock.advance(1)
    await driver.engine.tick()
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "start_to_close"
    assert timed_out["failure_category"] == "timeout"
    assert timed_out["activity_attempt_id"] == act["activity_attempt_id"]
    assert timed_out["activity_execution_id"] == act["activity_execution_id"]
    assert timed_out["attempt_number"] == 1 and timed_out["activity_type"] == "greet"
    assert timed_out["sequence"] == 3 and timed_out["failure_id"]
    assert "start_to_close" in timed_out["message"]
    assert timed_out["exception_class"] == activity_timeouts.TIMEOUT_EXCEPTION_CLASS
    assert timed_out["close_deadline_at"] == act["deadlines"]["start_to_close"]
    assert timed_out["heartbeat_deadline_at"] is None
    await _resumed_with(driver, "ActivityTimedOut")
    # The timed-out attempt is fenced off: its late outcomes are stale, its heartbeat says stop.
    await _stale(driver.complete_act(act, "late"))
    await _stale(driver.fail_act(act, "late"))
    beat = await _heartbeat(driver, act)
    assert beat["can_continue"] is False and beat["reason"] == "stale_attempt"
    assert beat["heartbeat_recorded"] is False
    assert await driver.poll_act(timeout=0.05) is None  # no retry without a retry policy


async def test_heartbeat_timeout_is_renewed_by_each_heartbeat(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    wf = await _scheduled(driver, heartbeat_timeout=10, start_to_close_timeout=100)
    act = await driver.poll_act()
    assert act is not None
    clock.advance(6)
    beat = await _heartbeat(driver, act)
    assert beat["can_continue"] is True and beat["heartbeat_recorded"] is True
    clock.advance(6)  # 12 s after the claim, 6 s after the heartbeat
    await driver.engine.tick()
    assert await _events(driver, wf["run_id"], "ActivityTimedOut") == []
    clock.advance(4)
    await driver.engine.tick()
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "heartbeat"
    assert timed_out["heartbeat_deadline_at"].startswith("2026-03-01T12:00:16")
    await _resumed_with(driver, "ActivityTimedOut")


async def test_schedule_to_start_times_out_a_task_nobody_claims(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    wf = await _scheduled(driver, schedule_to_start_timeout=5)
    clock.advance(5)
    assert await driver.poll_act(timeout=0.05) is None  # past its deadline: not handed out
    await driver.engine.tick()
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "schedule_to_start"
    assert timed_out["activity_attempt_id"] is None and timed_out["attempt_number"] == 1
    assert timed_out["schedule_deadline_at"].startswith("2026-03-01T12:00:05")
    await _resumed_with(driver, "ActivityTimedOut")
    assert await driver.poll_act(timeout=0.05) is None


async def test_schedule_to_close_caps_the_whole_execution_across_retries(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    policy = {"max_attempts": 10, "backoff_seconds": [0]}
    wf = await _scheduled(driver, retry_policy=policy, start_to_close_timeout=4, schedule_to_close_timeout=10)
    numbers = []
    for _ in range(2):
        act = await driver.poll_act()
        assert act is not None
        numbers.append(act["attempt_number"])
        assert act["deadlines"]["schedule_to_close"].startswith("2026-03-01T12:00:10")
        clock.advance(4)
        await driver.engine.tick()
    third = await driver.poll_act()
    assert third is not None and [*numbers, third["attempt_number"]] == [1, 2, 3]
    clock.advance(2)  # t = 10: schedule-to-close, although attempts are left
    await driver.engine.tick()
    retries = await _events(driver, wf["run_id"], "ActivityRetryScheduled")
    assert [r["timeout_kind"] for r in retries] == ["start_to_close", "start_to_close"]
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "schedule_to_close" and timed_out["attempt_number"] == 3
    assert timed_out["schedule_to_close_deadline_at"].startswith("2026-03-01T12:00:10")
    await _resumed_with(driver, "ActivityTimedOut")
    await _stale(driver.complete_act(third, "late"))


# --------------------------------------------------------------------------- retries


async def test_timeout_with_attempts_left_schedules_a_retry_after_the_backoff(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    policy = {"max_attempts": 2, "backoff_seconds": [3]}
    wf = await _scheduled(driver, retry_policy=policy, start_to_close_timeout=5)
    first = await driver.poll_act()
    assert first is not None
    clock.advance(5)
    await driver.engine.tick()
    (retry,) = await _events(driver, wf["run_id"], "ActivityRetryScheduled")
    assert retry["timeout_kind"] == "start_to_close" and retry["failure_category"] == "timeout"
    assert retry["retry_after_attempt_id"] == first["activity_attempt_id"]
    assert retry["retry_after_attempt"] == 1 and retry["retry_backoff_seconds"] == 3
    assert retry["exception_class"] == activity_timeouts.TIMEOUT_EXCEPTION_CLASS
    assert await _events(driver, wf["run_id"], "ActivityTimedOut") == []
    assert await driver.poll_wf(timeout=0.05) is None  # a retry does not wake the workflow
    await _stale(driver.complete_act(first, "late"))
    assert await driver.poll_act(timeout=0.05) is None  # backing off
    clock.advance(3)
    second = await driver.poll_act()
    assert second is not None and second["attempt_number"] == 2
    assert second["task_id"] == retry["retry_task_id"]
    assert (await driver.complete_act(second, "ok"))["outcome"] == "completed"
    await _resumed_with(driver, "ActivityCompleted")


async def test_schedule_to_start_retry_counts_the_try_and_restarts_its_deadline(
    driver: Driver, clock
) -> None:  # type: ignore[no-untyped-def]
    policy = {"max_attempts": 2, "backoff_seconds": [0]}
    wf = await _scheduled(driver, retry_policy=policy, schedule_to_start_timeout=5)
    clock.advance(5)
    await driver.engine.tick()
    (retry,) = await _events(driver, wf["run_id"], "ActivityRetryScheduled")
    assert retry["timeout_kind"] == "schedule_to_start" and retry["retry_after_attempt"] == 1
    clock.advance(4)  # 4 s into the retry's own schedule-to-start window
    await driver.engine.tick()
    act = await driver.poll_act()
    assert act is not None and act["attempt_number"] == 2
    assert (await driver.complete_act(act, "ok"))["outcome"] == "completed"


async def test_last_attempt_timing_out_is_final(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    policy = {"max_attempts": 2, "backoff_seconds": [0]}
    wf = await _scheduled(driver, retry_policy=policy, heartbeat_timeout=2)
    for _ in range(2):
        act = await driver.poll_act()
        assert act is not None
        clock.advance(2)
        await driver.engine.tick()
    (retry,) = await _events(driver, wf["run_id"], "ActivityRetryScheduled")
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert retry["timeout_kind"] == timed_out["timeout_kind"] == "heartbeat"
    assert timed_out["attempt_number"] == 2
    await _resumed_with(driver, "ActivityTimedOut")


async def test_timeout_listed_as_non_retryable_is_final(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    policy = {"max_attempts": 3, "non_retryable_error_types": [activity_timeouts.TIMEOUT_EXCEPTION_CLASS]}
    wf = await _scheduled(driver, retry_policy=policy, start_to_close_timeout=1)
    assert await driver.poll_act() is not None
    clock.advance(1)
    await driver.engine.tick()
    assert await _events(driver, wf["run_id"], "ActivityRetryScheduled") == []
    assert len(await _events(driver, wf["run_id"], "ActivityTimedOut")) == 1


# --------------------------------------------------------------------------- precedence


def _row(status: str, **due: int) -> dict[str, Any]:
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    columns = {"s2s": deadlines.S2S, "stc": deadlines.STC, "s2c": deadlines.S2C, "hb": deadlines.HB}
    return {"status": status, **{columns[k]: now + timedelta(seconds=v) for k, v in due.items()}}


def test_precedence_of_the_kinds() -> None:
    now = datetime(2026, 3, 1, 0, 0, 10, tzinfo=timezone.utc)
    fired = deadlines.fired
    assert fired(_row("leased", s2c=10, hb=5, stc=1), now) == "schedule_to_close"
    assert fired(_row("ready", s2c=10, s2s=1), now) == "schedule_to_close"
    assert fired(_row("ready", s2s=10), now) == "schedule_to_start"
    assert fired(_row("leased", s2s=1, stc=20), now) is None  # schedule-to-start only while waiting
    assert fired(_row("leased", hb=10, stc=1), now) == "heartbeat"
    assert fired(_row("leased", stc=10, hb=11), now) == "start_to_close"
    assert fired(_row("ready", stc=1, hb=1), now) is None  # attempt deadlines only while leased
    assert fired(_row("completed", s2c=1), now) == "schedule_to_close"
    assert fired(_row("leased", s2c=11, hb=11, stc=11), now) is None


async def test_simultaneous_deadlines_fire_the_kind_with_precedence(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    wf = await _scheduled(driver, start_to_close_timeout=5, heartbeat_timeout=5, schedule_to_close_timeout=5)
    assert await driver.poll_act() is not None
    clock.advance(5)
    await driver.engine.tick()
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "schedule_to_close"


async def test_heartbeat_beats_start_to_close_when_both_are_due(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    wf = await _scheduled(driver, start_to_close_timeout=5, heartbeat_timeout=5)
    assert await driver.poll_act() is not None
    clock.advance(7)
    await driver.engine.tick()
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "heartbeat"


# --------------------------------------------------------------------------- fences


async def test_outcomes_past_a_deadline_are_refused_before_the_loop_records_it(make_engine, clock) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()  # only tick() sweeps: no loop records the timeout first
    driver = Driver(engine)
    await driver.register()
    wf = await _scheduled(driver, heartbeat_timeout=3)
    act = await driver.poll_act()
    assert act is not None
    clock.advance(3)
    beat = await _heartbeat(driver, act)  # too late to keep the attempt alive
    assert beat["can_continue"] is False and beat["reason"] == "stale_attempt"
    err = await _stale(driver.complete_act(act, "late"))
    assert err.extra["timeout_kind"] == "heartbeat"
    await _stale(driver.fail_act(act, "late"))
    assert await _events(driver, wf["run_id"], "ActivityHeartbeatRecorded") == []
    await engine.tick()
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "heartbeat"


async def test_an_attempt_completed_in_time_is_not_timed_out(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    wf = await _scheduled(driver, start_to_close_timeout=5, schedule_to_close_timeout=8)
    act = await driver.poll_act()
    assert act is not None
    clock.advance(4)
    assert (await driver.complete_act(act, "ok"))["outcome"] == "completed"
    clock.advance(10)
    await driver.engine.tick()
    assert await _events(driver, wf["run_id"], "ActivityTimedOut") == []
    assert await _events(driver, wf["run_id"], "ActivityRetryScheduled") == []


async def test_a_timeout_is_recorded_once_when_processes_race(make_engine, clock) -> None:  # type: ignore[no-untyped-def]
    first, second = await make_engine(), await make_engine()  # two processes, one database
    driver = Driver(first)
    await driver.register()
    wf = await _scheduled(driver, start_to_close_timeout=2)
    act = await driver.poll_act()
    assert act is not None
    clock.advance(2)
    await asyncio.gather(first.tick(), second.tick(), first.tick(), second.tick())
    assert len(await _events(driver, wf["run_id"], "ActivityTimedOut")) == 1
    # Timing out an attempt already timed out is a no-op.
    async with second._tx() as tx:
        assert await activity_timeouts.time_out(tx, act["task_id"]) is None
    assert len(await _events(driver, wf["run_id"], "ActivityTimedOut")) == 1
    wt = t.workflow_tasks
    async with first.store.read() as conn:
        ready = (
            await conn.execute(sa.select(sa.func.count()).select_from(wt).where(wt.c.status == "ready"))
        ).scalar_one()
    assert ready == 1


# --------------------------------------------------------------------------- the loop wakes in time


async def test_the_loop_wakes_for_a_new_deadline(make_engine, clock) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = await make_engine(background_loop=True, timer_loop_interval=30.0)
    driver = Driver(engine)
    await driver.register()
    wf = await _scheduled(driver, start_to_close_timeout=1)
    with engine.waiters.watch(("history", wf["run_id"])) as appended:
        assert await driver.poll_act() is not None  # the claim tells the sleeping loop its deadline
        appended.clear()  # the claim's own ActivityStarted
        clock.advance(1)
        # The loop's next history append is the timeout, well within the 30 s it would otherwise sleep.
        await asyncio.wait_for(appended.wait(), WAKE_WITHIN)
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "start_to_close"


async def test_the_lease_lasts_as_long_as_start_to_close(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    """An attempt allowed 60 s is not cut short by the 30 s test lease (a lost-lease retry)."""
    wf = await _scheduled(driver, start_to_close_timeout=60)
    act = await driver.poll_act()
    assert act is not None and act["lease_expires_at"].startswith("2026-03-01T12:01:00")
    clock.advance(10)
    beat = await _heartbeat(driver, act)
    assert beat["lease_expires_at"].startswith("2026-03-01T12:01:00")  # not shortened to now + 30
    clock.advance(40)
    await driver.engine.tick()
    assert await driver.poll_act(timeout=0.05) is None  # still the first attempt's
    clock.advance(10)
    await driver.engine.tick()
    (timed_out,) = await _events(driver, wf["run_id"], "ActivityTimedOut")
    assert timed_out["timeout_kind"] == "start_to_close"
