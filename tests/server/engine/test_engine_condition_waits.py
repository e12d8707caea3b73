"""Condition waits on the engine: opened with their timeout timer, kept open by a re-send
(by id for workers with ``condition_wait_ids``, by key + fingerprint for SDK 0.4.84), satisfied
when a completion no longer keeps them, timed out by the server (also after a restart), and
cancelled with the run."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow.protocol.capabilities import WORKER_CONDITION_WAIT_IDS
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.signals.receiving import SignalRequest
from durable_workflow_server.store import tables as t
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity, complete


def wait(key: str = "approved", timeout: int | None = None, wait_id: str | None = None) -> dict[str, Any]:
    cmd: dict[str, Any] = {"type": "open_condition_wait", "condition_key": key}
    cmd["condition_definition_fingerprint"] = f"fp-{key}"
    if timeout is not None:
        cmd["timeout_seconds"] = timeout
    if wait_id is not None:
        cmd["condition_wait_id"] = wait_id
    return cmd


async def send_signal(engine: Engine, name: str = "approve") -> dict[str, Any]:
    envelope = codec.envelope([])
    request = SignalRequest("wf-1", name, envelope["codec"], envelope["blob"])
    return dict(await engine.signal_workflow(NS, request))


async def table(engine: Engine, tbl: sa.Table) -> list[dict[str, Any]]:
    async with engine.store.read() as conn:
        return [dict(r) for r in (await conn.execute(sa.select(tbl))).mappings()]


async def opened(driver: Driver, *commands: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, list(commands))
    return started["run_id"], task


async def test_a_wait_with_a_timeout_records_its_wait_and_a_condition_timer(driver: Driver) -> None:
    run_id, _ = await opened(driver, wait(timeout=30))
    events = await driver.history("wf-1", run_id)
    opened_event, scheduled = events[-2], events[-1]
    assert opened_event["event_type"] == "ConditionWaitOpened"
    wait_id = opened_event["payload"]["condition_wait_id"]
    assert opened_event["payload"]["condition_key"] == "approved"
    assert opened_event["payload"]["condition_definition_fingerprint"] == "fp-approved"
    assert opened_event["payload"]["timeout_seconds"] == 30
    assert scheduled["event_type"] == "TimerScheduled"
    assert scheduled["payload"]["timer_kind"] == "condition_timeout"
    assert scheduled["payload"]["condition_wait_id"] == wait_id
    (timer,) = await table(driver.engine, t.timers)
    assert (timer["timer_kind"], timer["target_id"], timer["status"]) == (
        "condition_timeout",
        wait_id,
        "pending",
    )
    (row,) = await table(driver.engine, t.condition_waits)
    assert (row["condition_wait_id"], row["status"], row["timer_id"]) == (wait_id, "open", timer["timer_id"])
    # Not a workflow step: the run waits on nothing the step rule knows, and nothing wakes it.
    assert await driver.poll_wf() is None


async def test_a_wait_without_a_timeout_has_no_timer(driver: Driver) -> None:
    run_id, _ = await opened(driver, wait())
    assert (await driver.types("wf-1", run_id))[-1] == "ConditionWaitOpened"
    assert await table(driver.engine, t.timers) == []


async def test_a_signal_wakes_the_wait_and_a_completion_without_it_satisfies_it(driver: Driver) -> None:
    run_id, _ = await opened(driver, wait(timeout=30))
    signalled = await send_signal(driver.engine)
    task = await driver.poll_wf()
    assert task is not None, "a signal wakes a run parked on a condition wait"
    await driver.complete_wf(task, [activity()])
    events = await driver.history("wf-1", run_id)
    tail = [e["event_type"] for e in events[-3:]]
    assert tail == ["ConditionWaitSatisfied", "TimerCancelled", "ActivityScheduled"]
    satisfied = events[-3]["payload"]
    assert satisfied["workflow_signal_id"] == signalled["signal_id"]
    assert satisfied["signal_name"] == "approve"
    assert satisfied["timer_id"] == events[-2]["payload"]["timer_id"]
    assert events[-2]["payload"]["timer_kind"] == "condition_timeout"
    (row,) = await table(driver.engine, t.condition_waits)
    assert row["status"] == "satisfied"
    (timer,) = await table(driver.engine, t.timers)
    assert timer["status"] == "cancelled"


async def test_a_reference_worker_keeps_the_wait_open_by_key_and_fingerprint(driver: Driver) -> None:
    run_id, _ = await opened(driver, wait(timeout=30))
    before = await driver.types("wf-1", run_id)
    await send_signal(driver.engine)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [wait(timeout=30)])  # SDK 0.4.84 re-sends the open wait
    assert await driver.types("wf-1", run_id) == [*before, "SignalReceived"]
    assert len(await table(driver.engine, t.condition_waits)) == 1
    assert len(await table(driver.engine, t.timers)) == 1


async def test_our_worker_keeps_a_wait_by_id_and_back_to_back_same_key_waits_stay_distinct(
    driver: Driver,
) -> None:
    await driver.register(capabilities=[WORKER_CONDITION_WAIT_IDS])
    run_id, _ = await opened(driver, wait())
    first_id = (await driver.history("wf-1", run_id))[-1]["payload"]["condition_wait_id"]

    await send_signal(driver.engine)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [wait(wait_id=first_id)])  # still waiting: the same wait
    assert (await driver.types("wf-1", run_id))[-1] == "SignalReceived"

    await send_signal(driver.engine)
    task = await driver.poll_wf()
    assert task is not None
    # The first wait passed and the code reached a second wait with the same key and predicate.
    await driver.complete_wf(task, [wait()])
    events = await driver.history("wf-1", run_id)
    assert [e["event_type"] for e in events[-2:]] == ["ConditionWaitSatisfied", "ConditionWaitOpened"]
    assert events[-2]["payload"]["condition_wait_id"] == first_id
    second_id = events[-1]["payload"]["condition_wait_id"]
    assert second_id != first_id
    statuses = {r["condition_wait_id"]: r["status"] for r in await table(driver.engine, t.condition_waits)}
    assert statuses == {first_id: "satisfied", second_id: "open"}


async def test_the_timeout_fires_times_the_wait_out_and_wakes_the_run(
    driver: Driver, clock: FakeClock
) -> None:
    run_id, _ = await opened(driver, wait(timeout=30))
    clock.advance(29)
    await driver.engine.tick()
    assert await driver.poll_wf() is None
    clock.advance(1)
    await driver.engine.tick()
    events = await driver.history("wf-1", run_id)
    fired, timed_out = events[-2], events[-1]
    assert fired["event_type"] == "TimerFired"
    assert fired["payload"]["timer_kind"] == "condition_timeout"
    wait_id = fired["payload"]["condition_wait_id"]
    assert timed_out["event_type"] == "ConditionWaitTimedOut"
    assert timed_out["payload"]["condition_wait_id"] == wait_id
    (row,) = await table(driver.engine, t.condition_waits)
    assert row["status"] == "timed_out"
    task = await driver.poll_wf()
    assert task is not None
    # The worker saw the time-out: a completion now does not satisfy anything.
    await driver.complete_wf(task, [complete(False)])
    assert (await driver.types("wf-1", run_id))[-2:] == ["ConditionWaitTimedOut", "WorkflowCompleted"]


async def test_the_timeout_fires_on_time_after_a_restart(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    first = await make_engine()
    driver = Driver(first)
    await driver.register()
    run_id, _ = await opened(driver, wait(timeout=60))
    await first.close()

    clock.advance(60)
    second = await make_engine()
    await second.tick()
    types = [e["event_type"] for e in await Driver(second).history("wf-1", run_id)]
    assert types[-2:] == ["TimerFired", "ConditionWaitTimedOut"]
    again = Driver(second)
    await again.register()
    assert await again.poll_wf() is not None


async def test_an_update_task_satisfies_no_wait(driver: Driver) -> None:
    run_id, _ = await opened(driver, wait())
    await send_signal(driver.engine)
    task = await driver.poll_wf()
    assert task is not None
    async with driver.engine.store.write() as conn:
        await conn.execute(
            sa.update(t.workflow_tasks)
            .where(t.workflow_tasks.c.task_id == task["task_id"])
            .values(workflow_update_id="upd-1")
        )
    await driver.complete_wf(task, [{"type": "record_side_effect", "result": codec.envelope(1)}])
    assert "ConditionWaitSatisfied" not in await driver.types("wf-1", run_id)
    (row,) = await table(driver.engine, t.condition_waits)
    assert row["status"] == "open"


async def test_closing_the_run_cancels_its_waits_and_their_timers(driver: Driver) -> None:
    await opened(driver, wait(timeout=30))
    await send_signal(driver.engine)
    task = await driver.poll_wf()
    assert task is not None
    # The run fails while still waiting (0.4.84 keeps the wait open; the workflow gives up).
    await driver.complete_wf(task, [wait(timeout=30), {"type": "fail_workflow", "message": "gave up"}])
    (row,) = await table(driver.engine, t.condition_waits)
    assert row["status"] == "cancelled"
    (timer,) = await table(driver.engine, t.timers)
    assert timer["status"] == "cancelled"


async def test_bad_wait_commands_are_refused(driver: Driver) -> None:
    from durable_workflow_server.engine.errors import ValidationFailed

    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    for bad, field in (
        ({**wait(), "timeout_seconds": -1}, "commands.0.timeout_seconds"),
        ({**wait(), "condition_key": 5}, "commands.0.condition_key"),
        ({**activity(), "condition_wait_id": "x"}, "commands.0.condition_wait_id"),
    ):
        try:
            await driver.complete_wf(task, [bad])
        except ValidationFailed as exc:
            assert field in exc.errors, exc.errors
        else:
            raise AssertionError(f"{bad} was accepted")
    assert await table(driver.engine, t.condition_waits) == []


async def test_a_timeout_due_while_a_task_is_leased_waits_for_its_completion(
    driver: Driver, clock: FakeClock
) -> None:
    run_id, _ = await opened(driver, wait(timeout=20))
    await send_signal(driver.engine)
    leased = await driver.poll_wf()
    assert leased is not None
    clock.advance(20)  # the 30 s lease still holds
    await driver.engine.tick()
    # The worker holding the task may find the condition true: no time-out under it.
    assert "TimerFired" not in await driver.types("wf-1", run_id)
    await driver.complete_wf(leased, [wait(timeout=20)])  # it did not: the wait stays open
    clock.advance(1)
    await driver.engine.tick()
    events = await driver.history("wf-1", run_id)
    assert [e["event_type"] for e in events[-2:]] == ["TimerFired", "ConditionWaitTimedOut"]
    opened_payload = next(e["payload"] for e in events if e["event_type"] == "TimerScheduled")
    assert events[-2]["payload"]["fire_at"] == opened_payload["fire_at"]


async def test_a_wait_satisfied_by_the_leased_task_never_times_out(driver: Driver, clock: FakeClock) -> None:
    run_id, _ = await opened(driver, wait(timeout=20))
    await send_signal(driver.engine)
    leased = await driver.poll_wf()
    assert leased is not None
    clock.advance(20)  # the 30 s lease still holds
    await driver.engine.tick()
    await driver.complete_wf(leased, [complete(True)])
    clock.advance(5)
    await driver.engine.tick()
    types = await driver.types("wf-1", run_id)
    assert types[-3:] == ["ConditionWaitSatisfied", "TimerCancelled", "WorkflowCompleted"]
    assert "TimerFired" not in types
