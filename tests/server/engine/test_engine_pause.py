"""Pause and resume on the engine: a paused run gets no new workflow tasks and no activity
dispatches, leased work finishes, signals are buffered and delivered on resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow.protocol import errors as reasons
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.signals.receiving import SignalRequest
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, POLL_LONGER, WAKE_WITHIN, Driver, activity, complete, parked


async def statuses(engine: Engine, tbl: sa.Table) -> list[str]:
    async with engine.store.read() as conn:
        return sorted(r["status"] for r in (await conn.execute(sa.select(tbl))).mappings())


async def send_signal(engine: Engine) -> None:
    envelope = codec.envelope(["x"])
    await engine.signal_workflow(NS, SignalRequest("wf-1", "go", envelope["codec"], envelope["blob"]))


async def test_a_paused_run_gets_no_task_until_it_resumes_and_then_sees_its_signals(driver: Driver) -> None:
    started = await driver.start()
    paused = await driver.engine.pause_workflow(NS, "wf-1", reason="maintenance")
    assert paused["outcome"] == "paused"
    assert paused["reason"] == "maintenance"
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["paused"] is True
    assert described["pause_reason"] == "maintenance"
    assert described["paused_at"] is not None
    assert await statuses(driver.engine, t.workflow_tasks) == ["paused"]
    assert await driver.poll_wf() is None

    await send_signal(driver.engine)  # recorded, held
    assert await statuses(driver.engine, t.workflow_tasks) == ["paused"]
    assert await driver.poll_wf() is None

    resumed = await driver.engine.resume_workflow(NS, "wf-1")
    assert resumed["outcome"] == "resumed"
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert (described["paused"], described["paused_at"], described["pause_reason"]) == (False, None, None)
    task = await driver.poll_wf()
    assert task is not None
    types = [e["event_type"] for e in task["history_events"]]
    assert types[-3:] == ["WorkflowPaused", "SignalReceived", "WorkflowResumed"]
    paused_event = task["history_events"][-3]["payload"]
    assert paused_event["reason"] == "maintenance"
    await driver.complete_wf(task, [complete("ok")])
    assert (await driver.types("wf-1", started["run_id"]))[-1] == "WorkflowCompleted"


async def test_pausing_twice_and_resuming_a_running_run_change_nothing(driver: Driver) -> None:
    started = await driver.start()
    assert (await driver.engine.resume_workflow(NS, "wf-1"))["outcome"] == "not_paused"
    await driver.engine.pause_workflow(NS, "wf-1")
    before = await driver.types("wf-1", started["run_id"])
    again = await driver.engine.pause_workflow(NS, "wf-1", reason="other")
    assert again["outcome"] == "already_paused"
    assert again["command_sequence"] is None
    assert await driver.types("wf-1", started["run_id"]) == before
    assert (await driver.engine.describe_workflow(NS, "wf-1"))["pause_reason"] is None


async def test_leased_work_finishes_while_paused_and_new_dispatches_wait(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("first"), activity("second")])
    leased = await driver.poll_act()
    assert leased is not None
    await driver.engine.pause_workflow(NS, "wf-1")
    # The leased attempt finishes and is recorded; the other activity is not dispatched.
    assert await driver.poll_act() is None
    await driver.complete_act(leased, "done")
    assert "ActivityCompleted" in await driver.types("wf-1", started["run_id"])
    assert await driver.poll_act() is None
    assert sorted(await statuses(driver.engine, t.activity_tasks)) == ["completed", "paused"]

    await driver.engine.resume_workflow(NS, "wf-1")
    other = await driver.poll_act()
    assert other is not None and other["activity_type"] != leased["activity_type"]


async def test_a_leased_workflow_task_completes_while_paused_and_its_activities_wait(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.engine.pause_workflow(NS, "wf-1")
    answer = await driver.complete_wf(task, [activity()])
    assert answer["outcome"] == "completed"
    assert await statuses(driver.engine, t.activity_tasks) == ["paused"]
    assert await driver.poll_act() is None
    await driver.engine.resume_workflow(NS, "wf-1")
    assert await driver.poll_act() is not None


async def test_resume_wakes_a_parked_poller(driver: Driver) -> None:
    await driver.start()
    await driver.engine.pause_workflow(NS, "wf-1")
    poll = asyncio.create_task(driver.poll_wf(timeout=POLL_LONGER))
    await parked(driver.engine, ("workflow", NS, driver.queue))
    await driver.engine.resume_workflow(NS, "wf-1")
    task = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert task is not None


async def test_pause_refusals(driver: Driver) -> None:
    with pytest.raises(DomainError) as info:
        await driver.engine.pause_workflow(NS, "nope")
    assert info.value.reason == reasons.INSTANCE_NOT_FOUND
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("ok")])
    for call in (driver.engine.pause_workflow, driver.engine.resume_workflow):
        with pytest.raises(DomainError) as info:
            await call(NS, "wf-1")
        assert info.value.reason == reasons.RUN_NOT_ACTIVE


async def test_terminating_a_paused_run_retires_its_held_tasks(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    await send_signal(driver.engine)
    await driver.engine.pause_workflow(NS, "wf-1")
    held: Any = await statuses(driver.engine, t.workflow_tasks)
    assert "paused" in held
    await driver.engine.terminate_workflow(NS, "wf-1", reason="done with it")
    assert "paused" not in await statuses(driver.engine, t.workflow_tasks)
    assert "paused" not in await statuses(driver.engine, t.activity_tasks)


async def test_a_paused_run_that_continues_as_new_stays_paused(driver: Driver) -> None:
    first = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.engine.pause_workflow(NS, "wf-1", reason="hold")
    await driver.complete_wf(task, [{"type": "continue_as_new", "arguments": codec.envelope([])}])
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["run_id"] != first["run_id"]
    assert (described["paused"], described["pause_reason"]) == (True, "hold")
    assert (await driver.types("wf-1", described["run_id"]))[-1] == "WorkflowPaused"
    assert await driver.poll_wf() is None
    await driver.engine.resume_workflow(NS, "wf-1")
    resumed = await driver.poll_wf()
    assert resumed is not None and resumed["run_id"] == described["run_id"]
