"""Worker behaviour against an in-memory fake client (the unit seam)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from durable_workflow import activity, workflow
from durable_workflow.errors import InvalidArgument, NonRetryableError, ServerError
from durable_workflow.interceptors import ActivityInterceptorContext, PassthroughWorkerInterceptor
from durable_workflow.worker import Worker
from tests.helpers.worker_fakes import FakeClient


@activity.defn(name="greet")
async def greet(name: str) -> dict:
    return {"greeting": f"Hello, {name}!", "length": len(name)}


@workflow.defn(name="greeter")
class GreeterWorkflow:
    def run(self, ctx, *args):
        result = yield ctx.schedule_activity("greet", list(args))
        return result


def make_worker(client: FakeClient, **kwargs: Any) -> Worker:
    kwargs.setdefault("workflows", [GreeterWorkflow])
    kwargs.setdefault("activities", [greet])
    worker = Worker(client, task_queue="default", **kwargs)
    worker.poll_error_backoff = 0.01
    return worker


async def test_quickstart_runs_to_completion():
    client = FakeClient()
    client.start("greeter", "greeting-1", ["world"])
    worker = make_worker(client)
    execution = await worker.run_until(workflow_id="greeting-1", timeout=5.0, poll_interval=0.05)
    assert execution.status == "completed"
    assert execution.output == {"greeting": "Hello, world!", "length": 5}

    (registration,) = client.calls_to("register_worker")
    assert registration["task_queue"] == "default"
    assert registration["runtime"] == "python"
    assert registration["supported_workflow_types"] == ["greeter"]
    assert registration["supported_activity_types"] == ["greet"]
    assert registration["workflow_definition_fingerprints"]["greeter"].startswith("sha256:")
    assert registration["max_concurrent_workflow_tasks"] == 10
    assert registration["worker_id"].startswith("py-worker-")
    completions = client.calls_to("complete_workflow_task")
    assert [c["commands"][0]["type"] for c in completions] == ["schedule_activity", "complete_workflow"]
    assert completions[0]["lease_owner"] == worker.worker_id
    assert completions[0]["workflow_task_attempt"] == 1
    # Polls carry idempotency keys and the effective long-poll timeout (server hold 30 + 5).
    poll = client.calls_to("poll_workflow_task")[0]
    assert poll["poll_request_id"].startswith("wf-poll-") and poll["timeout"] == 35.0
    assert (
        client.metrics.counter(
            "durable_workflow_worker_tasks",
            {"task_kind": "workflow", "task_queue": "default", "outcome": "completed"},
        )
        == 2
    )
    assert (
        client.metrics.counter(
            "durable_workflow_worker_tasks",
            {"task_kind": "activity", "task_queue": "default", "outcome": "completed"},
        )
        == 1
    )
    assert client.metrics.counter("durable_workflow_worker_polls") >= 3
    assert client.metrics.observations("durable_workflow_worker_task_duration_seconds")


async def test_history_is_fetched_page_by_page():
    @workflow.defn(name="two-steps")
    class TwoSteps:
        def run(self, ctx, name):
            first = yield ctx.schedule_activity("greet", [name])
            yield ctx.start_timer(1)
            second = yield ctx.schedule_activity("greet", [name + "!"])
            return [first["length"], second["length"]]

    client = FakeClient(history_page_size=2)
    client.start("two-steps", "wf-paged", ["Ada"])
    worker = make_worker(client, workflows=[TwoSteps])
    execution = await worker.run_until(workflow_id="wf-paged", timeout=5.0, poll_interval=0.05)
    assert execution.output == [3, 4]
    assert client.calls_to("workflow_task_history")


async def test_run_until_times_out():
    client = FakeClient()
    client.start("greeter", "never", ["x"])
    worker = make_worker(client, activities=[])
    with pytest.raises(TimeoutError, match="never"):
        await worker.run_until(workflow_id="never", timeout=0.2, poll_interval=0.02)


async def test_unknown_workflow_type_fails_the_task():
    client = FakeClient()
    client.start("mystery", "wf-x", [])
    worker = make_worker(client)
    with pytest.raises(TimeoutError):
        await worker.run_until(workflow_id="wf-x", timeout=0.2, poll_interval=0.02)
    (failure,) = client.calls_to("fail_workflow_task")[:1]
    assert failure["failure_type"] == "UnknownWorkflowType"
    assert "mystery" in failure["message"]


async def test_non_deterministic_replay_fails_the_task():
    client = FakeClient()
    run = client.start("greeter", "wf-nd", ["x"])
    client._event(run, "TimerScheduled", {"sequence": 3, "delay_seconds": 5})
    worker = make_worker(client)
    with pytest.raises(TimeoutError):
        await worker.run_until(workflow_id="wf-nd", timeout=0.2, poll_interval=0.02)
    failure = client.calls_to("fail_workflow_task")[0]
    assert failure["failure_type"] == "NonDeterministicReplayError"
    assert failure["message"].startswith("replay failed: ")
    assert "schedule_activity 'greet'" in failure["message"]
    assert failure["stack_trace"]


async def _drive_one_workflow_task(client: FakeClient, worker: Worker) -> None:
    runner = asyncio.create_task(worker.run())
    # The task is over once it was completed or failed (a rejected completion is failed after).
    await client.until(
        lambda: client.metrics.counter("durable_workflow_worker_tasks", {"task_kind": "workflow"})
    )
    await worker.stop()
    await runner


async def test_definite_rejection_of_a_completion_fails_the_task():
    client = FakeClient()
    client.start("greeter", "wf-rej", ["x"])
    client.complete_workflow_error = InvalidArgument(
        "bad commands", status_code=422, reason="validation_failed"
    )
    worker = make_worker(client, activities=[])
    await _drive_one_workflow_task(client, worker)
    failure = client.calls_to("fail_workflow_task")[0]
    assert failure["message"].startswith("workflow task completion failed after commands were produced")


async def test_ambiguous_rejection_of_a_completion_is_dropped():
    client = FakeClient()
    client.start("greeter", "wf-amb", ["x"])
    client.complete_workflow_error = ServerError("lease gone", status_code=409, reason="lease_expired")
    worker = make_worker(client, activities=[])
    await _drive_one_workflow_task(client, worker)
    assert client.calls_to("fail_workflow_task") == []
    assert len(client.calls_to("complete_workflow_task")) == 1  # a definite answer is not retried


async def test_server_errors_on_completion_are_retried():
    client = FakeClient()
    client.start("greeter", "wf-5xx", ["x"])
    client.complete_workflow_error = ServerError("boom", status_code=503, reason="server_error")
    worker = make_worker(client, activities=[])
    await _drive_one_workflow_task(client, worker)
    assert len(client.calls_to("complete_workflow_task")) == 3
    assert client.calls_to("fail_workflow_task") == []


# ------------------------------------------------------------------ activities


async def _run_activities(client: FakeClient, worker: Worker, expected_outcomes: int) -> None:
    runner = asyncio.create_task(worker.run())
    await client.until(
        lambda: (
            len(client.calls_to("complete_activity_task") + client.calls_to("fail_activity_task"))
            >= expected_outcomes
        )
    )
    await worker.stop()
    await runner


async def test_activity_failure_kinds():
    @activity.defn(name="non_retryable")
    async def non_retryable() -> None:
        raise NonRetryableError("Missing required_field")

    @activity.defn(name="flaky")
    def flaky(x: int) -> None:  # sync activities run in a thread
        raise ValueError(f"bad {x}")

    client = FakeClient()
    client.add_activity_task("non_retryable", [])
    client.add_activity_task("flaky", [7])
    client.add_activity_task("nobody", [])
    worker = make_worker(client, workflows=[], activities=[non_retryable, flaky])
    await _run_activities(client, worker, 3)
    failures = {f["task_id"]: f for f in client.calls_to("fail_activity_task")}
    nr, fl, unknown = (failures[t] for t in ("at-1", "at-2", "at-3"))
    assert nr["non_retryable"] is True and nr["failure_type"] == "NonRetryableError"
    assert nr["message"] == "Missing required_field"
    assert fl["non_retryable"] is False and fl["failure_type"] == "ValueError" and fl["message"] == "bad 7"
    assert "ValueError" in fl["stack_trace"]
    assert unknown["message"] == "no activity registered for 'nobody'"
    assert unknown["non_retryable"] is False
    assert nr["activity_attempt_id"] == "att-at-1" and nr["lease_owner"] == worker.worker_id


async def test_activity_context_info_and_heartbeat_cancel():
    seen: dict[str, Any] = {}

    @activity.defn(name="long_running")
    async def long_running(items: list) -> dict:
        ctx = activity.context()
        seen["attempt"] = ctx.info.attempt_number
        seen["queue"] = ctx.info.task_queue
        seen["type"] = ctx.info.activity_type
        await ctx.heartbeat({"progress": 1})
        seen["cancelled_before"] = ctx.is_cancelled
        client.cancel_requested = True
        try:
            await ctx.heartbeat({"progress": 2})
        finally:
            seen["cancelled_after"] = ctx.is_cancelled
        return {"unreachable": True}

    client = FakeClient()
    client.add_activity_task("long_running", [[1, 2]])
    worker = make_worker(client, workflows=[], activities=[long_running])
    await _run_activities(client, worker, 1)
    assert seen == {
        "attempt": 1,
        "queue": "default",
        "type": "long_running",
        "cancelled_before": False,
        "cancelled_after": True,
    }
    (failure,) = client.calls_to("fail_activity_task")
    assert failure["failure_type"] == "ActivityCancelled"
    assert failure["non_retryable"] is True and failure["cancelled"] is True
    heartbeats = client.calls_to("heartbeat_activity_task")
    assert heartbeats[0]["details"] == {"progress": 1}
    assert heartbeats[0]["activity_attempt_id"] == "att-at-1"


def test_activity_context_outside_an_activity():
    with pytest.raises(RuntimeError):
        activity.context()


async def test_concurrency_bound_is_honoured_and_polls_wait_for_a_slot():
    release = asyncio.Event()
    running = 0
    peak = 0

    @activity.defn(name="slow")
    async def slow(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        client.notify()
        await release.wait()
        running -= 1
        return i

    client = FakeClient()
    for i in range(5):
        client.add_activity_task("slow", [i])
    worker = make_worker(client, workflows=[], activities=[slow], max_concurrent_activity_tasks=2)
    runner = asyncio.create_task(worker.run())
    await client.until(lambda: running == 2)
    # Nothing can signal a poll that must not happen: give a poller that wrongly polls without a
    # slot many turns of the loop to do so before looking.
    for _ in range(50):
        await asyncio.sleep(0)
    assert peak == 2
    # The poller takes a slot before it polls: with both slots busy it waits, so the third
    # poll has not been made, let alone a third task leased.
    assert len(client.calls_to("poll_activity_task")) == 2
    assert client.max_active_activity_leases == 2
    assert worker.task_slots["activity_available"] == 0
    release.set()
    await client.until_calls("complete_activity_task", count=5)
    await worker.stop()
    await runner
    assert sorted(c["result"] for c in client.calls_to("complete_activity_task")) == [0, 1, 2, 3, 4]
    assert peak == 2


async def test_stop_drains_in_flight_tasks():
    started = asyncio.Event()
    finish = asyncio.Event()

    @activity.defn(name="short")
    async def short() -> str:
        started.set()
        await finish.wait()
        return "done"

    client = FakeClient()
    client.add_activity_task("short", [])
    worker = make_worker(client, workflows=[], activities=[short])
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 2)
    stopping = asyncio.create_task(worker.stop())
    await asyncio.wait_for(worker._stop_requested.wait(), 2)
    assert client.calls_to("complete_activity_task") == []  # still in flight when the stop came
    finish.set()
    await asyncio.wait_for(stopping, 2)
    assert runner.done() or (await runner) is None
    assert [c["result"] for c in client.calls_to("complete_activity_task")] == ["done"]


async def test_stop_cancels_tasks_that_outlive_the_shutdown_timeout():
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @activity.defn(name="stuck")
    async def stuck() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    client = FakeClient()
    client.add_activity_task("stuck", [])
    worker = make_worker(client, workflows=[], activities=[stuck], shutdown_timeout=0.05)
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 2)
    await asyncio.wait_for(worker.stop(), 2)
    await runner
    assert cancelled.is_set()
    assert client.calls_to("complete_activity_task") == []


async def test_interceptors_wrap_in_order():
    order: list[str] = []

    class Recording(PassthroughWorkerInterceptor):
        def __init__(self, name: str) -> None:
            self.name = name

        async def execute_activity(self, context: ActivityInterceptorContext, next):
            order.append(f"{self.name}:in:{context.activity_type}:{context.args}")
            result = await next(context)
            order.append(f"{self.name}:out")
            return result

        async def execute_workflow_task(self, context, next):
            commands = await next(context)
            order.append(f"{self.name}:wf:{commands[0]['type']}")
            return commands

    client = FakeClient()
    client.start("greeter", "wf-int", ["Ada"])
    worker = make_worker(client, interceptors=[Recording("outer"), Recording("inner")])
    await worker.run_until(workflow_id="wf-int", timeout=5.0, poll_interval=0.05)
    assert order == [
        "inner:wf:schedule_activity",
        "outer:wf:schedule_activity",
        "outer:in:greet:['Ada']",
        "inner:in:greet:['Ada']",
        "inner:out",
        "outer:out",
        "inner:wf:complete_workflow",
        "outer:wf:complete_workflow",
    ]


async def test_incompatible_server_is_refused_before_registering():
    client = FakeClient(cluster_info={"control_plane": {"version": "1"}})
    worker = make_worker(client)
    with pytest.raises(RuntimeError, match="Server compatibility error"):
        await worker.run()
    assert client.calls_to("register_worker") == []


async def test_worker_heartbeats_report_slots(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="durable_workflow.worker")
    client = FakeClient()
    worker = make_worker(client, heartbeat_interval=0.02)
    runner = asyncio.create_task(worker.run())
    await client.until_calls("heartbeat_worker")
    await worker.stop()
    await runner
    beat = client.calls_to("heartbeat_worker")[0]
    assert beat["task_slots"] == {"workflow_available": 10, "activity_available": 10}
    assert beat["process_metrics"]["process_id"] > 0
    assert any("registered" in r.getMessage() for r in caplog.records)


def test_duplicate_registrations_are_rejected():
    with pytest.raises(ValueError):
        Worker(FakeClient(), task_queue="q", workflows=[GreeterWorkflow, GreeterWorkflow])
    with pytest.raises(ValueError):
        Worker(FakeClient(), task_queue="q", activities=[greet, greet])
