"""Eager hand-outs inserted already leased: the rows are exactly what a polled claim leaves.

An eager activity (a workflow-task completion with ``eager_activity_slots``) and an eager next
workflow task (an activity completion with ``eager_workflow_task``) go into their tables leased,
without the claim's candidate query and fenced update (``activities/eager.py``,
``workflow_tasks/eager.py``). Here the rows, the history and the answers they leave are compared
with a polled claim's at the same instant, column by column, and a worker that dies holding one
loses it exactly as it would a polled task: the lease runs out (or a deadline fires), the task
is redelivered to another worker and the attempt is counted once.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.signals.receiving import SignalRequest
from durable_workflow_server.store import tables as t
from tests.helpers.statements import StatementLog
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity, complete

TYPES: dict[str, Any] = {"supported_workflow_types": ["greeter"], "supported_activity_types": ["greet"]}
WT_LEASE, ACT_LEASE = 10.0, 30.0
# Columns naming this run's own rows (ids), not how the task was leased.
IDS = {
    "task_id", "run_id", "workflow_id", "activity_execution_id", "current_attempt_id", "attempt_id",
    "batch_id", "id", "business_key", "workflow_task_id", "payload",
}  # fmt: skip


@pytest.fixture
async def engine(make_engine: EngineFactory) -> Engine:
    # No liveness window: only the lease (or a deadline) can take a task from a silent worker.
    return await make_engine(
        worker_liveness_timeout_seconds=None,
        workflow_task_lease_seconds=WT_LEASE,
        activity_task_lease_seconds=ACT_LEASE,
    )


@pytest.fixture
async def driver(engine: Engine) -> Driver:
    d = Driver(engine)
    await d.register("w1", **TYPES)
    await d.register("w2", **TYPES)
    return d


async def _rows(engine: Engine, table: sa.Table, run_id: str) -> list[dict[str, Any]]:
    """``table``'s rows of ``run_id`` (through its execution for attempts), ids left out."""
    if table is t.activity_attempts:
        ae = t.activity_executions
        stmt = sa.select(table).join(ae, ae.c.activity_execution_id == table.c.activity_execution_id)
        stmt = stmt.where(ae.c.run_id == run_id)
    else:
        stmt = sa.select(table).where(table.c.run_id == run_id)
    async with engine.store.read() as conn:
        rows = await conn.fetch(stmt.order_by(*table.primary_key.columns))
    return sorted(
        ({k: v for k, v in row.items() if k not in IDS} for row in rows),
        key=lambda r: sorted(map(str, r.items())),
    )


async def _history(driver: Driver, workflow_id: str, run_id: str) -> list[tuple[str, set[str], Any]]:
    events = await driver.history(workflow_id, run_id)
    return [(e["event_type"], set(e["payload"]), e["payload"].get("attempt_number")) for e in events]


def _without_ids(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task.items() if k not in IDS and not k.endswith("_id") and k != "history_events"}


ACTIVITY = activity(
    start_to_close_timeout=40, heartbeat_timeout=20, schedule_to_close_timeout=100,
    retry_policy={"max_attempts": 3, "backoff_seconds": [1]},
)  # fmt: skip


async def _two_runs_with_activities(driver: Driver) -> tuple[dict[str, Any], dict[str, Any]]:
    """``eager``'s activity handed out by its completion, ``polled``'s claimed by a poll, at one instant."""
    await driver.start("eager")
    await driver.start("polled")
    first = await driver.poll_wf("w1")
    second = await driver.poll_wf("w1")
    assert first is not None and second is not None
    tasks = {first["workflow_id"]: first, second["workflow_id"]: second}
    engine = driver.engine
    with StatementLog(engine.store) as log, log.step("eager"):
        answer = await driver.complete_wf(tasks["eager"], [ACTIVITY], eager_activity_slots=1)
    callers = {entry.caller for entry in log.entries}
    # Inserted leased: no candidate query, no claim of the row just inserted.
    assert not {c for c in callers if c.startswith(("engine/queues:", "engine/activities/claims:"))}, callers
    (eager,) = answer["eager_activity_tasks"]
    await driver.complete_wf(tasks["polled"], [ACTIVITY])
    polled = await driver.poll_act("w1")
    assert polled is not None and polled["workflow_id"] == "polled"
    return eager, polled


