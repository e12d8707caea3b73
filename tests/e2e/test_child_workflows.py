"""Child workflows and continue-as-new end to end: the real server (SQLite and PostgreSQL) and
our real Worker, one per task queue.

Time is the server's injected clock wherever a test waits on a deadline or a backoff: the test
waits for the state that shows the server is waiting (a pending retry timer, a running child),
then moves the clock on; the background loop (sweeping every 20 ms) acts at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow import ChildWorkflowRetryPolicy, Client, ContinueAsNew, Worker, activity, workflow
from durable_workflow.errors import (
    ChildWorkflowCancelled,
    ChildWorkflowFailed,
    ChildWorkflowTerminated,
    WorkflowFailed,
    WorkflowTerminated,
)
from durable_workflow_server.store import tables as t
from tests.helpers.e2e_env import e2e_settings, running_app
from tests.server.conftest import FakeClock

calls: Counter[str] = Counter()


@workflow.defn(name="child-workflow-type")
class ChildWorkflowType:
    def run(self, ctx: Any, payload: dict[str, Any]) -> Any:
        shouted = yield ctx.schedule_activity("shout", [payload["input"]])
        return {"child_saw": shouted}


@workflow.defn(name="docs-parent")
class DocsParent:
    """The product docs' "Child Workflows" example, as written."""

    def run(self, ctx: Any) -> Any:
        result = yield ctx.start_child_workflow(
            "child-workflow-type",
            [{"input": "data"}],
            task_queue="child-queue",
            parent_close_policy="terminate",
            retry_policy=ChildWorkflowRetryPolicy(
                max_attempts=3,
                initial_interval_seconds=2,
                backoff_coefficient=2,
                non_retryable_error_types=["ValidationError"],
            ),
            execution_timeout_seconds=600,
            run_timeout_seconds=120,
        )
        return result


@activity.defn(name="shout")
async def shout(text: str) -> str:
    return text.upper()


@activity.defn(name="check")
async def check(key: str) -> str:
    calls[key] += 1
    if calls[key] == 1:
        raise ValueError(f"{key}: first attempt rejected")
    return f"{key}: ok on call {calls[key]}"


@workflow.defn(name="checking-child")
class CheckingChild:
    def run(self, ctx: Any, key: str) -> Any:
        verdict = yield ctx.schedule_activity("check", [key])
        return verdict


@workflow.defn(name="catching-parent")
class CatchingParent:
    def run(self, ctx: Any, key: str) -> Any:
        try:
            yield ctx.start_child_workflow("checking-child", [key], task_queue="child-queue")
        except ChildWorkflowFailed as failure:
            return {"caught": failure.message, "workflow_type": failure.workflow_type}
        return "unreachable: the child's only run fails"


@workflow.defn(name="retrying-parent")
class RetryingParent:
    def run(self, ctx: Any, key: str) -> Any:
        verdict = yield ctx.start_child_workflow(
            "checking-child",
            [key],
            task_queue="child-queue",
            retry_policy=ChildWorkflowRetryPolicy(max_attempts=2, initial_interval_seconds=30),
        )
        return verdict


@workflow.defn(name="sleepy-child")
class SleepyChild:
    def run(self, ctx: Any) -> Any:
        yield ctx.start_timer(seconds=3600)
        return "woke up"


@workflow.defn(name="policy-parent")
class PolicyParent:
    def run(self, ctx: Any, policy: str) -> Any:
        result = yield ctx.start_child_workflow(
            "sleepy-child", [], task_queue="child-queue", parent_close_policy=policy
        )
        return result


@workflow.defn(name="watching-parent")
class WatchingParent:
    def run(self, ctx: Any) -> Any:
        try:
            yield ctx.start_child_workflow(
                "sleepy-child", [], task_queue="child-queue", parent_close_policy="terminate"
            )
        except ChildWorkflowCancelled as failure:
            return {"child": "cancelled", "message": failure.message}
        except ChildWorkflowTerminated as failure:
            return {"child": "terminated", "message": failure.message}
        return "unreachable: the child sleeps an hour"


@workflow.defn(name="napping-child")
class NappingChild:
    def run(self, ctx: Any, name: str, nap: int) -> Any:
        if nap:
            yield ctx.start_timer(seconds=nap)
        return f"{name} after {nap}s"


