"""Workflow execution and run timeouts.

Time is the injected FakeClock; ``engine.tick()`` runs one pass of the background loop.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine import background_loop
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.runs import timeouts as run_timeouts
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, Driver, activity, complete, timer


async def _timed_out(driver: Driver, run_id: str, workflow_id: str = "wf-1") -> list[dict[str, Any]]:
    return [
        e["payload"]
        for e in await driver.history(workflow_id, run_id)
        if e["event_type"] == "WorkflowTimedOut"
    ]


async def _describe(driver: Driver, run_id: str) -> dict[str, Any]:
    return await driver.engine.describe_run(NS, "wf-1", run_id)


async def test_run_timeout_fires_and_closes_the_run_failed(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start(run_timeout_seconds=10)
    run_id = started["run_id"]
    clock.advance(9)
    await driver.engine.tick()
    assert await _timed_out(driver, run_id) == []
    clock.advance(1)
    await driver.engine.tick()
    (event,) = await _timed_out(driver, run_id)
    assert event["timeout_kind"] == "run" and event["failure_category"] == "timeout"
    assert event["failure_id"] and "timed out" in event["message"]
    assert event["exception_class"] == run_timeouts.TIMEOUT_EXCEPTION_CLASS
    assert event["run_deadline_at"].startswith("2026-03-01T12:00:10")
    assert event["execution_deadline_at"] is None
    described = await _describe(driver, run_id)
    assert described["status"] == "failed" and described["closed_reason"] == "timed_out"
    assert (await driver.types("wf-1", run_id))[-1] == "WorkflowTimedOut"
    # Its queued workflow task is gone, and a second pass does nothing more.
    assert await driver.poll_wf(timeout=0.05) is None
    await driver.engine.tick()
    assert len(await _timed_out(driver, run_id)) == 1


async def test_execution_timeout_fires(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start(execution_timeout_seconds=5)
    clock.advance(5)
    await driver.engine.tick()
    (event,) = await _timed_out(driver, started["run_id"])
    assert event["timeout_kind"] == "execution"
    assert event["execution_deadline_at"].startswith("2026-03-01T12:00:05")
    assert (await _describe(driver, started["run_id"]))["closed_reason"] == "timed_out"


@pytest.mark.parametrize(
    ("execution", "run", "kind"), [(5, 10, "execution"), (10, 5, "run"), (5, 5, "execution")]
)
async def test_the_earlier_deadline_wins(driver: Driver, clock, execution: int, run: int, kind: str) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start(execution_timeout_seconds=execution, run_timeout_seconds=run)
    clock.advance(20)  # both passed: the earlier one is what timed the run out
    await driver.engine.tick()
    (event,) = await _timed_out(driver, started["run_id"])
    assert event["timeout_kind"] == kind


async def test_no_timeout_when_the_run_completes_first(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start(execution_timeout_seconds=5, run_timeout_seconds=5)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    clock.advance(60)
    await driver.engine.tick()
    assert await _timed_out(driver, started["run_id"]) == []
    described = await _describe(driver, started["run_id"])
    assert described["status"] == "completed"
    assert await background_loop.next_due_at(driver.engine.store) is None  # nothing left to wake up for


async def test_open_activity_and_timer_work_is_cancelled(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start(run_timeout_seconds=30)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity(), timer(600)])
    act = await driver.poll_act()
    assert act is not None
    clock.advance(30)
    await driver.engine.tick()
    assert len(await _timed_out(driver, started["run_id"])) == 1
    async with driver.engine.store.read() as conn:
        statuses = {
            "activity_task": (await conn.execute(sa.select(t.activity_tasks.c.status))).scalar_one(),
            "execution": (await conn.execute(sa.select(t.activity_executions.c.status))).scalar_one(),
            "attempt": (await conn.execute(sa.select(t.activity_attempts.c.status))).scalar_one(),
            "timer": (await conn.execute(sa.select(t.timers.c.status))).scalar_one(),
        }
    assert statuses == {
        "activity_task": "cancelled",
        "execution": "cancelled",
        "attempt": "cancelled",
        "timer": "cancelled",
    }
    # The running activity learns the run closed; its late completion changes nothing.
    with pytest.raises(DomainError):
        await driver.complete_act(act, "late")
    clock.advance(600)
    await driver.engine.tick()
    assert (await driver.types("wf-1", started["run_id"]))[-1] == "WorkflowTimedOut"


async def test_a_late_workflow_task_completion_is_fenced(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start(run_timeout_seconds=3)
    task = await driver.poll_wf()
    assert task is not None
    clock.advance(3)
    await driver.engine.tick()
    with pytest.raises(DomainError) as err:
        await driver.complete_wf(task, [complete("too late")])
    assert err.value.reason == "run_closed"
    described = await _describe(driver, started["run_id"])
    assert described["status"] == "failed" and described["closed_reason"] == "timed_out"


async def test_continue_as_new_keeps_the_execution_deadline(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    first = await driver.start(execution_timeout_seconds=100, run_timeout_seconds=40)
    clock.advance(30)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [{"type": "continue_as_new", "arguments": codec.envelope([2])}])
    second = await driver.engine.describe_workflow(NS, "wf-1")
    assert second["run_id"] != first["run_id"]
    # Fresh run deadline (30 + 40 = 70 s), the same execution deadline (100 s).
    clock.advance(39)  # t = 69
    await driver.engine.tick()
    assert await _timed_out(driver, second["run_id"]) == []
    clock.advance(1)  # t = 70: the new run's own run timeout
    await driver.engine.tick()
    (event,) = await _timed_out(driver, second["run_id"])
    assert event["timeout_kind"] == "run"
    assert event["run_deadline_at"].startswith("2026-03-01T12:01:10")
    assert event["execution_deadline_at"].startswith("2026-03-01T12:01:40")
    assert await _timed_out(driver, first["run_id"]) == []  # the continued run closed normally


async def test_execution_deadline_caps_the_continued_runs(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    await driver.start(execution_timeout_seconds=50, run_timeout_seconds=40)
    clock.advance(30)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [{"type": "continue_as_new"}])
    second = await driver.engine.describe_workflow(NS, "wf-1")
    assert await background_loop.next_due_at(driver.engine.store) == clock() + timedelta(seconds=20)
    clock.advance(20)  # t = 50: the execution deadline, before the new run's deadline at 70
    await driver.engine.tick()
    (event,) = await _timed_out(driver, second["run_id"])
    assert event["timeout_kind"] == "execution"


async def test_two_engines_time_out_a_run_once(make_engine: Any, clock) -> None:  # type: ignore[no-untyped-def]
    first: Engine = await make_engine()
    second: Engine = await make_engine()
    driver = Driver(first)
    await driver.register()
    started = await driver.start(run_timeout_seconds=1)
    clock.advance(1)
    counts = [
        await run_timeouts.enforce(engine._tx, engine.store, clock()) for engine in (first, second, first)
    ]
    assert counts == [1, 0, 0]
    assert len(await _timed_out(driver, started["run_id"])) == 1