async def test_an_eager_activity_is_leased_exactly_as_a_polled_claim_leases_it(driver: Driver) -> None:
    eager, polled = await _two_runs_with_activities(driver)
    assert _without_ids(eager) == _without_ids(polled)
    assert eager["lease_expires_at"] == "2026-03-01T12:00:40.000000Z"  # the lease runs to start-to-close
    assert eager["deadlines"] and eager["deadlines"] == polled["deadlines"]
    for table in (t.activity_tasks, t.activity_attempts, t.activity_executions):
        assert await _rows(driver.engine, table, eager["run_id"]) == await _rows(
            driver.engine, table, polled["run_id"]
        ), table.name
    assert await _history(driver, "eager", eager["run_id"]) == await _history(
        driver, "polled", polled["run_id"]
    )


async def _two_runs_with_next_tasks(driver: Driver) -> tuple[dict[str, Any], dict[str, Any]]:
    """``eager``'s next workflow task handed out by its activity's completion, ``polled``'s polled."""
    eager_act, polled_act = await _two_runs_with_activities(driver)
    engine = driver.engine
    with StatementLog(engine.store) as log, log.step("eager"):
        eager = (await driver.complete_act(eager_act, "hi", eager_workflow_task=True))["eager_workflow_task"]
    callers = {entry.caller for entry in log.entries}
    assert not {
        c
        for c in callers
        if c.startswith(
            ("engine/queues:", "engine/workflow_tasks/claims:lease", "engine/workflow_tasks/claims:try_run")
        )
    }
    assert eager is not None
    await driver.complete_act(polled_act, "hi")
    polled = await driver.poll_wf("w1")
    assert polled is not None and polled["workflow_id"] == "polled"
    return eager, polled


async def _assert_leased_alike(driver: Driver, eager: dict[str, Any], polled: dict[str, Any]) -> None:
    """The eager workflow task's answer, task row and run row equal the polled claim's."""
    assert _without_ids(eager) == _without_ids(polled)
    assert eager["workflow_task_attempt"] == 1 and eager["lease_expires_at"] == "2026-03-01T12:00:10.000000Z"
    assert [e["event_type"] for e in eager["history_events"]] == [
        e["event_type"] for e in polled["history_events"]
    ]
    for table in (t.workflow_tasks, t.workflow_runs):
        assert await _rows(driver.engine, table, eager["run_id"]) == await _rows(
            driver.engine, table, polled["run_id"]
        ), table.name


async def test_an_eager_workflow_task_is_leased_exactly_as_a_polled_claim_leases_it(driver: Driver) -> None:
    eager, polled = await _two_runs_with_next_tasks(driver)
    await _assert_leased_alike(driver, eager, polled)


# ---------------------------------------------------------------------- a worker that dies


async def test_a_pre_leased_activity_of_a_dead_worker_is_redelivered_when_its_lease_expires(
    driver: Driver, clock: FakeClock
) -> None:
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    answer = await driver.complete_wf(task, [activity()], eager_activity_slots=1)
    (handed,) = answer["eager_activity_tasks"]
    assert handed["lease_expires_at"] == "2026-03-01T12:00:30.000000Z"
    clock.advance(ACT_LEASE - 1)
    await driver.engine.tick()
    assert await driver.poll_act("w2", timeout=0.05) is None  # still leased to w1
    clock.advance(1)
    await driver.register("w2", **TYPES)  # w2 is alive; w1 has said nothing since
    await driver.engine.tick()
    again = await driver.poll_act("w2")
    assert again is not None and again["task_id"] == handed["task_id"]
    assert again["attempt_number"] == 2  # the handed attempt counted once
    with pytest.raises(DomainError) as late:
        await driver.complete_act(handed, "late")
    assert late.value.reason == "stale_attempt"
    assert (await driver.complete_act(again, "ok"))["outcome"] == "completed"
    starts = [
        e for e in await driver.history("wf-1", handed["run_id"]) if e["event_type"] == "ActivityStarted"
    ]
    assert [e["payload"]["attempt_number"] for e in starts] == [1, 2]
    (execution,) = await _rows(driver.engine, t.activity_executions, handed["run_id"])
    assert execution["attempt_count"] == 2 and execution["status"] == "completed"