@workflow.defn(name="fan-out-parent")
class FanOutParent:
    def run(self, ctx: Any) -> Any:
        results = yield [
            ctx.start_child_workflow("napping-child", ["slow", 600], task_queue="child-queue"),
            ctx.start_child_workflow("napping-child", ["quick", 0], task_queue="child-queue"),
        ]
        return results


@workflow.defn(name="counting-child")
class CountingChild:
    def run(self, ctx: Any, count: int) -> Any:
        if count < 2:
            return ContinueAsNew(arguments=[count + 1])
        yield ctx.start_timer(seconds=0)
        return {"final_count": count}


@workflow.defn(name="counting-parent")
class CountingParent:
    def run(self, ctx: Any) -> Any:
        result = yield ctx.start_child_workflow("counting-child", [0], task_queue="child-queue")
        return result


@activity.defn(name="poll_source")
async def poll_source() -> dict[str, Any]:
    calls["poll_source"] += 1
    return {"done": calls["poll_source"] >= 3, "polls": calls["poll_source"]}


@workflow.defn(name="polling-workflow")
class PollingWorkflow:
    """The product docs' "Continue-as-New" example, as written."""

    def run(self, ctx: Any, *args: Any) -> Any:
        iteration = args[0] if args else 0

        result = yield ctx.schedule_activity("poll_source", [])

        if result.get("done"):
            return result

        # Continue with incremented iteration
        return ContinueAsNew(arguments=[iteration + 1])


WORKFLOWS = [
    DocsParent,
    CatchingParent,
    RetryingParent,
    PolicyParent,
    WatchingParent,
    FanOutParent,
    CountingParent,
    PollingWorkflow,
]
CHILDREN = [ChildWorkflowType, CheckingChild, SleepyChild, NappingChild, CountingChild]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(database_url: str, clock: FakeClock) -> AsyncIterator[Any]:
    async with running_app(e2e_settings(database_url, clock=clock)) as started:
        yield started


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    calls.clear()


@asynccontextmanager
async def child_queue_worker(client: Client) -> AsyncIterator[Worker]:
    """A worker on ``child-queue`` running in the background for the test's duration."""
    worker = Worker(client, task_queue="child-queue", workflows=CHILDREN, activities=[shout, check])
    running = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop()
        await running


