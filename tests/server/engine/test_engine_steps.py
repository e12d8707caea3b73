"""Blocking steps: durable timers, re-sent command dedupe, the fan-out wake rule, activity retries."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.runs.rows import load_run
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.workflow_tasks.rows import ensure_workflow_task
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, POLL_LONGER, WAKE_WITHIN, Driver, activity, complete, timer


async def _count(engine: Engine, table: sa.Table) -> int:
    async with engine.store.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def _wake(engine: Engine, run_id: str) -> None:
    """Queue a workflow task for a run the way a signal or a repair would."""
    async with engine._tx() as tx:
        run = await load_run(tx, run_id)
        assert run is not None
        await ensure_workflow_task(tx, run)


async def _ready_tasks(engine: Engine) -> int:
    wt = t.workflow_tasks
    async with engine.store.read() as conn:
        stmt = sa.select(sa.func.count()).select_from(wt).where(wt.c.status == "ready")
        return (await conn.execute(stmt)).scalar_one()


async def test_timer_fires_and_resumes_the_run(make_engine, clock) -> None:  # type: ignore[no-untyped-def]
    driver = Driver(await make_engine(background_loop=True))
    await driver.register()
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [timer(60)])
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["wait_kind"] == "timer"
    await driver.engine.tick()
    assert await driver.poll_wf(timeout=0.05) is None  # not due yet
    clock.advance(60)
    waiting = asyncio.create_task(driver.poll_wf(timeout=POLL_LONGER))
    task2 = await asyncio.wait_for(waiting, WAKE_WITHIN)  # the background loop fires it and wakes the poll
    assert task2 is not None
    fired = task2["history_events"][-1]
    assert fired["event_type"] == "TimerFired"
    assert fired["payload"]["sequence"] == 3 and fired["payload"]["delay_seconds"] == 60
    assert fired["payload"]["fired_at"] == "2026-03-01T12:01:00.000000Z"
    await driver.engine.tick()  # firing twice is impossible: the timer is no longer pending
    assert (await driver.types("wf-1", started["run_id"])).count("TimerFired") == 1


async def test_timer_due_while_down_fires_after_restart(make_engine, clock) -> None:  # type: ignore[no-untyped-def]
    first = await make_engine()
    d = Driver(first)
    await d.register()
    started = await d.start()
    task = await d.poll_wf()
    assert task is not None
    await d.complete_wf(task, [timer(300)])
    await first.close()

    clock.advance(3600)
    second = await make_engine(background_loop=True)  # its first sweep fires the overdue timer
    d2 = Driver(second)
    task2 = await d2.poll_wf(timeout=WAKE_WITHIN)
    assert task2 is not None and task2["run_id"] == started["run_id"]
    assert task2["history_events"][-1]["event_type"] == "TimerFired"


async def test_resent_commands_of_a_partial_fan_out_create_nothing(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    fan_out = [activity("a"), activity("b"), activity("c")]
    await driver.complete_wf(task, fan_out)
    assert await _count(driver.engine, t.activity_executions) == 3
    act = await driver.poll_act()
    assert act is not None and act["activity_type"] == "a"
    await driver.complete_act(act, "A")
    # One of three resolved: the wake rule keeps the run asleep.
    assert await _ready_tasks(driver.engine) == 0
    # Any task delivered now (a signal, a repair) makes SDK 0.4.84 re-send all three commands.
    await _wake(driver.engine, started["run_id"])
    task2 = await driver.poll_wf()
    assert task2 is not None
    result = await driver.complete_wf(task2, [activity("a"), activity("b"), activity("c")])
    assert result["created_task_ids"] == []
    assert await _count(driver.engine, t.activity_executions) == 3
    types = await driver.types("wf-1", started["run_id"])
    assert types.count("ActivityScheduled") == 3
    # A genuinely new step after the re-emitted ones is still created.
    await _wake(driver.engine, started["run_id"])
    task3 = await driver.poll_wf()
    assert task3 is not None
    result = await driver.complete_wf(task3, [activity("a"), activity("b"), activity("c"), timer(5)])
    assert await _count(driver.engine, t.activity_executions) == 3
    assert await _count(driver.engine, t.timers) == 1


async def test_fan_out_wakes_once_when_all_members_resolve(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("a"), activity("b"), activity("c")])
    acts = [await driver.poll_act() for _ in range(3)]
    assert all(a is not None for a in acts)
    # Complete out of order; nothing is ready until the last one lands.
    await driver.complete_act(acts[2], "C")  # type: ignore[arg-type]
    await driver.complete_act(acts[0], "A")  # type: ignore[arg-type]
    assert await _ready_tasks(driver.engine) == 0
    await driver.complete_act(acts[1], "B")  # type: ignore[arg-type]
    assert await _ready_tasks(driver.engine) == 1
    task2 = await driver.poll_wf()
    assert task2 is not None
    completed = [
        e["payload"]["sequence"] for e in task2["history_events"] if e["event_type"] == "ActivityCompleted"
    ]
    assert completed == [5, 3, 4]  # results carry the step's workflow sequence
    await driver.complete_wf(task2, [complete(["A", "B", "C"])])
    assert (await driver.engine.describe_run(NS, "wf-1", started["run_id"]))["status"] == "completed"


async def test_retry_policy_retries_then_fails(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    policy = {"max_attempts": 3, "backoff_seconds": [0, 0], "non_retryable_error_types": ["Fatal"]}
    await driver.complete_wf(task, [activity(retry_policy=policy, start_to_close_timeout=30)])
    first = await driver.poll_act()
    assert first is not None and first["retry_policy"]["max_attempts"] == 3
    assert "start_to_close" in first["deadlines"]
    failed = await driver.fail_act(first, "flaky", type="ValueError")
    assert failed["next_task_id"]
    second = await driver.poll_act()
    assert (
        second is not None and second["attempt_number"] == 2 and second["task_id"] == failed["next_task_id"]
    )
    assert await _ready_tasks(driver.engine) == 0  # retries do not wake the workflow
    await driver.fail_act(second, "still flaky", type="ValueError")
    third = await driver.poll_act()
    assert third is not None and third["attempt_number"] == 3
    await driver.fail_act(third, "gave up", type="ValueError")
    assert await driver.poll_act(timeout=0.05) is None
    wf = await driver.poll_wf()
    assert wf is not None
    last = wf["history_events"][-1]
    assert last["event_type"] == "ActivityFailed"
    assert last["payload"]["message"] == "gave up" and last["payload"]["failure_category"] == "activity"
    assert last["payload"]["attempt_number"] == 3 and last["payload"]["sequence"] == 3
    types = await driver.types("wf-1", started["run_id"])
    assert types.count("ActivityRetryScheduled") == 2


async def test_non_retryable_failures_stop_retries(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(
        task,
        [
            activity("x", retry_policy={"max_attempts": 5, "non_retryable_error_types": ["Fatal"]}),
        ],
    )
    act = await driver.poll_act()
    assert act is not None
    await driver.fail_act(act, "no", type="Fatal")
    wf = await driver.poll_wf()
    assert wf is not None and wf["history_events"][-1]["event_type"] == "ActivityFailed"


async def test_no_policy_means_one_attempt(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    act = await driver.poll_act()
    assert act is not None
    body = await driver.fail_act(act, "once", type="ValueError")
    assert body["next_task_id"] is None
    wf = await driver.poll_wf()
    assert wf is not None and wf["history_events"][-1]["event_type"] == "ActivityFailed"
    payload = wf["history_events"][-1]["payload"]
    assert payload["exception_type"] == "ValueError" and payload["non_retryable"] is False


async def test_fail_workflow_and_side_effects(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(
        task,
        [
            {"type": "record_side_effect", "result": "AAQ0MgI="},
            {
                "type": "record_version_marker",
                "change_id": "c1",
                "version": 1,
                "min_supported": 0,
                "max_supported": 1,
            },
            {"type": "upsert_search_attributes", "attributes": {"Tier": "gold"}},
            {"type": "fail_workflow", "message": "nope", "exception_type": "ValueError"},
        ],
    )
    described = await driver.engine.describe_run(NS, "wf-1", started["run_id"])
    assert described["status"] == "failed" and described["status_bucket"] == "failed"
    assert described["search_attributes"] == {"Tier": "gold"}
    events = await driver.history("wf-1", started["run_id"])
    assert [e["event_type"] for e in events][2:] == [
        "SideEffectRecorded",
        "VersionMarkerRecorded",
        "SearchAttributesUpserted",
        "WorkflowFailed",
    ]
    assert [e["payload"].get("sequence") for e in events[2:5]] == [3, 4, 5]
    failed = events[-1]["payload"]
    assert failed["message"] == "nope" and failed["exception_type"] == "ValueError"
    assert failed["failure_category"] == "application" and failed["exception_class"] == "ValueError"


async def test_continue_as_new_starts_the_next_run(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [{"type": "continue_as_new", "arguments": codec.envelope([2])}])
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["run_id"] != started["run_id"] and described["run_number"] == 2
    assert described["input"] == [2]
    old = await driver.engine.describe_run(NS, "wf-1", started["run_id"])
    assert old["status"] == "completed" and old["closed_reason"] == "continued"
    nxt = await driver.poll_wf()
    assert nxt is not None and nxt["run_id"] == described["run_id"]
    assert nxt["history_events"][0]["payload"]["continued_from_run_id"] == started["run_id"]


async def test_step_resolved_while_a_task_is_leased_is_not_scheduled_again(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("greet", ["one"])])
    # A task delivered while the step is open (a signal, a repair) is leased...
    await _wake(driver.engine, started["run_id"])
    leased = await driver.poll_wf()
    assert leased is not None
    # ...and the step resolves before that worker answers: a fresh task is queued for it.
    act = await driver.poll_act()
    assert act is not None
    await driver.complete_act(act, "one")
    assert await _ready_tasks(driver.engine) == 1
    # The worker replayed a history where the step was open, so it re-sends it: not a new step.
    result = await driver.complete_wf(leased, [activity("greet", ["one"])])
    assert result["created_task_ids"] == []
    assert await _count(driver.engine, t.activity_executions) == 1
    # The next task sees the result; its `greet` is the genuinely new second step.
    task3 = await driver.poll_wf()
    assert task3 is not None
    assert task3["history_events"][-1]["event_type"] == "ActivityCompleted"
    result = await driver.complete_wf(task3, [activity("greet", ["two"])])
    assert len(result["created_task_ids"]) == 1
    assert await _count(driver.engine, t.activity_executions) == 2


async def test_fan_out_finished_while_a_task_is_leased_is_not_duplicated(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("a"), activity("b")])
    acts = [await driver.poll_act() for _ in range(2)]
    await driver.complete_act(acts[0], "A")  # type: ignore[arg-type]
    await _wake(driver.engine, started["run_id"])
    leased = await driver.poll_wf()
    assert leased is not None
    await driver.complete_act(acts[1], "B")  # type: ignore[arg-type]
    result = await driver.complete_wf(leased, [activity("a"), activity("b")])
    assert result["created_task_ids"] == []
    assert await _count(driver.engine, t.activity_executions) == 2
    task3 = await driver.poll_wf()
    assert task3 is not None
    await driver.complete_wf(task3, [complete(["A", "B"])])
    assert (await driver.engine.describe_run(NS, "wf-1", started["run_id"]))["status"] == "completed"
