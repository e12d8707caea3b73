"""Child workflows in the engine: start, results and failures in the parent, retries with backoff,
parent-close policy, continue-as-new on either side, and SDK 0.4.84's re-sent commands.

A child's close reaches its parent through a due notice the background loop fires, so these
tests (loop off, time injected) call ``engine.tick()`` where the loop would run.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError, ValidationFailed
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, Driver, complete, timer
from tests.server.engine.test_engine_steps import _wake

CHILD_Q = "child-q"


def child(workflow_type: str = "kid", args: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "start_child_workflow",
        "workflow_type": workflow_type,
        "queue": CHILD_Q,
        "arguments": codec.envelope(args if args is not None else ["x"]),
        **extra,
    }


def fail(message: str = "child broke", exception_type: str = "ValueError") -> dict[str, Any]:
    return {"type": "fail_workflow", "message": message, "exception_type": exception_type}


async def _rows(engine: Engine, table: sa.Table) -> list[dict[str, Any]]:
    async with engine.store.read() as conn:
        return [dict(r) for r in (await conn.execute(sa.select(table))).mappings().all()]


class Family:
    """A parent on ``q1`` and its children on ``child-q``, driven by hand."""

    def __init__(self, driver: Driver) -> None:
        self.d = driver
        self.kids = Driver(driver.engine, queue=CHILD_Q, worker_id="w2")

    async def start_parent(self, commands: list[dict[str, Any]], workflow_id: str = "wf-1") -> str:
        await self.kids.register()
        started = await self.d.start(workflow_id=workflow_id)
        task = await self.d.poll_wf()
        assert task is not None
        await self.d.complete_wf(task, commands)
        return str(started["run_id"])

    async def child_task(self) -> dict[str, Any]:
        task = await self.kids.poll_wf()
        assert task is not None
        return task

    async def parent_events(self, run_id: str, workflow_id: str = "wf-1") -> list[dict[str, Any]]:
        return await self.d.history(workflow_id, run_id)


@pytest.fixture
def family(driver: Driver) -> Family:
    return Family(driver)


def _of(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in events if e["event_type"] == event_type]


async def test_child_starts_linked_and_its_result_resolves_the_parent(family: Family) -> None:
    engine = family.d.engine
    parent_run = await family.start_parent([child(args=[{"input": "data"}], parent_close_policy="terminate")])
    events = await family.parent_events(parent_run)
    assert [e["event_type"] for e in events][-2:] == ["ChildWorkflowScheduled", "ChildRunStarted"]
    scheduled = _of(events, "ChildWorkflowScheduled")[0]
    assert scheduled["sequence"] == 3 and scheduled["child_workflow_type"] == "kid"
    assert scheduled["parent_close_policy"] == "terminate"
    child_id = scheduled["child_workflow_instance_id"]
    assert child_id == "wf-1:run-1:child-3"
    assert (await engine.describe_workflow(NS, "wf-1"))["wait_kind"] == "child"

    task = await family.child_task()
    assert task["workflow_id"] == child_id and task["workflow_type"] == "kid"
    started = task["history_events"][0]
    assert [e["event_type"] for e in task["history_events"]] == ["WorkflowStarted"]
    assert started["payload"]["parent_workflow_instance_id"] == "wf-1"
    assert started["payload"]["parent_workflow_run_id"] == parent_run
    assert started["payload"]["parent_sequence"] == 3
    assert started["payload"]["workflow_link_id"] == scheduled["workflow_link_id"]
    described = await engine.describe_workflow(NS, child_id)
    assert described["parent_workflow_id"] == "wf-1" and described["parent_run_id"] == parent_run
    assert described["input"] == [{"input": "data"}] and described["task_queue"] == CHILD_Q

    await family.kids.complete_wf(task, [complete({"echo": "data"})])
    assert await family.d.poll_wf(timeout=0.05) is None  # the notice has not fired yet
    await engine.tick()
    resumed = await family.d.poll_wf()
    assert resumed is not None and resumed["run_id"] == parent_run
    done = resumed["history_events"][-1]
    assert done["event_type"] == "ChildRunCompleted"
    assert done["payload"]["sequence"] == 3 and done["payload"]["child_workflow_run_id"] == task["run_id"]
    assert codec.decode(done["payload"]["result"], done["payload"]["payload_codec"]) == {"echo": "data"}
    assert done["payload"]["output"] == done["payload"]["result"]
    [link] = await _rows(engine, t.child_links)
    assert link["status"] == "completed" and link["closed_at"] is not None
    await family.d.complete_wf(resumed, [complete("parent done")])
    # The child had closed: nothing to apply on the parent's close.
    assert _of(await family.parent_events(parent_run), "ParentClosePolicyApplied") == []
    await engine.tick()  # no stray notice or task left behind
    assert await family.d.poll_wf(timeout=0.05) is None


async def test_child_failure_resolves_the_parent_step_as_failed(family: Family) -> None:
    engine = family.d.engine
    parent_run = await family.start_parent([child()])
    task = await family.child_task()
    await family.kids.complete_wf(task, [fail("bad input", "ValidationError")])
    await engine.tick()
    resumed = await family.d.poll_wf()
    assert resumed is not None
    failed = resumed["history_events"][-1]
    assert failed["event_type"] == "ChildRunFailed"
    assert failed["payload"]["message"] == "bad input"
    assert failed["payload"]["exception_type"] == "ValidationError"
    assert failed["payload"]["failure_category"] == "child_workflow"
    assert failed["payload"]["child_status"] == "failed"
    child_events = await family.d.history(task["workflow_id"], task["run_id"])
    assert child_events[-1]["event_type"] == "WorkflowFailed"
    assert "ChildRunStarted" not in [e["event_type"] for e in await family.parent_events(parent_run)][4:]


async def test_failed_child_retries_after_its_backoff(family: Family, clock: Any) -> None:
    engine = family.d.engine
    policy = {"max_attempts": 3, "backoff_seconds": [5, 10]}
    parent_run = await family.start_parent([child(retry_policy=policy)])
    first = await family.child_task()
    await family.kids.complete_wf(first, [fail()])
    await engine.tick()
    assert await family.kids.poll_wf(timeout=0.05) is None  # backing off
    assert await family.d.poll_wf(timeout=0.05) is None  # the parent is not woken by a retry
    clock.advance(4)
    await engine.tick()
    assert await family.kids.poll_wf(timeout=0.05) is None
    clock.advance(1)
    await engine.tick()
    second = await family.child_task()
    assert second["workflow_id"] == first["workflow_id"] and second["run_id"] != first["run_id"]
    started = second["history_events"][0]["payload"]
    assert started["retry_attempt"] == 2 and started["retry_of_child_workflow_run_id"] == first["run_id"]
    retried = _of(await family.parent_events(parent_run), "ChildRunStarted")[-1]
    assert retried["retry_attempt"] == 2 and retried["retry_backoff_seconds"] == 5
    assert retried["retry_of_child_workflow_run_id"] == first["run_id"]
    assert retried["child_workflow_run_id"] == second["run_id"] and retried["child_run_number"] == 2
    # The second failure waits the second backoff; the third attempt succeeds.
    await family.kids.complete_wf(second, [fail()])
    await engine.tick()
    clock.advance(10)
    await engine.tick()
    third = await family.child_task()
    await family.kids.complete_wf(third, [complete("third time")])
    await engine.tick()
    resumed = await family.d.poll_wf()
    assert resumed is not None
    done = resumed["history_events"][-1]
    assert done["event_type"] == "ChildRunCompleted" and done["payload"]["child_run_number"] == 3
    runs = await engine.list_runs(NS, first["workflow_id"])
    assert [r["status"] for r in runs["runs"]] == ["failed", "failed", "completed"]


async def test_non_retryable_and_exhausted_failures_are_final(family: Family) -> None:
    engine = family.d.engine
    policy = {"max_attempts": 5, "backoff_seconds": [1], "non_retryable_error_types": ["ValidationError"]}
    await family.start_parent([child(retry_policy=policy)])
    task = await family.child_task()
    await family.kids.complete_wf(task, [fail("no", "ValidationError")])
    await engine.tick()
    resumed = await family.d.poll_wf()
    assert resumed is not None and resumed["history_events"][-1]["event_type"] == "ChildRunFailed"
    assert [tm["timer_kind"] for tm in await _rows(engine, t.timers)] == ["child_closed"]


async def test_resent_start_child_workflow_creates_one_child(family: Family) -> None:
    engine = family.d.engine
    parent_run = await family.start_parent([child("kid", ["a"])])
    # Any task delivered while the child runs (a signal, a repair) makes 0.4.84 re-send it.
    await _wake(engine, parent_run)
    task = await family.d.poll_wf()
    assert task is not None
    await family.d.complete_wf(task, [child("kid", ["a"])])
    assert len(await _rows(engine, t.child_links)) == 1
    assert len(await _rows(engine, t.workflow_instances)) == 2
    assert [e["event_type"] for e in await family.parent_events(parent_run)].count(
        "ChildWorkflowScheduled"
    ) == 1
    # A different step after the re-sent one is new.
    await _wake(engine, parent_run)
    task = await family.d.poll_wf()
    assert task is not None
    await family.d.complete_wf(task, [child("kid", ["a"]), child("other")])
    assert sorted(r["child_workflow_type"] for r in await _rows(engine, t.child_links)) == ["kid", "other"]


async def test_child_finished_while_the_parent_task_is_leased_is_not_started_again(family: Family) -> None:
    engine = family.d.engine
    parent_run = await family.start_parent([child()])
    await _wake(engine, parent_run)
    leased = await family.d.poll_wf()
    assert leased is not None
    kid = await family.child_task()
    await family.kids.complete_wf(kid, [complete(1)])
    await engine.tick()
    await family.d.complete_wf(leased, [child()])
    assert len(await _rows(engine, t.child_links)) == 1
    nxt = await family.d.poll_wf()
    assert nxt is not None and nxt["history_events"][-1]["event_type"] == "ChildRunCompleted"


@pytest.mark.parametrize(
    ("policy", "child_status", "closing_event"),
    [("terminate", "terminated", "WorkflowTerminated"), ("request_cancel", "cancelled", "WorkflowCancelled")],
)
async def test_parent_close_policy_closes_open_children(
    family: Family, policy: str, child_status: str, closing_event: str
) -> None:
    engine = family.d.engine
    await family.kids.register()
    started = await family.d.start()
    task = await family.d.poll_wf()
    assert task is not None
    # The child step and a timer: the parent fails while its child still runs.
    await family.d.complete_wf(task, [child(parent_close_policy=policy)])
    kid = await family.child_task()
    await _wake(engine, started["run_id"])
    task = await family.d.poll_wf()
    assert task is not None
    await family.d.complete_wf(task, [child(parent_close_policy=policy), fail("parent gave up")])
    described = await engine.describe_workflow(NS, kid["workflow_id"])
    assert described["status"] == child_status and described["closed_reason"] == child_status
    child_events = await family.d.history(kid["workflow_id"], kid["run_id"])
    assert [e["event_type"] for e in child_events][-1] == closing_event
    reason = "Parent workflow closed (failed); parent-close policy: " + policy + "."
    assert child_events[-1]["payload"]["reason"] == reason
    parent_events = await family.parent_events(started["run_id"])
    types = [e["event_type"] for e in parent_events]
    assert types[-2:] == ["WorkflowFailed", "ParentClosePolicyApplied"]
    applied = parent_events[-1]["payload"]
    assert applied["child_instance_id"] == kid["workflow_id"] and applied["child_run_id"] == kid["run_id"]
    assert applied["policy"] == policy and applied["reason"] == reason
    [link] = await _rows(engine, t.child_links)
    assert link["status"] == child_status
    # The child's late answer meets a closed run; the parent hears nothing more.
    with pytest.raises(DomainError) as closed:
        await family.kids.complete_wf(kid, [complete(1)])
    assert closed.value.reason == "run_closed"
    await engine.tick()
    assert [e["event_type"] for e in await family.parent_events(started["run_id"])] == types


async def test_abandoned_child_outlives_its_parent(family: Family) -> None:
    engine = family.d.engine
    await family.kids.register()
    started = await family.d.start()
    task = await family.d.poll_wf()
    assert task is not None
    await family.d.complete_wf(task, [child(), complete("parent first")])
    kid = await family.child_task()
    assert (await engine.describe_workflow(NS, kid["workflow_id"]))["status"] in ("pending", "running")
    parent_types = [e["event_type"] for e in await family.parent_events(started["run_id"])]
    assert "ParentClosePolicyApplied" not in parent_types
    await family.kids.complete_wf(kid, [complete("on my own")])
    await engine.tick()
    assert (await engine.describe_workflow(NS, kid["workflow_id"]))["status"] == "completed"
    assert [e["event_type"] for e in await family.parent_events(started["run_id"])] == parent_types
    [link] = await _rows(engine, t.child_links)
    assert link["status"] == "completed"


async def test_child_continue_as_new_relinks_and_the_last_run_resolves(family: Family) -> None:
    engine = family.d.engine
    parent_run = await family.start_parent([child()])
    kid = await family.child_task()
    await family.kids.complete_wf(kid, [{"type": "continue_as_new", "arguments": codec.envelope([2])}])
    await engine.tick()
    assert await family.d.poll_wf(timeout=0.05) is None  # continue-as-new does not resolve the step
    relinked = _of(await family.parent_events(parent_run), "ChildRunStarted")[-1]
    kid2 = await family.child_task()
    assert kid2["workflow_id"] == kid["workflow_id"] and kid2["run_id"] != kid["run_id"]
    assert relinked["child_workflow_run_id"] == kid2["run_id"] and relinked["child_run_number"] == 2
    assert kid2["history_events"][0]["payload"]["parent_workflow_run_id"] == parent_run
    assert (await engine.describe_workflow(NS, kid["workflow_id"]))["parent_run_id"] == parent_run
    await family.kids.complete_wf(kid2, [complete("second run")])
    await engine.tick()
    resumed = await family.d.poll_wf()
    assert resumed is not None
    done = resumed["history_events"][-1]
    assert (
        done["event_type"] == "ChildRunCompleted"
        and done["payload"]["child_workflow_run_id"] == kid2["run_id"]
    )


async def test_parent_continue_as_new_hands_its_children_to_the_final_run(family: Family) -> None:
    engine = family.d.engine
    await family.kids.register()
    started = await family.d.start()
    task = await family.d.poll_wf()
    assert task is not None
    await family.d.complete_wf(task, [child(parent_close_policy="terminate")])
    kid = await family.child_task()
    await _wake(engine, started["run_id"])
    task = await family.d.poll_wf()
    assert task is not None
    await family.d.complete_wf(task, [child(parent_close_policy="terminate"), {"type": "continue_as_new"}])
    # No policy on continue-as-new: the child keeps running.
    assert (await engine.describe_workflow(NS, kid["workflow_id"]))["status"] in ("pending", "running")
    second = await family.d.poll_wf()
    assert second is not None and second["run_id"] != started["run_id"]
    await family.d.complete_wf(second, [complete("final")])
    assert (await engine.describe_workflow(NS, kid["workflow_id"]))["status"] == "terminated"
    final_events = await family.parent_events(second["run_id"])
    assert final_events[-1]["event_type"] == "ParentClosePolicyApplied"
    assert final_events[-1]["payload"]["reason"].startswith("Parent workflow closed (completed)")


async def test_child_run_timeout_fails_the_step_with_a_timeout(family: Family, clock: Any) -> None:
    engine = family.d.engine
    parent_run = await family.start_parent([child(run_timeout_seconds=30, execution_timeout_seconds=600)])
    kid = await family.child_task()
    assert kid["history_events"][0]["payload"]["run_timeout_seconds"] == 30
    await family.kids.complete_wf(kid, [timer(120)])
    clock.advance(30)
    await engine.tick()  # times the child out, then fires the parent's notice
    await engine.tick()
    resumed = await family.d.poll_wf()
    assert resumed is not None and resumed["run_id"] == parent_run
    failed = resumed["history_events"][-1]
    assert failed["event_type"] == "ChildRunFailed" and failed["payload"]["failure_category"] == "timeout"
    [link] = await _rows(engine, t.child_links)
    assert link["status"] == "timed_out"


async def test_execution_timeout_caps_child_retries(family: Family, clock: Any) -> None:
    engine = family.d.engine
    policy = {"max_attempts": 5, "backoff_seconds": [70]}
    await family.start_parent([child(retry_policy=policy, execution_timeout_seconds=90)])
    first = await family.child_task()
    clock.advance(25)
    await family.kids.complete_wf(first, [fail()])
    await engine.tick()
    # 25 s + 70 s of backoff would end past the 90 s execution deadline: no retry.
    resumed = await family.d.poll_wf()
    assert resumed is not None and resumed["history_events"][-1]["event_type"] == "ChildRunFailed"


async def test_bad_start_child_workflow_commands_write_nothing(family: Family) -> None:
    engine = family.d.engine
    await family.kids.register()
    await family.d.start()
    task = await family.d.poll_wf()
    assert task is not None
    bad = [
        child(parent_close_policy="explode"),
        {"type": "start_child_workflow", "workflow_type": ""},
        child(run_timeout_seconds=0),
        child(retry_policy={"max_attempts": 0}),
    ]
    with pytest.raises(ValidationFailed) as info:
        await family.d.complete_wf(task, bad)
    assert set(info.value.errors) == {
        "commands.0.parent_close_policy",
        "commands.1.workflow_type",
        "commands.2.run_timeout_seconds",
        "commands.3.retry_policy.max_attempts",
    }
    assert await _rows(engine, t.child_links) == []
    assert len(await _rows(engine, t.workflow_instances)) == 1


async def test_cancelling_a_parent_while_its_child_backs_off_ends_the_retries(
    family: Family, clock: Any
) -> None:
    engine = family.d.engine
    policy = {"max_attempts": 3, "backoff_seconds": [60]}
    parent_run = await family.start_parent([child(retry_policy=policy, parent_close_policy="request_cancel")])
    kid = await family.child_task()
    await family.kids.complete_wf(kid, [fail()])
    await engine.tick()
    assert sorted((tm["timer_kind"], tm["status"]) for tm in await _rows(engine, t.timers)) == [
        ("child_closed", "fired"),
        ("child_retry", "pending"),
    ]
    await engine.cancel_workflow(NS, "wf-1", reason="no more")
    events = await family.parent_events(parent_run)
    types = [e["event_type"] for e in events]
    # The retry timer was never a step: no TimerCancelled for it, and no child run to cancel.
    assert types[-2:] == ["CancelRequested", "WorkflowCancelled"]
    assert "TimerCancelled" not in types
    assert sorted((tm["timer_kind"], tm["status"]) for tm in await _rows(engine, t.timers)) == [
        ("child_closed", "fired"),
        ("child_retry", "cancelled"),
    ]
    [link] = await _rows(engine, t.child_links)
    assert link["status"] == "failed"
    clock.advance(60)
    await engine.tick()
    assert await family.kids.poll_wf(timeout=0.05) is None
    runs = await engine.list_runs(NS, kid["workflow_id"])
    assert [r["status"] for r in runs["runs"]] == ["failed"]


async def test_a_child_run_past_its_run_timeout_is_retried(family: Family, clock: Any) -> None:
    engine = family.d.engine
    policy = {"max_attempts": 2, "backoff_seconds": [5]}
    parent_run = await family.start_parent([child(retry_policy=policy, run_timeout_seconds=20)])
    first = await family.child_task()
    await family.kids.complete_wf(first, [timer(120)])
    clock.advance(20)
    await engine.tick()  # the run times out; the parent's notice schedules the retry
    await engine.tick()
    assert await family.kids.poll_wf(timeout=0.05) is None
    clock.advance(5)
    await engine.tick()
    second = await family.child_task()
    assert second["run_id"] != first["run_id"]
    assert second["history_events"][0]["payload"]["run_timeout_seconds"] == 20  # a fresh run deadline
    await family.kids.complete_wf(second, [complete("in time")])
    await engine.tick()
    resumed = await family.d.poll_wf()
    assert resumed is not None and resumed["history_events"][-1]["event_type"] == "ChildRunCompleted"
    types = [e["event_type"] for e in await family.parent_events(parent_run)]
    assert types.count("ChildRunStarted") == 2 and "ChildRunFailed" not in types