def parent_worker(client: Client) -> Worker:
    return Worker(client, task_queue="parents", workflows=WORKFLOWS, activities=[poll_source])


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    """Poll an observable condition of the server with a deadline (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def types_of(client: Client, workflow_id: str, run_id: str) -> list[str]:
    return [e["event_type"] for e in (await client.get_history(workflow_id, run_id))["events"]]


async def payloads_of(client: Client, workflow_id: str, run_id: str, event_type: str) -> list[dict[str, Any]]:
    events = (await client.get_history(workflow_id, run_id))["events"]
    return [e["payload"] for e in events if e["event_type"] == event_type]


async def test_docs_child_workflow_example_returns_the_childs_result(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="docs-parent", task_queue="parents", workflow_id="docs-child"
    )
    async with child_queue_worker(client):
        execution = await parent_worker(client).run_until(
            workflow_id="docs-child", timeout=30.0, poll_interval=0.05
        )
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == {"child_saw": "DATA"}

    parent_types = await types_of(client, "docs-child", str(handle.run_id))
    assert parent_types.index("ChildWorkflowScheduled") < parent_types.index("ChildRunStarted")
    assert parent_types.index("ChildRunStarted") < parent_types.index("ChildRunCompleted")
    [scheduled] = await payloads_of(client, "docs-child", str(handle.run_id), "ChildWorkflowScheduled")
    assert scheduled["parent_close_policy"] == "terminate"
    assert scheduled["retry_policy"] == {
        "max_attempts": 3,
        "backoff_seconds": [2, 4],
        "non_retryable_error_types": ["ValidationError"],
    }
    assert scheduled["timeout_policy"] == {"execution_timeout_seconds": 600, "run_timeout_seconds": 120}
    child_id = scheduled["child_workflow_instance_id"]
    child = await client.describe_workflow(child_id)
    assert child.status == "completed" and child.task_queue == "child-queue"
    assert child.parent_workflow_id == "docs-child" and child.parent_run_id == handle.run_id
    assert child.raw["run_timeout_seconds"] == 120 and child.raw["execution_timeout_seconds"] == 600
    child_history = await client.get_history(child_id, str(child.run_id))
    started = child_history["events"][0]
    assert started["event_type"] == "WorkflowStarted"
    assert started["payload"]["parent_workflow_instance_id"] == "docs-child"
    assert started["payload"]["workflow_link_id"] == scheduled["workflow_link_id"]
    assert [e["event_type"] for e in child_history["events"]][-1] == "WorkflowCompleted"


async def test_child_failure_is_thrown_into_the_parent(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="catching-parent", task_queue="parents", workflow_id="child-fails", input=["once"]
    )
    async with child_queue_worker(client):
        await parent_worker(client).run_until(workflow_id="child-fails", timeout=30.0, poll_interval=0.05)
    result = await handle.result(timeout=5.0)
    assert result == {"caught": "once: first attempt rejected", "workflow_type": "checking-child"}
    [failed] = await payloads_of(client, "child-fails", str(handle.run_id), "ChildRunFailed")
    assert failed["message"] == "once: first attempt rejected"
    assert failed["exception_type"] == "ActivityFailed" and failed["failure_category"] == "child_workflow"
    child_id = failed["child_workflow_instance_id"]
    child = await client.describe_workflow(child_id)
    assert child.status == "failed"
    child_types = await types_of(client, child_id, str(child.run_id))
    assert child_types[-2:] == ["ActivityFailed", "WorkflowFailed"]
    assert calls["once"] == 1  # one child run: no retry policy means one attempt


async def test_failed_child_run_is_retried_after_its_backoff(
    client: Client, app: Any, clock: FakeClock
) -> None:
    handle = await client.start_workflow(
        workflow_type="retrying-parent", task_queue="parents", workflow_id="child-retries", input=["twice"]
    )

    async def retry_pending() -> bool:
        async with app.state.engine.store.read() as conn:
            stmt = sa.select(t.timers.c.fire_at).where(
                t.timers.c.timer_kind == "child_retry", t.timers.c.status == "pending"
            )
            return (await conn.execute(stmt)).first() is not None

    async with child_queue_worker(client):
        parents = parent_worker(client)
        driving = asyncio.create_task(
            parents.run_until(workflow_id="child-retries", timeout=30.0, poll_interval=0.05)
        )
        await eventually(retry_pending, "the child retry timer")
        [started] = await payloads_of(client, "child-retries", str(handle.run_id), "ChildRunStarted")
        child_id = started["child_workflow_instance_id"]
        runs = await client.list_workflow_runs(child_id)
        assert [r.status for r in runs] == ["failed"]  # waiting out the 30 s backoff
        clock.advance(30)
        execution = await driving
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == "twice: ok on call 2"
    runs = await client.list_workflow_runs(child_id)
    assert [r.status for r in runs] == ["failed", "completed"]
    retried = (await payloads_of(client, "child-retries", str(handle.run_id), "ChildRunStarted"))[-1]
    assert retried["retry_attempt"] == 2 and retried["retry_backoff_seconds"] == 30
    assert retried["retry_of_child_workflow_run_id"] == runs.runs[0].run_id
    parent_types = await types_of(client, "child-retries", str(handle.run_id))
    assert "ChildRunFailed" not in parent_types and parent_types.count("ChildRunCompleted") == 1


@pytest.mark.parametrize(
    ("policy", "child_status"),
    [("terminate", "terminated"), ("request_cancel", "cancelled"), ("abandon", None)],
)
async def test_parent_close_policy_applies_when_the_parent_times_out(
    client: Client, clock: FakeClock, policy: str, child_status: str | None
) -> None:
    workflow_id = f"policy-{policy}"
    handle = await client.start_workflow(
        workflow_type="policy-parent",
        task_queue="parents",
        workflow_id=workflow_id,
        input=[policy],
        run_timeout_seconds=60,
    )
    async with child_queue_worker(client):
        parents = parent_worker(client)
        driving = asyncio.create_task(
            parents.run_until(workflow_id=workflow_id, timeout=30.0, poll_interval=0.05)
        )
        child_id = f"{workflow_id}:run-1:child-3"

        await eventually(lambda: _child_sleeping(client, child_id), "the child's timer")
        clock.advance(60)  # the parent's run timeout, long before the child's hour-long timer
        execution = await driving
        assert execution.status == "failed"
        with pytest.raises(WorkflowFailed):
            await handle.result(timeout=5.0)
        child = await client.describe_workflow(child_id)
        parent_events = (await client.get_history(workflow_id, str(handle.run_id)))["events"]
        applied = [e["payload"] for e in parent_events if e["event_type"] == "ParentClosePolicyApplied"]
        if child_status is None:
            assert child.status in ("pending", "running", "waiting")
            assert applied == []
            clock.advance(3600)  # the abandoned child goes on and finishes on its own

            async def child_done() -> bool:
                return (await client.describe_workflow(child_id)).status == "completed"

            await eventually(child_done, "the abandoned child to finish")
            later = (await client.get_history(workflow_id, str(handle.run_id)))["events"]
            assert [e["event_type"] for e in later] == [e["event_type"] for e in parent_events]
            return
    assert child.status == child_status
    assert [e["event_type"] for e in parent_events][-2:] == ["WorkflowTimedOut", "ParentClosePolicyApplied"]
    assert applied[0]["policy"] == policy and applied[0]["child_instance_id"] == child_id
    assert applied[0]["reason"] == f"Parent workflow closed (timed_out); parent-close policy: {policy}."
    child_types = await types_of(client, child_id, str(child.run_id))
    assert child_types[-1] == ("WorkflowTerminated" if policy == "terminate" else "WorkflowCancelled")


async def test_docs_polling_workflow_continues_as_new_until_done(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="polling-workflow", task_queue="parents", workflow_id="polling"
    )
    execution = await parent_worker(client).run_until(workflow_id="polling", timeout=30.0, poll_interval=0.05)
    assert execution.status == "completed" and execution.run_number == 3
    # The handle was made for the first run; its result follows the chain to the last one.
    assert await handle.result(timeout=5.0) == {"done": True, "polls": 3}
    runs = await client.list_workflow_runs("polling")
    assert [r.run_number for r in runs] == [1, 2, 3]
    assert [r.status for r in runs] == ["completed", "completed", "completed"]
    assert [r.is_current_run for r in runs] == [False, False, True]
    first, second, third = runs.runs
    assert first.run_id == handle.run_id
    old = await client.get_history("polling", str(first.run_id))
    assert old["events"][-1]["event_type"] == "WorkflowContinuedAsNew"
    assert old["events"][-1]["payload"]["continued_to_run_id"] == second.run_id
    described_first = await client.describe_workflow_run("polling", str(first.run_id))
    assert described_first.closed_reason == "continued"
    newer = await client.get_history("polling", str(third.run_id))
    assert newer["events"][0]["event_type"] == "WorkflowStarted"
    assert newer["events"][0]["payload"]["continued_from_run_id"] == second.run_id
    assert (await client.describe_workflow("polling")).input == [2]


async def _child_sleeping(client: Client, child_id: str) -> bool:
    try:
        described = await client.describe_workflow(child_id)
    except Exception:
        return False
    return "TimerScheduled" in await types_of(client, child_id, str(described.run_id))


@pytest.mark.parametrize("kind", ["cancel", "terminate"])
async def test_cancelling_or_terminating_a_child_is_thrown_into_the_parent(client: Client, kind: str) -> None:
    workflow_id = f"watch-{kind}"
    handle = await client.start_workflow(
        workflow_type="watching-parent", task_queue="parents", workflow_id=workflow_id
    )
    child_id = f"{workflow_id}:run-1:child-3"
    async with child_queue_worker(client):
        driving = asyncio.create_task(
            parent_worker(client).run_until(workflow_id=workflow_id, timeout=30.0, poll_interval=0.05)
        )
        await eventually(lambda: _child_sleeping(client, child_id), "the child's timer")
        if kind == "cancel":
            await client.cancel_workflow(child_id, reason="not needed")
        else:
            await client.terminate_workflow(child_id, reason="not needed")
        execution = await driving
    assert execution.status == "completed"
    verb = "cancelled" if kind == "cancel" else "terminated"
    assert await handle.result(timeout=5.0) == {"child": verb, "message": f"Workflow {verb}: not needed"}
    resolution = "ChildRunCancelled" if kind == "cancel" else "ChildRunTerminated"
    [closed] = await payloads_of(client, workflow_id, str(handle.run_id), resolution)
    assert closed["failure_category"] == verb and closed["child_status"] == verb


async def test_terminating_the_parent_applies_its_policy_to_the_child(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="watching-parent", task_queue="parents", workflow_id="parent-terminated"
    )
    child_id = "parent-terminated:run-1:child-3"
    async with child_queue_worker(client):
        driving = asyncio.create_task(
            parent_worker(client).run_until(workflow_id="parent-terminated", timeout=30.0, poll_interval=0.05)
        )
        await eventually(lambda: _child_sleeping(client, child_id), "the child's timer")
        await client.terminate_workflow("parent-terminated", reason="operator")
        execution = await driving
    assert execution.status == "terminated"
    with pytest.raises(WorkflowTerminated):
        await handle.result(timeout=5.0)
    child = await client.describe_workflow(child_id)
    assert child.status == "terminated"
    [applied] = await payloads_of(client, "parent-terminated", str(handle.run_id), "ParentClosePolicyApplied")
    assert applied["policy"] == "terminate"
    assert applied["reason"] == "Parent workflow closed (terminated); parent-close policy: terminate."


async def test_a_fan_out_of_children_keeps_the_order_of_the_code(client: Client, clock: FakeClock) -> None:
    handle = await client.start_workflow(
        workflow_type="fan-out-parent", task_queue="parents", workflow_id="fan-kids"
    )
    quick, slow = "fan-kids:run-1:child-4", "fan-kids:run-1:child-3"
    async with child_queue_worker(client):
        driving = asyncio.create_task(
            parent_worker(client).run_until(workflow_id="fan-kids", timeout=30.0, poll_interval=0.05)
        )

        async def quick_done_slow_sleeping() -> bool:
            parent_types = await types_of(client, "fan-kids", str(handle.run_id))
            return "ChildRunCompleted" in parent_types and await _child_sleeping(client, slow)

        await eventually(quick_done_slow_sleeping, "the quick child to finish first")
        parent = await client.describe_workflow("fan-kids")
        # The parent's describe names the child it still waits on (the quick one is resolved).
        assert [c.child_workflow_id for c in parent.waiting_on.children] == [slow]
        clock.advance(600)
        execution = await driving
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == ["slow after 600s", "quick after 0s"]
    types = await types_of(client, "fan-kids", str(handle.run_id))
    resolved = await payloads_of(client, "fan-kids", str(handle.run_id), "ChildRunCompleted")
    assert [p["child_workflow_instance_id"] for p in resolved] == [quick, slow]  # history: completion order
    assert types.count("ChildWorkflowScheduled") == 2


async def test_a_child_that_continues_as_new_resolves_the_parent_with_its_last_run(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="counting-parent", task_queue="parents", workflow_id="counting"
    )
    async with child_queue_worker(client):
        execution = await parent_worker(client).run_until(
            workflow_id="counting", timeout=30.0, poll_interval=0.05
        )
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == {"final_count": 2}
    child_id = "counting:run-1:child-3"
    runs = await client.list_workflow_runs(child_id)
    assert [r.status for r in runs] == ["completed", "completed", "completed"]
    assert [r.is_current_run for r in runs] == [False, False, True]
    started = await payloads_of(client, "counting", str(handle.run_id), "ChildRunStarted")
    assert [p["child_workflow_run_id"] for p in started] == [r.run_id for r in runs]
    [done] = await payloads_of(client, "counting", str(handle.run_id), "ChildRunCompleted")
    assert done["child_workflow_run_id"] == runs.runs[-1].run_id and done["child_run_number"] == 3
    last = await client.describe_workflow(child_id)
    assert last.parent_workflow_id == "counting" and last.parent_run_id == handle.run_id
