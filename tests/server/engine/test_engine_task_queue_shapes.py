"""The task-queue, build-id and worker answers carry exactly the keys of their declared types."""

from __future__ import annotations

from durable_workflow_server.engine.task_queues import shapes
from tests.server.engine.engine_driver import NS, Driver, activity
from tests.server.engine.test_engine_answer_shapes import assert_sent_exactly


async def test_task_queue_and_worker_answers_match_their_types(driver: Driver) -> None:
    engine = driver.engine
    await driver.register(
        build_id="b1", supported_workflow_types=["greeter"], supported_activity_types=["greet"]
    )
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    assert await driver.poll_act() is not None
    await driver.start("wf-2")
    assert await driver.poll_wf() is not None
    await driver.start("wf-3")  # one ready task for the oldest-ready block

    described = await engine.describe_task_queue(NS, "q1")
    assert_sent_exactly(described, shapes.TaskQueueDescriptionBody)
    stats = described["stats"]
    assert_sent_exactly(stats, shapes.TaskQueueStats)
    assert stats["oldest_ready_task"] is not None
    assert_sent_exactly(stats["oldest_ready_task"], shapes.OldestReadyTask)
    assert_sent_exactly(stats["workflow_tasks"], shapes.TaskCounts)
    assert_sent_exactly(stats["pollers"], shapes.PollerCounts)
    assert_sent_exactly(described["repair"], shapes.TaskQueueRepair)
    assert_sent_exactly(described["repair"]["policy"], shapes.RepairPolicy)
    for kind in ("workflow_tasks", "activity_tasks"):
        assert_sent_exactly(described["admission"][kind], shapes.TaskAdmission)
    assert_sent_exactly(described["admission"]["query_tasks"], shapes.QueryAdmission)
    assert_sent_exactly(described["pollers"][0], shapes.TaskQueuePoller)
    leases = {lease["task_type"]: lease for lease in described["current_leases"]}
    assert_sent_exactly(leases["workflow"], shapes.WorkflowTaskLease)
    assert_sent_exactly(leases["activity"], shapes.ActivityTaskLease)

    listed = await engine.list_task_queues(NS)
    assert_sent_exactly(listed, shapes.TaskQueueListBody)
    assert_sent_exactly(listed["task_queues"][0], shapes.TaskQueueSummary)

    state = await engine.drain_task_queue_build_id(NS, "q1", "b1")
    assert_sent_exactly(state, shapes.BuildIdRolloutStateBody)
    rollout = await engine.list_task_queue_build_ids(NS, "q1")
    assert_sent_exactly(rollout, shapes.BuildIdRolloutBody)
    assert_sent_exactly(rollout["build_ids"][0], shapes.BuildIdCohortBody)

    workers = await engine.list_workers(NS)
    assert_sent_exactly(workers, shapes.WorkerListBody)
    assert_sent_exactly(workers["workers"][0], shapes.WorkerBody)
    worker = await engine.describe_worker(NS, "w1")
    assert_sent_exactly(worker, shapes.WorkerDescriptionBody)
    assert_sent_exactly(worker["admission"], shapes.WorkerAdmission)
    assert_sent_exactly(worker["admission"]["workflow_tasks"], shapes.WorkerTaskAdmission)
    assert_sent_exactly(await engine.deregister_worker(NS, "w1"), shapes.WorkerDeregisteredBody)
