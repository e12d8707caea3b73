"""``ctx.wait_condition`` end to end: our real Worker opens the wait, a signal through our Client
satisfies it, and a wait with a timeout gives up on the server's timer."""

from __future__ import annotations

import asyncio
from typing import Any

from durable_workflow import Client, Worker, workflow


@workflow.defn(name="waits_for_approval")
class WaitsForApproval:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.signal("approve")
    def approve(self, by: str) -> None:
        self.approved_by = by

    def run(self, ctx: Any, timeout: float | None = None) -> Any:
        ok = yield ctx.wait_condition(lambda: self.approved_by is not None, key="approved", timeout=timeout)
        return {"ok": ok, "approved_by": self.approved_by}


async def history_types(client: Client, workflow_id: str, run_id: str) -> list[str]:
    page = await client.get_history(workflow_id, run_id, page_size=1000)
    return [e["event_type"] for e in page["events"]]


async def until_in_history(client: Client, workflow_id: str, run_id: str, event_type: str) -> None:
    """The server recorded ``event_type`` (the worker acted); polled with a deadline."""

    async def seen() -> None:
        while event_type not in await history_types(client, workflow_id, run_id):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(seen(), timeout=20.0)


async def test_a_workflow_waiting_on_a_condition_completes_when_the_signal_arrives(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="waits_for_approval", task_queue="waits-q", workflow_id="waits-1"
    )
    worker = Worker(client, task_queue="waits-q", workflows=[WaitsForApproval])
    driving = asyncio.create_task(worker.run_until(workflow_id="waits-1", timeout=30.0, poll_interval=0.05))
    try:
        await until_in_history(client, "waits-1", handle.run_id, "ConditionWaitOpened")
        described = await client.describe_workflow("waits-1")
        assert described.status == "waiting"
        await client.signal_workflow("waits-1", "approve", ["ada"])
        execution = await driving
    finally:
        driving.cancel()
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == {"ok": True, "approved_by": "ada"}
    types = await history_types(client, "waits-1", handle.run_id)
    assert types.count("ConditionWaitOpened") == 1
    opened_at = types.index("ConditionWaitOpened")
    assert types[opened_at:] == [
        "ConditionWaitOpened",
        "SignalReceived",
        "ConditionWaitSatisfied",
        "WorkflowCompleted",
    ]


async def test_a_wait_with_a_timeout_returns_false_when_it_times_out(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="waits_for_approval", task_queue="waits-timeout-q", workflow_id="waits-2", input=[1]
    )
    worker = Worker(client, task_queue="waits-timeout-q", workflows=[WaitsForApproval])
    execution = await worker.run_until(workflow_id="waits-2", timeout=30.0, poll_interval=0.05)
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == {"ok": False, "approved_by": None}
    page = await client.get_history("waits-2", handle.run_id, page_size=1000)
    events = page["events"]
    types = [e["event_type"] for e in events]
    assert types[types.index("ConditionWaitOpened") :] == [
        "ConditionWaitOpened",
        "TimerScheduled",
        "TimerFired",
        "ConditionWaitTimedOut",
        "WorkflowCompleted",
    ]
    fired = next(e["payload"] for e in events if e["event_type"] == "TimerFired")
    opened = next(e["payload"] for e in events if e["event_type"] == "ConditionWaitOpened")
    assert fired["timer_kind"] == "condition_timeout"
    assert fired["condition_wait_id"] == opened["condition_wait_id"]


@workflow.defn(name="waits_for_approval")
class WaitsForApprovalWithAlias(WaitsForApproval):
    """The next deployment of ``waits_for_approval``: it also handles the misspelt name."""

    @workflow.signal("aprove")
    def aprove(self, by: str) -> None:
        self.approved_by = by


async def test_a_signal_without_a_handler_fails_the_task_not_the_workflow(
    client: Client, caplog: Any
) -> None:
    handle = await client.start_workflow(
        workflow_type="waits_for_approval", task_queue="waits-typo-q", workflow_id="waits-3"
    )
    worker = Worker(client, task_queue="waits-typo-q", workflows=[WaitsForApproval])
    running = asyncio.create_task(worker.run())
    try:
        await until_in_history(client, "waits-3", handle.run_id, "ConditionWaitOpened")
        caplog.set_level("ERROR", logger="durable_workflow.worker")
        await client.signal_workflow("waits-3", "aprove", ["ada"])

        async def task_failed() -> None:
            while not any("'aprove'" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(task_failed(), timeout=20.0)
        message = next(r.getMessage() for r in caplog.records if "'aprove'" in r.getMessage())
        assert "no @workflow.signal('aprove') handler" in message
        assert "['approve']" in message
        assert (await client.describe_workflow("waits-3")).status in ("running", "waiting")
    finally:
        await worker.stop()
        await running
    # Code that handles the name picks the run up where it waited.
    fixed = Worker(client, task_queue="waits-typo-q", workflows=[WaitsForApprovalWithAlias])
    execution = await fixed.run_until(workflow_id="waits-3", timeout=30.0, poll_interval=0.05)
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == {"ok": True, "approved_by": "ada"}
