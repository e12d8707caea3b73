"""Signals end to end: our Client sends them, the real server records them, our real Worker
delivers them to ``@workflow.signal`` handlers (and fails the task for a name it has no handler
for)."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import SignalFailed, WorkflowNotFound


@activity.defn(name="signals_noop")
async def noop() -> str:
    return "done"


@workflow.defn(name="collects_signals")
class CollectsSignals:
    def __init__(self) -> None:
        self.received: list[Any] = []

    @workflow.signal("add")
    def add(self, value: Any, note: str = "") -> None:
        self.received.append([value, note])

    def run(self, ctx: Any) -> Any:
        yield ctx.schedule_activity("signals_noop", [])
        return self.received


async def test_signals_reach_their_handler_in_history_order(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="collects_signals", task_queue="signals-q", workflow_id="signals-1"
    )
    await client.signal_workflow("signals-1", "add", [1, "first"])
    await client.signal_workflow("signals-1", "add", [{"two": 2}], request_id="req-2")
    await client.signal_workflow("signals-1", "add", [{"two": 2}], request_id="req-2")  # a retry
    worker = Worker(client, task_queue="signals-q", workflows=[CollectsSignals], activities=[noop])
    execution = await worker.run_until(workflow_id="signals-1", timeout=30.0, poll_interval=0.05)
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == [[1, "first"], [{"two": 2}, ""]]

    history = await client.get_history("signals-1", handle.run_id)
    received = [e["payload"] for e in history["events"] if e["event_type"] == "SignalReceived"]
    assert [p["signal_name"] for p in received] == ["add", "add"]
    assert received[1]["request_id"] == "req-2"


async def test_signal_refusals_are_typed(client: Client) -> None:
    with pytest.raises(WorkflowNotFound):
        await client.signal_workflow("no-such-workflow", "add", [1])
    handle = await client.start_workflow(
        workflow_type="collects_signals", task_queue="signals-closed-q", workflow_id="signals-closed"
    )
    worker = Worker(client, task_queue="signals-closed-q", workflows=[CollectsSignals], activities=[noop])
    await worker.run_until(workflow_id="signals-closed", timeout=30.0, poll_interval=0.05)
    with pytest.raises(SignalFailed) as info:
        await client.signal_workflow("signals-closed", "add", [1])
    assert info.value.reason == "run_not_active"
    history = await client.get_history("signals-closed", handle.run_id)
    assert "SignalReceived" not in [e["event_type"] for e in history["events"]]
