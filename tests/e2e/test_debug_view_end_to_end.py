"""The debug view against the real server and a real worker: a run on a timer, a run whose
activity keeps failing, a completed run (``Client.debug_workflow``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from durable_workflow import ActivityRetryPolicy, Client, Worker, activity, workflow
from durable_workflow.client import WorkflowDebugView

QUEUE = "debug-q"


@activity.defn(name="debug.charge")
async def charge(amount: int) -> int:
    raise RuntimeError(f"card declined for {amount}")


@workflow.defn(name="debug.napper")
class Napper:
    def run(self, ctx: Any) -> Any:
        yield ctx.sleep(3600)
        return "rested"


@workflow.defn(name="debug.charger")
class Charger:
    def run(self, ctx: Any) -> Any:
        # A long backoff: the failed attempt stays the latest while the test looks.
        policy = ActivityRetryPolicy(max_attempts=5, initial_interval_seconds=3600)
        return (yield ctx.schedule_activity("debug.charge", [42], retry_policy=policy))


@workflow.defn(name="debug.quick")
class Quick:
    def run(self, ctx: Any) -> Any:
        return "done"
        yield  # a generator workflow


async def _until(
    client: Client, workflow_id: str, ready: Callable[[WorkflowDebugView], bool]
) -> WorkflowDebugView:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30.0
    while True:
        view = await client.debug_workflow(workflow_id)
        if ready(view):
            return view
        assert loop.time() < deadline, f"{workflow_id} never got there: {view.raw}"
        await asyncio.sleep(0.02)


async def test_debug_views_of_a_timer_a_failing_activity_and_a_completed_run(client: Client) -> None:
    worker = Worker(client, task_queue=QUEUE, workflows=[Napper, Charger, Quick], activities=[charge])
    running = asyncio.create_task(worker.run())
    try:
        napping = await client.start_workflow(
            workflow_type="debug.napper", task_queue=QUEUE, workflow_id="nap-1"
        )
        await client.start_workflow(workflow_type="debug.charger", task_queue=QUEUE, workflow_id="charge-1")
        await client.start_workflow(workflow_type="debug.quick", task_queue=QUEUE, workflow_id="quick-1")

        nap = await _until(client, "nap-1", lambda v: v.wait_kind == "timer")
        assert nap.diagnostic_status == "waiting" and nap.findings == ()
        assert nap.run_id == napping.run_id and nap.workflow_type == "debug.napper"
        following = nap.raw["execution"]["next_scheduled_event"]
        assert following["kind"] == "timer" and following["fire_at"]
        assert nap.raw["task_queue"]["stats"]["pollers"]["active_count"] >= 1

        charging = await _until(client, "charge-1", lambda v: bool(v.raw["recent_failures"]))
        assert charging.diagnostic_status == "needs_attention"
        assert [finding.code for finding in charging.findings] == ["activity_retrying"]
        (failure,) = charging.raw["recent_failures"]
        assert failure["event_type"] == "ActivityRetryScheduled" and failure["retrying"] is True
        assert "card declined for 42" in failure["message"] and failure["activity_type"] == "debug.charge"
        (pending,) = charging.raw["pending_activities"]
        assert pending["attempt"] == 1 and pending["is_due"] is False

        quick = await _until(client, "quick-1", lambda v: v.is_terminal is True)
        assert quick.diagnostic_status == "terminal" and quick.status == "completed"
        with_payload = await client.debug_workflow(
            "quick-1", run_id=quick.run_id, include_last_event_payload=True
        )
        last = with_payload.raw["execution"]["last_event"]
        assert last["event_type"] == "WorkflowCompleted" and "payload" in last
    finally:
        await worker.stop()
        await asyncio.wait_for(running, 30)
