"""Fencing and leases: stale holders are refused, expired leases are redelivered."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.errors import DomainError, ValidationFailed
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, Driver, activity, complete


async def _leased(driver: Driver) -> dict:  # type: ignore[type-arg]
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    return task


async def _reason(coro) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as err:
        await coro
    return err.value


async def test_workflow_task_fence(driver: Driver) -> None:
    task = await _leased(driver)
    engine = driver.engine
    err = await _reason(
        engine.complete_workflow_task(
            NS, "missing", lease_owner="w1", workflow_task_attempt=1, commands=[complete(1)]
        )
    )
    assert err.reason == "task_not_found"
    err = await _reason(
        engine.complete_workflow_task(
            NS, task["task_id"], lease_owner="w2", workflow_task_attempt=1, commands=[complete(1)]
        )
    )
    assert err.reason == "lease_owner_mismatch" and err.extra["lease_owner"] == "w1"
    err = await _reason(
        engine.complete_workflow_task(
            NS, task["task_id"], lease_owner="w1", workflow_task_attempt=7, commands=[complete(1)]
        )
    )
    assert err.reason == "workflow_task_attempt_mismatch" and err.extra["current_attempt"] == 1
    beat = await engine.heartbeat_workflow_task(
        NS, task["task_id"], lease_owner="w1", workflow_task_attempt=1
    )
    assert beat["renewed"] is True and beat["reason"] is None
    await driver.complete_wf(task, [complete(1)])
    err = await _reason(driver.complete_wf(task, [complete(1)]))
    assert err.reason == "run_closed" and err.extra["stop_reason"] == "run_completed"


async def test_task_not_leased_after_completion_of_open_run(driver: Driver) -> None:
    task = await _leased(driver)
    await driver.complete_wf(task, [activity()])
    err = await _reason(driver.complete_wf(task, [activity()]))
    assert err.reason == "task_not_leased"


async def test_command_validation_writes_nothing(driver: Driver) -> None:
    task = await _leased(driver)
    err = await _reason(driver.complete_wf(task, []))
    assert err.reason == "invalid_commands"
    err = await _reason(driver.complete_wf(task, [complete(1), {"type": "fail_workflow", "message": "x"}]))
    assert err.reason == "invalid_commands"
    with pytest.raises(ValidationFailed) as bad:
        await driver.complete_wf(task, [{"type": "teleport"}])
    assert "commands.0.type" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        await driver.complete_wf(
            task, [activity(), {"type": "start_timer", "delay_seconds": 5, "retry_policy": {}}]
        )
    assert "commands.1.retry_policy" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        await driver.complete_wf(
            task, [{"type": "complete_workflow", "result": {"codec": "json", "blob": "1"}}]
        )
    assert "commands.0.result" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        await driver.complete_wf(task, [{"type": "schedule_activity"}])
    assert "commands.0.activity_type" in bad.value.errors
    # Nothing was written: still two events, the task is still leased and completes normally.
    assert await driver.types("wf-1", task["run_id"]) == ["StartAccepted", "WorkflowStarted"]
    async with driver.engine.store.read() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.activity_executions))
        ).scalar_one()
    assert count == 0
    assert (await driver.complete_wf(task, [complete(1)]))["run_status"] == "completed"


async def test_expired_workflow_lease_is_redelivered_and_old_holder_fenced(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    task = await _leased(driver)
    clock.advance(31)  # lease is 30 s in tests
    err = await _reason(driver.complete_wf(task, [complete(1)]))
    assert err.reason == "lease_expired"
    await driver.register(worker_id="w2")
    again = await driver.poll_wf(worker_id="w2")
    assert again is not None and again["task_id"] == task["task_id"]
    assert again["workflow_task_attempt"] == 2 and again["lease_owner"] == "w2"
    err = await _reason(driver.complete_wf(task, [complete(1)]))
    assert err.reason == "lease_owner_mismatch"
    assert (await driver.complete_wf(again, [complete(2)]))["run_status"] == "completed"


async def test_background_loop_readies_expired_workflow_lease(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    task = await _leased(driver)
    clock.advance(31)
    await driver.engine.tick()
    err = await _reason(driver.complete_wf(task, [complete(1)]))
    assert err.reason == "task_not_leased"
    again = await driver.poll_wf()
    assert again is not None and again["workflow_task_attempt"] == 2


async def test_failed_workflow_task_is_redelivered(driver: Driver) -> None:
    task = await _leased(driver)
    body = await driver.engine.fail_workflow_task(
        NS,
        task["task_id"],
        lease_owner="w1",
        workflow_task_attempt=1,
        failure={"message": "replay failed: boom"},
    )
    assert body["outcome"] == "failed" and body["next_task_id"]
    again = await driver.poll_wf()
    assert again is not None and again["task_id"] == body["next_task_id"]
    assert [e["event_type"] for e in again["history_events"]] == ["StartAccepted", "WorkflowStarted"]


async def test_activity_fence_and_stale_outcomes(driver: Driver) -> None:
    task = await _leased(driver)
    await driver.complete_wf(task, [activity()])
    act = await driver.poll_act()
    assert act is not None
    engine = driver.engine
    err = await _reason(
        engine.complete_activity_task(
            NS, "missing", activity_attempt_id=act["activity_attempt_id"], lease_owner="w1", result="AAQ0MgI="
        )
    )
    assert err.reason == "task_not_found"
    err = await _reason(
        engine.complete_activity_task(
            NS, act["task_id"], activity_attempt_id="nope", lease_owner="w1", result="AAQ0MgI="
        )
    )
    assert err.reason == "attempt_not_found"
    err = await _reason(
        engine.complete_activity_task(
            NS,
            act["task_id"],
            activity_attempt_id=act["activity_attempt_id"],
            lease_owner="w9",
            result="AAQ0MgI=",
        )
    )
    assert err.reason == "lease_owner_mismatch"
    beat = await engine.heartbeat_activity_task(
        NS,
        act["task_id"],
        activity_attempt_id=act["activity_attempt_id"],
        lease_owner="w1",
        progress={"message": "half", "current": 1},
    )
    assert (
        beat["heartbeat_recorded"] is True
        and beat["can_continue"] is True
        and beat["cancel_requested"] is False
    )
    done = await engine.complete_activity_task(
        NS,
        act["task_id"],
        activity_attempt_id=act["activity_attempt_id"],
        lease_owner="w1",
        result="AAQ0MgI=",
    )  # a bare blob is accepted
    assert done["outcome"] == "completed"
    err = await _reason(
        engine.complete_activity_task(
            NS,
            act["task_id"],
            activity_attempt_id=act["activity_attempt_id"],
            lease_owner="w1",
            result="AAQ0MgI=",
        )
    )
    assert err.reason == "stale_attempt"
    types = await driver.types("wf-1", task["run_id"])
    assert types[-3:] == ["ActivityStarted", "ActivityHeartbeatRecorded", "ActivityCompleted"]


async def test_expired_activity_lease_becomes_a_new_attempt(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    task = await _leased(driver)
    await driver.complete_wf(task, [activity()])
    first = await driver.poll_act()
    assert first is not None
    clock.advance(31)
    await driver.engine.tick()
    second = await driver.poll_act()
    assert second is not None
    assert second["task_id"] == first["task_id"]
    assert second["activity_attempt_id"] != first["activity_attempt_id"] and second["attempt_number"] == 2
    err = await _reason(driver.complete_act(first, "late"))
    assert err.reason == "stale_attempt"
    assert (await driver.complete_act(second, "ok"))["outcome"] == "completed"
    wf = await driver.poll_wf()
    assert wf is not None and wf["history_events"][-1]["event_type"] == "ActivityCompleted"