async def test_a_pre_leased_activity_times_out_at_its_start_to_close_deadline(
    driver: Driver, clock: FakeClock
) -> None:
    """The deadline columns go in with the lease: the loop times the attempt out and retries it."""
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    command = activity(start_to_close_timeout=5, retry_policy={"max_attempts": 2, "backoff_seconds": [1]})
    (handed,) = (await driver.complete_wf(task, [command], eager_activity_slots=1))["eager_activity_tasks"]
    assert handed["lease_expires_at"] == "2026-03-01T12:00:30.000000Z"  # the lease outlasts the deadline
    clock.advance(5)
    await driver.engine.tick()
    retries = [
        e
        for e in await driver.history("wf-1", handed["run_id"])
        if e["event_type"] == "ActivityRetryScheduled"
    ]
    assert len(retries) == 1 and retries[0]["payload"]["timeout_kind"] == "start_to_close"
    clock.advance(1)
    await driver.register("w2", **TYPES)
    again = await driver.poll_act("w2")
    assert again is not None and again["attempt_number"] == 2


async def test_a_pre_leased_workflow_task_of_a_dead_worker_is_redelivered_when_its_lease_expires(
    driver: Driver, clock: FakeClock
) -> None:
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    (act,) = (await driver.complete_wf(task, [activity()], eager_activity_slots=1))["eager_activity_tasks"]
    handed = (await driver.complete_act(act, "hi", eager_workflow_task=True))["eager_workflow_task"]
    assert handed is not None and handed["workflow_task_attempt"] == 1
    assert handed["lease_expires_at"] == "2026-03-01T12:00:10.000000Z"
    clock.advance(WT_LEASE - 1)
    await driver.engine.tick()
    assert await driver.poll_wf("w2", timeout=0.05) is None  # still leased to w1
    clock.advance(1)
    await driver.register("w2", **TYPES)
    await driver.engine.tick()
    again = await driver.poll_wf("w2")
    assert again is not None and again["task_id"] == handed["task_id"]
    assert again["workflow_task_attempt"] == 2  # the handed lease counted once
    with pytest.raises(DomainError):
        await driver.complete_wf(handed, [complete("late")])
    assert (await driver.complete_wf(again, [complete("ok")]))["run_status"] == "completed"


async def test_a_closing_completion_hands_out_nothing_and_leaves_nothing_leased(driver: Driver) -> None:
    """A completion that also closes its run falls back to the claim, which finds the run closed."""
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    answer = await driver.complete_wf(task, [activity(), complete("done")], eager_activity_slots=1)
    assert answer["run_status"] == "completed" and answer["eager_activity_tasks"] == []
    assert all(
        row["status"] != "leased" for row in await _rows(driver.engine, t.activity_tasks, answer["run_id"])
    )
    assert await _rows(driver.engine, t.activity_attempts, answer["run_id"]) == []


async def test_a_task_queued_meanwhile_is_merged_into_not_leased_anew(driver: Driver) -> None:
    """A signal's task waits already: the completion queues none (merge rule), so it hands none."""
    await driver.start()
    task = await driver.poll_wf("w1")
    assert task is not None
    (act,) = (await driver.complete_wf(task, [activity()], eager_activity_slots=1))["eager_activity_tasks"]
    envelope = codec.envelope([])
    await driver.engine.signal_workflow(
        NS, SignalRequest("wf-1", "poke", envelope["codec"], envelope["blob"])
    )
    answer = await driver.complete_act(act, "hi", eager_workflow_task=True)
    assert answer["eager_workflow_task"] is None
    tasks = await _rows(driver.engine, t.workflow_tasks, act["run_id"])
    assert sorted(row["status"] for row in tasks) == ["completed", "ready"]
    polled = await driver.poll_wf("w2")
    assert polled is not None and polled["workflow_task_attempt"] == 1
    types = [e["event_type"] for e in polled["history_events"]]
    assert "ActivityCompleted" in types and "SignalReceived" in types


