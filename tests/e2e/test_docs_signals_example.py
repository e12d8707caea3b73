"""The product docs' first "Signals, Queries, and Updates" example, as written, on the real server.

The workflow waits on the ``wait_for_approval`` activity; the signal arrives while that activity
runs, wakes the run (the worker re-sends the open step, which must not start a second
activity), and is applied to the workflow's state before the result is returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, workflow

QUEUE = "docs-signals"
gate: dict[str, asyncio.Event] = {}
runs: list[str] = []


@activity.defn(name="wait_for_approval")
async def wait_for_approval() -> None:
    runs.append("wait_for_approval")
    gate["started"].set()
    await asyncio.wait_for(gate["release"].wait(), timeout=20.0)


# -- the docs' example, unchanged ------------------------------------------------------------
@workflow.defn(name="approval")
class ApprovalWorkflow:
    def __init__(self) -> None:
        self.approved = False
        self.approved_by = None

    @workflow.signal("approve")
    def approve(self, by: str) -> None:
        self.approved = True
        self.approved_by = by

    def run(self, ctx, *args):
        yield ctx.schedule_activity("wait_for_approval", [])
        return {"approved": self.approved, "approved_by": self.approved_by}


# ---------------------------------------------------------------------------------------------


@pytest.fixture
async def worker(client: Client) -> AsyncIterator[Worker]:
    gate.update(started=asyncio.Event(), release=asyncio.Event())
    runs.clear()
    worker = Worker(client, task_queue=QUEUE, workflows=[ApprovalWorkflow], activities=[wait_for_approval])
    running = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop()
        await running


async def _events(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    run_id = (await client.describe_workflow(workflow_id)).run_id
    page = await client.get_history(workflow_id, run_id, page_size=1000)
    return list(page["events"])


async def test_a_signal_sent_while_the_activity_runs_reaches_the_handler(
    client: Client, worker: Worker
) -> None:
    handle = await client.start_workflow(
        workflow_type="approval", task_queue=QUEUE, workflow_id="docs-approval"
    )
    await asyncio.wait_for(gate["started"].wait(), timeout=20.0)

    await client.signal_workflow("docs-approval", "approve", ["alice"], request_id="approve-1")
    await client.signal_workflow("docs-approval", "approve", ["alice"], request_id="approve-1")  # a retry
    # The signal woke the run while its activity was open: that task must be done (the worker
    # re-sent the open step) before the activity is let go, so the step really was re-sent.
    deadline = asyncio.get_running_loop().time() + 20.0
    while True:
        describe = await client.describe_workflow("docs-approval")
        waiting = describe.waiting_on
        if waiting.signal_count == 0 and describe.status == "waiting":  # a task has applied it
            break
        assert asyncio.get_running_loop().time() < deadline, describe
        await asyncio.sleep(0.05)
    gate["release"].set()

    assert await handle.result(timeout=20.0) == {"approved": True, "approved_by": "alice"}
    kinds = [e["event_type"] for e in await _events(client, "docs-approval")]
    assert kinds.count("SignalReceived") == 1  # the retried POST recorded nothing
    assert kinds.count("ActivityScheduled") == 1  # the re-sent step started no second activity
    assert runs == ["wait_for_approval"]
    assert kinds.index("SignalReceived") < kinds.index("ActivityCompleted") < kinds.index("WorkflowCompleted")
