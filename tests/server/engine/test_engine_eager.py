"""Eager hand-outs (docs/protocol.md, "Fewer round trips"): tasks leased in the request that made them.

A workflow-task completion's activities (``eager_activity_slots``), an activity completion's next
workflow task (``eager_workflow_task``) and a start's first workflow task (``eager_worker_id``)
go to the named worker through the poll's claim, so its rules hold: one lease, fenced; cohorts,
pauses and held tasks respected; a worker that dies holding one loses it to liveness.
"""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow.protocol import codec
from durable_workflow.protocol.wire import ActivityTask
from durable_workflow_server.engine import shapes
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity, complete
from tests.server.engine.test_engine_answer_shapes import assert_sent_exactly, assert_within

LIVENESS = 15.0
TYPES: dict[str, Any] = {"supported_workflow_types": ["greeter"], "supported_activity_types": ["greet"]}


@pytest.fixture
async def engine(make_engine: EngineFactory) -> Engine:
    return await make_engine(worker_liveness_timeout_seconds=LIVENESS)


@pytest.fixture
async def driver(engine: Engine) -> Driver:
    d = Driver(engine)
    await d.register("w1", **TYPES)
    await d.register("w2", **TYPES)
    return d


async def _scheduled(driver: Driver, *commands: dict[str, Any], slots: int | None = 1) -> dict[str, Any]:
    """Start ``wf-1``, poll its first task as w1 and complete it with ``commands``."""
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    return await driver.complete_wf(task, list(commands or [activity()]), eager_activity_slots=slots)


# ---------------------------------------------------------------------- (a) eager activities


async def test_a_completion_hands_its_activity_to_the_completing_worker(driver: Driver) -> None:
    answer = await _scheduled(driver)
    (task,) = answer["eager_activity_tasks"]
    assert task["task_id"] == answer["created_task_ids"][0]
    assert task["lease_owner"] == "w1" and task["attempt_number"] == 1
    assert task["activity_type"] == "greet" and codec.decode_envelope(task["arguments"]) == ["Ada"]
    assert await driver.poll_act("w2", timeout=0.05) is None  # leased: nobody polls it again
    assert "ActivityStarted" in await driver.types("wf-1", answer["run_id"])
    assert (await driver.complete_act(task, "hi"))["outcome"] == "completed"


