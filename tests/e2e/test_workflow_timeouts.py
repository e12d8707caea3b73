"""Workflow run timeouts (``run_timeout_seconds`` of a start) against the real server and our
real Worker.

Timeouts are whole seconds, so the test waits about one second of real time for the deadline.
"""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow import Client, Worker, workflow
from durable_workflow.errors import WorkflowFailed


@workflow.defn(name="outlives_its_run_timeout")
class OutlivesItsRunTimeout:
    def run(self, ctx: Any) -> Any:
        yield ctx.start_timer(seconds=5)
        return "unreachable"


async def test_run_past_its_run_timeout_fails_as_timed_out(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="outlives_its_run_timeout",
        task_queue="wf-timeouts-q",
        workflow_id="run-timeout-1",
        run_timeout_seconds=1,
    )
    worker = Worker(client, task_queue="wf-timeouts-q", workflows=[OutlivesItsRunTimeout])
    # The worker schedules the 5 s timer; the server times the run out after 1 s.
    execution = await worker.run_until(workflow_id="run-timeout-1", timeout=15.0, poll_interval=0.1)
    assert execution.status == "failed"
    with pytest.raises(WorkflowFailed) as info:
        await handle.result(timeout=5.0)
    assert "timed out" in str(info.value)
    assert "run timeout" in str(info.value)

    described = await client.describe_workflow("run-timeout-1")
    assert described.status == "failed"
    assert described.raw.get("closed_reason") == "timed_out"
    history = await client.get_history("run-timeout-1", handle.run_id)
    types = [e["event_type"] for e in history["events"]]
    assert types[-1] == "WorkflowTimedOut"
    assert "TimerFired" not in types
