"""An eager completion's fence reads the completing worker's registration with its task.

Both eager completion steps (a workflow task's ``eager_activity_slots``, an activity's
``eager_workflow_task``) read the worker in the fence's statement (``workers.rows.
EAGER_WORKER_COLUMNS``) instead of a second ``EAGER_WORKER`` read: the folded columns must be
exactly what that read returns, and an unknown, silent or drained worker is handed nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import postgresql

from durable_workflow.protocol import codec
from durable_workflow_server.engine.activities import rows as activity_rows
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.workers import rows as worker_rows
from durable_workflow_server.engine.workflow_tasks import rows as task_rows
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity

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
    await d.register("wb", build_id="b1", **TYPES)
    return d


async def _claimed_activity(driver: Driver, worker_id: str) -> dict[str, Any]:
    """Start ``wf-1``; ``worker_id`` polls its workflow task, schedules one activity, claims it."""
    await driver.start()
    task = await driver.poll_wf(worker_id)
    assert task is not None
    await driver.engine.complete_workflow_task(
        NS,
        task["task_id"],
        lease_owner=worker_id,
        workflow_task_attempt=task["workflow_task_attempt"],
        commands=[activity()],
    )
    act = await driver.poll_act(worker_id, timeout=0.05)
    assert act is not None
    return act


async def _complete_eagerly(driver: Driver, act: dict[str, Any]) -> dict[str, Any]:
    return await driver.engine.complete_activity_task(
        NS,
        act["task_id"],
        activity_attempt_id=act["activity_attempt_id"],
        lease_owner=act["lease_owner"],
        result=codec.envelope("hi"),
        eager_workflow_task=True,
    )


async def test_a_live_completer_is_handed_its_next_workflow_task(driver: Driver) -> None:
    act = await _claimed_activity(driver, "wb")
    handed = (await _complete_eagerly(driver, act))["eager_workflow_task"]
    assert handed is not None and handed["lease_owner"] == "wb"


@pytest.mark.parametrize("how", ["deregistered", "silent", "drained"])
async def test_an_activity_completer_not_fit_is_handed_no_workflow_task(
    engine: Engine, driver: Driver, clock: FakeClock, how: str
) -> None:
    act = await _claimed_activity(driver, "wb")
    if how == "deregistered":
        await engine.deregister_worker(NS, "wb")
    elif how == "silent":
        clock.advance(LIVENESS + 1)
        await engine.heartbeat_worker(NS, "w2")
    else:
        await engine.drain_task_queue_build_id(NS, "q1", "b1")
    answer = await _complete_eagerly(driver, act)
    assert answer["outcome"] == "completed" and answer["eager_workflow_task"] is None
    if how != "drained":
        assert await driver.poll_wf("w2", timeout=0.05) is not None  # left for a poll


@pytest.mark.parametrize("drained", [False, True])
@pytest.mark.parametrize("worker_id", ["wb", "w1", "nobody"])
async def test_the_folded_worker_columns_are_the_eager_worker_read(
    engine: Engine, driver: Driver, drained: bool, worker_id: str
) -> None:
    act = await _claimed_activity(driver, "wb")
    if drained:
        await engine.drain_task_queue_build_id(NS, "q1", "b1")
    async with engine._tx() as tx:
        expected = await tx.one(worker_rows.EAGER_WORKER, {"b_namespace": NS, "b_worker_id": worker_id})
        params = {
            "b_task_id": act["task_id"],
            "b_namespace": NS,
            "b_attempt_id": act["activity_attempt_id"],
            "b_worker_id": worker_id,
        }
        found = await tx.one(activity_rows.RUN_TASK_ATTEMPT_EXECUTION_WORKER, params)
        assert found is not None
        rest, worker = worker_rows.split_eager_worker(found)
        plain = await tx.one(activity_rows.RUN_TASK_ATTEMPT_EXECUTION, params)
        assert rest == plain  # the fence's own columns are untouched
    if worker_id == "nobody":
        assert expected is None and worker is None
    else:
        assert expected is not None and worker == dict(expected)
        assert bool(worker["cohort_draining"]) is (drained and worker_id == "wb")


async def test_the_workflow_fence_folds_the_same_worker_columns(engine: Engine, driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf("wb")
    assert task is not None
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    async with engine._tx() as tx:
        for worker_id in ("wb", "w1", "nobody"):
            params = {"b_task_id": task["task_id"], "b_namespace": NS}
            found = await tx.one(task_rows.TASK_AND_RUN_AND_WORKER_IN, {**params, "b_worker_id": worker_id})
            assert found is not None
            rest, worker = worker_rows.split_eager_worker(found)
            assert rest == await tx.one(task_rows.TASK_AND_RUN_IN, params)
            expected = await tx.one(worker_rows.EAGER_WORKER, {"b_namespace": NS, "b_worker_id": worker_id})
            assert worker == (dict(expected) if expected is not None else None)
            if worker is not None:
                assert bool(worker["cohort_draining"]) is (worker_id == "wb")


@pytest.mark.parametrize(
    ("statement", "locked"),
    [
        (task_rows.TASK_AND_RUN_AND_WORKER_IN, "workflow_runs, workflow_tasks"),
        (activity_rows.RUN_TASK_ATTEMPT_EXECUTION_WORKER, "workflow_runs, activity_tasks"),
    ],
)
def test_the_eager_fence_locks_the_run_and_task_only(statement: Any, locked: str) -> None:
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert sql.endswith(f"FOR UPDATE OF {locked}")  # the worker row is read, never locked
    assert "LEFT OUTER JOIN workers" in sql