async def test_without_the_field_the_answer_is_the_old_one(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    answer = await driver.complete_wf(task, [activity()])
    assert set(answer) == {
        "task_id", "workflow_task_attempt", "outcome", "recorded", "run_id", "run_status",
        "created_task_ids", "reason",
    }  # fmt: skip
    assert await driver.poll_act("w1", timeout=0.05) is not None  # left for a poll


@pytest.mark.parametrize("slots", [0, 1])
async def test_no_more_than_the_declared_slots(driver: Driver, slots: int) -> None:
    answer = await _scheduled(driver, activity(), activity(), slots=slots)
    assert len(answer["eager_activity_tasks"]) == slots
    assert len(answer["created_task_ids"]) == 2
    polled = await driver.poll_act("w2", timeout=0.05)
    assert polled is not None and polled["task_id"] not in {
        t["task_id"] for t in answer["eager_activity_tasks"]
    }


async def test_only_activities_of_the_workers_queue_and_types(driver: Driver) -> None:
    answer = await _scheduled(driver, activity(queue="elsewhere"), activity("unknown"), slots=5)
    assert answer["eager_activity_tasks"] == []


async def test_a_drained_cohort_is_handed_nothing(engine: Engine, driver: Driver) -> None:
    await driver.register("wb", build_id="b1", **TYPES)
    await driver.start()
    task = await driver.poll_wf("wb")
    assert task is not None
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    answer = await driver.complete_wf(task, [activity()], eager_activity_slots=3)
    assert answer["eager_activity_tasks"] == []
    assert await driver.poll_act("w2", timeout=0.05) is not None


async def test_a_paused_run_is_handed_nothing(engine: Engine, driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    await engine.pause_workflow(NS, "wf-1")
    answer = await driver.complete_wf(task, [activity()], eager_activity_slots=3)
    assert answer["eager_activity_tasks"] == []
    assert await driver.poll_act("w2", timeout=0.05) is None  # held back until the resume
    await engine.resume_workflow(NS, "wf-1")
    assert await driver.poll_act("w2", timeout=0.05) is not None


async def test_an_unregistered_completer_is_handed_nothing(engine: Engine, driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    await engine.deregister_worker(NS, "w1")
    answer = await driver.complete_wf(task, [activity()], eager_activity_slots=3)
    assert answer["eager_activity_tasks"] == []


async def test_a_worker_that_dies_holding_an_eager_activity_loses_it(
    engine: Engine, driver: Driver, clock: FakeClock
) -> None:
    (handed,) = (await _scheduled(driver))["eager_activity_tasks"]
    for _ in range(4):  # w1 is silent from now on; w2 heartbeats
        clock.advance(5.0)
        await engine.heartbeat_worker(NS, "w2")
        await engine.tick()
    again = await driver.poll_act("w2", timeout=0.05)
    assert again is not None and again["task_id"] == handed["task_id"] and again["attempt_number"] == 2
    with pytest.raises(DomainError) as late:
        await driver.complete_act(handed, "late")
    assert late.value.reason == "stale_attempt"
    assert (await driver.complete_act(again, "ok"))["outcome"] == "completed"


async def test_an_eager_activity_is_held_by_its_worker_on_the_next_poll(driver: Driver) -> None:
    (handed,) = (await _scheduled(driver))["eager_activity_tasks"]
    engine = driver.engine
    kept = await engine.poll_activity_task(
        NS, worker_id="w1", task_queue="q1", build_id=None, timeout=0.05, held_task_ids=[handed["task_id"]]
    )
    assert kept is None
    assert (await driver.complete_act(handed, "ok"))["outcome"] == "completed"


# ---------------------------------------------------------------------- (b) next workflow task


async def _running_activity(driver: Driver) -> dict[str, Any]:
    (handed,) = (await _scheduled(driver))["eager_activity_tasks"]
    return handed


async def test_an_activity_completion_hands_back_the_next_workflow_task(driver: Driver) -> None:
    act = await _running_activity(driver)
    answer = await driver.complete_act(act, "hi", eager_workflow_task=True)
    task = answer["eager_workflow_task"]
    assert task is not None and task["lease_owner"] == "w1" and task["workflow_task_attempt"] == 1
    types = [e["event_type"] for e in task["history_events"]]
    assert types[-1] == "ActivityCompleted"
    assert await driver.poll_wf("w2", timeout=0.05) is None
    done = await driver.complete_wf(task, [complete("done")])
    assert done["run_status"] == "completed"


async def test_without_the_flag_the_activity_answer_is_the_old_one(driver: Driver) -> None:
    act = await _running_activity(driver)
    answer = await driver.complete_act(act, "hi")
    assert set(answer) == {"task_id", "activity_attempt_id", "outcome", "recorded", "reason", "next_task_id"}
    assert await driver.poll_wf("w2", timeout=0.05) is not None


async def test_no_workflow_task_while_the_run_still_waits(driver: Driver) -> None:
    answer = await _scheduled(driver, activity(), activity(), slots=2)
    first, second = answer["eager_activity_tasks"]
    assert (await driver.complete_act(first, 1, eager_workflow_task=True))["eager_workflow_task"] is None
    task = (await driver.complete_act(second, 2, eager_workflow_task=True))["eager_workflow_task"]
    assert task is not None


async def test_a_paused_run_hands_no_workflow_task(engine: Engine, driver: Driver) -> None:
    act = await _running_activity(driver)
    await engine.pause_workflow(NS, "wf-1")
    answer = await driver.complete_act(act, "hi", eager_workflow_task=True)
    assert answer["eager_workflow_task"] is None
    await engine.resume_workflow(NS, "wf-1")
    assert await driver.poll_wf("w2", timeout=0.05) is not None


async def test_a_run_pinned_to_another_build_is_not_handed(engine: Engine, driver: Driver) -> None:
    await driver.register("wb", build_id="b1", **TYPES)
    await engine.promote_task_queue_build_id(NS, "q1", "b1")
    await driver.start()
    task = await driver.poll_wf("wb")
    assert task is not None
    answer = await driver.complete_wf(task, [activity()], eager_activity_slots=1)
    (act,) = answer["eager_activity_tasks"]
    moved = await driver.complete_act(act, "x", eager_workflow_task=True)
    assert moved["eager_workflow_task"] is not None  # wb is of the pinned build: it may take it


async def test_an_unpinned_worker_does_not_get_a_pinned_runs_task(engine: Engine, driver: Driver) -> None:
    await driver.register("wb", build_id="b1", **TYPES)
    await engine.promote_task_queue_build_id(NS, "q1", "b1")
    await driver.start()
    task = await driver.poll_wf("wb")
    assert task is not None
    await driver.complete_wf(task, [activity()])
    act = await driver.poll_act("w1")  # any build may run the activity
    assert act is not None
    answer = await driver.complete_act(act, "x", eager_workflow_task=True)
    assert answer["eager_workflow_task"] is None  # w1 is not of the run's pinned build
    assert await driver.poll_wf("wb", timeout=0.05) is not None


async def test_a_worker_that_dies_holding_an_eager_workflow_task_loses_it(
    engine: Engine, driver: Driver, clock: FakeClock
) -> None:
    act = await _running_activity(driver)
    handed = (await driver.complete_act(act, "hi", eager_workflow_task=True))["eager_workflow_task"]
    assert handed is not None
    for _ in range(4):
        clock.advance(5.0)
        await engine.heartbeat_worker(NS, "w2")
        await engine.tick()
    again = await driver.poll_wf("w2", timeout=0.05)
    assert again is not None and again["task_id"] == handed["task_id"]
    assert again["workflow_task_attempt"] == 2
    with pytest.raises(DomainError):
        await driver.complete_wf(handed, [complete("late")])
    assert (await driver.complete_wf(again, [complete("ok")]))["run_status"] == "completed"


async def test_an_eager_workflow_task_counts_as_held_on_the_next_poll(engine: Engine, driver: Driver) -> None:
    act = await _running_activity(driver)
    handed = (await driver.complete_act(act, "hi", eager_workflow_task=True))["eager_workflow_task"]
    assert handed is not None
    kept = await engine.poll_workflow_task(
        NS,
        worker_id="w1",
        task_queue="q1",
        build_id=None,
        poll_request_id=None,
        history_page_size=None,
        timeout=0.05,
        held_task_ids=[handed["task_id"]],
    )
    assert kept is None
    assert (await driver.complete_wf(handed, [complete("ok")]))["run_status"] == "completed"


# ---------------------------------------------------------------------- (d) first task on start


async def test_a_start_hands_the_first_task_to_a_live_worker(driver: Driver) -> None:
    started = await driver.start(eager_worker_id="w1")
    task = started["eager_workflow_task"]
    assert task is not None and task["lease_owner"] == "w1" and task["run_id"] == started["run_id"]
    assert "WorkflowStarted" in [e["event_type"] for e in task["history_events"]]
    assert await driver.poll_wf("w2", timeout=0.05) is None
    assert (await driver.complete_wf(task, [complete("ok")]))["run_status"] == "completed"


async def test_an_eager_start_answers_the_status_the_claim_left(engine: Engine, driver: Driver) -> None:
    """The claim moves the run from pending to running: the answer says what the run now is."""
    started = await driver.start(eager_worker_id="w1")
    task = started["eager_workflow_task"]
    assert task is not None
    described = await engine.describe_workflow(NS, "wf-1")
    assert described["status"] == "running"
    assert started["status"] == task["run_status"] == described["status"]


async def test_a_start_not_handed_eagerly_answers_pending(engine: Engine, driver: Driver) -> None:
    started = await driver.start(eager_worker_id="nobody")
    assert started["eager_workflow_task"] is None
    assert started["status"] == (await engine.describe_workflow(NS, "wf-1"))["status"] == "pending"


async def test_a_start_without_the_field_answers_as_before(driver: Driver) -> None:
    started = await driver.start()
    assert "eager_workflow_task" not in started


@pytest.mark.parametrize("who", ["nobody", "other-queue", "silent"])
async def test_a_start_leases_to_no_unknown_or_silent_worker(
    engine: Engine, driver: Driver, clock: FakeClock, who: str
) -> None:
    await driver.register("other-queue", queue="q2", **TYPES)
    clock.advance(LIVENESS + 1)  # everyone silent ...
    await engine.heartbeat_worker(NS, "w2")
    await engine.heartbeat_worker(NS, "other-queue")  # ... but w2 and other-queue
    worker_id = {"nobody": "nobody", "other-queue": "other-queue", "silent": "w1"}[who]
    started = await driver.start(eager_worker_id=worker_id)
    assert started["eager_workflow_task"] is None
    assert await driver.poll_wf("w2", timeout=0.05) is not None  # left for a poll, not stranded


async def test_a_start_hands_nothing_to_a_drained_cohort(engine: Engine, driver: Driver) -> None:
    await driver.register("wb", build_id="b1", **TYPES)
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    assert (await driver.start(eager_worker_id="wb"))["eager_workflow_task"] is None


async def test_a_use_existing_start_hands_nothing(driver: Driver) -> None:
    await driver.start()
    again = await driver.start(eager_worker_id="w1", duplicate_policy="use-existing")
    assert again["outcome"] == "returned_existing_active" and "eager_workflow_task" not in again


async def test_a_worker_that_dies_holding_its_first_task_loses_it(
    engine: Engine, driver: Driver, clock: FakeClock
) -> None:
    handed = (await driver.start(eager_worker_id="w1"))["eager_workflow_task"]
    assert handed is not None
    for _ in range(4):
        clock.advance(5.0)
        await engine.heartbeat_worker(NS, "w2")
        await engine.tick()
    again = await driver.poll_wf("w2", timeout=0.05)
    assert again is not None and again["task_id"] == handed["task_id"]


async def test_eager_answers_match_their_types(driver: Driver) -> None:
    started = await driver.start(eager_worker_id="w1")
    # The plain start answer (whose task queue this server never sends) plus the task.
    assert_sent_exactly(
        {k: v for k, v in started.items() if k != "eager_workflow_task"}, shapes.StartWorkflowBody
    )
    assert set(started) - set(shapes.StartWorkflowBody.__annotations__) == {"eager_workflow_task"}
    first = started["eager_workflow_task"]
    assert first is not None
    assert_sent_exactly(first, shapes.WorkflowTaskBody)
    completed = await driver.complete_wf(first, [activity()], eager_activity_slots=1)
    assert_sent_exactly(completed, shapes.EagerWorkflowTaskCompletion)
    (act,) = completed["eager_activity_tasks"]
    assert_within(act, ActivityTask)
    answer = await driver.complete_act(act, "hi", eager_workflow_task=True)
    assert_sent_exactly(answer, shapes.EagerActivityCompletion)


@pytest.mark.parametrize("kind", ["workflow", "activity"])
async def test_a_poll_with_a_grace_keeps_a_fresh_lease_it_does_not_name_yet(
    engine: Engine, driver: Driver, clock: FakeClock, kind: str
) -> None:
    """A poll sent before the answer that handed a task arrived names held tasks without it."""
    act = await _running_activity(driver)
    wt = (await driver.complete_act(act, "hi", eager_workflow_task=True))["eager_workflow_task"]
    handed = (
        wt
        if kind == "workflow"
        else (await driver.complete_wf(wt, [activity()], eager_activity_slots=1))["eager_activity_tasks"][0]
    )

    async def poll() -> dict[str, Any] | None:
        common = {"worker_id": "w1", "task_queue": "q1", "build_id": None, "timeout": 0.05}
        grace = {"held_task_ids": [], "hand_back_grace_seconds": 5.0}
        if kind == "workflow":
            return await engine.poll_workflow_task(
                NS, poll_request_id=None, history_page_size=None, **common, **grace
            )
        return await engine.poll_activity_task(NS, **common, **grace)

    assert await poll() is None  # kept: leased a moment ago
    clock.advance(6.0)
    again = await poll()  # older than the grace and still not named: handed back, claimed anew
    assert again is not None and again["task_id"] == handed["task_id"]