async def test_a_drained_cohort_is_handed_no_next_workflow_task(engine: Engine, driver: Driver) -> None:
    """The drain is read with the worker: nothing goes in leased, the task waits for a poll."""
    await driver.register("wb", build_id="b1", **TYPES)
    await driver.start()
    task = await driver.poll_wf("wb")
    assert task is not None
    (act,) = (await driver.complete_wf(task, [activity()], eager_activity_slots=1))["eager_activity_tasks"]
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    assert (await driver.complete_act(act, "hi", eager_workflow_task=True))["eager_workflow_task"] is None
    polled = await driver.poll_wf("w1")
    assert polled is not None and polled["workflow_task_attempt"] == 1


# ---------------------------------------------------------------------- a start's first task


async def _two_started_runs(driver: Driver) -> tuple[dict[str, Any], dict[str, Any]]:
    """``eager``'s first task handed out by its start, ``polled``'s claimed by a poll, at one instant."""
    engine = driver.engine
    with StatementLog(engine.store) as log, log.step("eager"):
        started = await driver.start("eager", eager_worker_id="w1")
    callers = {entry.caller for entry in log.entries}
    assert not {
        c
        for c in callers
        if c.startswith(
            ("engine/queues:", "engine/workflow_tasks/claims:lease", "engine/workflow_tasks/claims:try_run")
        )
    }
    eager = started["eager_workflow_task"]
    assert eager is not None and started["status"] == "running"
    await driver.start("polled")
    polled = await driver.poll_wf("w1")
    assert polled is not None and polled["workflow_id"] == "polled"
    return eager, polled


async def test_an_eager_start_task_is_leased_exactly_as_a_polled_claim_leases_it(driver: Driver) -> None:
    eager, polled = await _two_started_runs(driver)
    await _assert_leased_alike(driver, eager, polled)
    assert await _history(driver, "eager", eager["run_id"]) == await _history(
        driver, "polled", polled["run_id"]
    )


async def test_a_pre_leased_start_task_of_a_dead_worker_is_redelivered_when_its_lease_expires(
    driver: Driver, clock: FakeClock
) -> None:
    handed = (await driver.start(eager_worker_id="w1"))["eager_workflow_task"]
    assert handed is not None and handed["workflow_task_attempt"] == 1
    assert handed["lease_expires_at"] == "2026-03-01T12:00:10.000000Z"
    clock.advance(WT_LEASE - 1)
    await driver.engine.tick()
    assert await driver.poll_wf("w2", timeout=0.05) is None  # still leased to w1
    clock.advance(1)
    await driver.register("w2", **TYPES)
    await driver.engine.tick()
    again = await driver.poll_wf("w2")
    assert again is not None and again["task_id"] == handed["task_id"]
    assert again["workflow_task_attempt"] == 2  # the handed lease counted once
    with pytest.raises(DomainError):
        await driver.complete_wf(handed, [complete("late")])
    assert (await driver.complete_wf(again, [complete("ok")]))["run_status"] == "completed"


@pytest.mark.parametrize("who", ["other-type", "other-build", "drained"])
async def test_a_start_leases_nothing_the_claim_would_not(engine: Engine, driver: Driver, who: str) -> None:
    """A worker the claim would pass over gets no task, and nothing is left leased: a poll takes it."""
    if who == "other-type":
        await driver.register("wx", supported_workflow_types=["other"])
    elif who == "other-build":
        await driver.register("wx", build_id="b1", **TYPES)
        await driver.register("wp", build_id="b2", **TYPES)
        await engine.promote_task_queue_build_id(NS, "q1", "b2")
    else:
        await driver.register("wx", build_id="b1", **TYPES)
        await engine.drain_task_queue_build_id(NS, "q1", "b1")
    started = await driver.start(eager_worker_id="wx")
    assert started["eager_workflow_task"] is None and started["status"] == "pending"
    (task,) = await _rows(engine, t.workflow_tasks, started["run_id"])
    assert task["status"] == "ready" and task["lease_owner"] is None and task["attempt_count"] == 0
    polled = await driver.poll_wf("wp" if who == "other-build" else "w1")
    assert polled is not None and polled["workflow_task_attempt"] == 1
