"""The documented quickstart, run through our SDK and our server in one process."""

from __future__ import annotations

from typing import Any

from durable_workflow import Client, Worker, activity, workflow


@activity.defn(name="greet")
async def greet(name: str) -> dict[str, Any]:
    return {"greeting": f"Hello, {name}!", "length": len(name)}


@workflow.defn(name="greeter")
class GreeterWorkflow:
    def run(self, ctx: Any, *args: Any) -> Any:
        result = yield ctx.schedule_activity("greet", list(args))
        return result


async def _run_quickstart(client: Client) -> Any:
    handle = await client.start_workflow(
        workflow_type="greeter", task_queue="default", workflow_id="greeting-1", input=["world"]
    )
    worker = Worker(client, task_queue="default", workflows=[GreeterWorkflow], activities=[greet])
    execution = await worker.run_until(workflow_id="greeting-1", timeout=30.0)
    assert execution.status == "completed"
    return handle, await handle.result(timeout=10.0)


async def test_quickstart_prints_the_documented_result(client: Client) -> None:
    _, result = await _run_quickstart(client)
    assert result == {"greeting": "Hello, world!", "length": 5}


async def test_quickstart_runs_twice_on_the_same_database(client: Client) -> None:
    first, result1 = await _run_quickstart(client)
    second, result2 = await _run_quickstart(client)
    assert result1 == result2 == {"greeting": "Hello, world!", "length": 5}
    # the second start made a new run under the same workflow id (DECISIONS, D13)
    assert first.run_id != second.run_id
    runs = await client.list_workflow_runs("greeting-1")
    assert [run.run_number for run in runs.runs] == [1, 2]
    assert all(run.status == "completed" for run in runs.runs)


async def test_history_of_the_quickstart_run(client: Client) -> None:
    handle, _ = await _run_quickstart(client)
    history = await client.get_history("greeting-1", handle.run_id)
    types = [event["event_type"] for event in history["events"]]
    assert types[:2] == ["StartAccepted", "WorkflowStarted"]
    assert "ActivityScheduled" in types and "ActivityCompleted" in types
    assert types[-1] == "WorkflowCompleted"
    assert "timestamp" in history["events"][1]["payload"]
    exported = await client.export_history("greeting-1", handle.run_id)
    assert exported["schema"] == "durable-workflow.v2.history-export"
    assert exported["history_complete"] is True
