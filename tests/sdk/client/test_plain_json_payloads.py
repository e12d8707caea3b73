"""``Client(plain_json_payloads=True)``: caller payloads go out as the plain JSON given (the CLI's form).

Also the whole answers the CLI prints: ``WorkflowHandle.raw``, ``QueryResult`` / ``UpdateResult``
and the command results signal, cancel and terminate now return.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client, QueryResult, UpdateResult, WorkflowCommandResult
from durable_workflow.protocol import codec


def recording(answer: dict[str, Any], status: int = 200) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=answer, headers={"X-Durable-Workflow-Control-Plane-Version": "2"})

    return seen, httpx.MockTransport(handler)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_start_sends_plain_input_and_keeps_the_answer() -> None:
    answer = {"workflow_id": "wf-1", "run_id": "run-1", "workflow_type": "t", "outcome": "started_new"}
    seen, transport = recording(answer, 201)
    async with Client("http://dw.test", transport=transport, plain_json_payloads=True) as client:
        handle = await client.start_workflow(
            workflow_type="t", task_queue="q", workflow_id="wf-1", input=[{"a": 1}], priority=3
        )
    assert body(seen[0])["input"] == [{"a": 1}]
    assert body(seen[0])["priority"] == 3
    assert handle.raw == answer and handle.run_id == "run-1"


async def test_a_mapping_is_sent_as_it_is_only_with_plain_payloads() -> None:
    seen, transport = recording({"workflow_id": "wf-1"}, 201)
    async with Client("http://dw.test", transport=transport, plain_json_payloads=True) as client:
        await client.start_workflow(workflow_type="t", task_queue="q", input={"a": 1})
        await client.signal_workflow("wf-1", "go", {"b": 2})
    assert body(seen[0])["input"] == {"a": 1}
    assert body(seen[1])["input"] == {"b": 2}
    async with Client("http://dw.test", transport=transport) as client:
        with pytest.raises(TypeError):
            await client.start_workflow(workflow_type="t", task_queue="q", input={"a": 1})
    assert len(seen) == 2


async def test_envelopes_stay_the_default() -> None:
    seen, transport = recording({"outcome": "signal_received"}, 202)
    async with Client("http://dw.test", transport=transport) as client:
        result = await client.signal_workflow("wf-1", "go", [1])
    assert codec.decode_envelope(body(seen[0])["input"]) == [1]
    assert isinstance(result, WorkflowCommandResult) and result.outcome == "signal_received"


async def test_query_and_update_details() -> None:
    seen, transport = recording({"workflow_id": "wf-1", "run_id": "run-2", "result": {"n": 1}})
    async with Client("http://dw.test", transport=transport, plain_json_payloads=True) as client:
        query = await client.query_workflow_detailed("wf-1", "status", [True])
        assert await client.query_workflow("wf-1", "status") == {"n": 1}
    assert query == QueryResult(result={"n": 1}, workflow_id="wf-1", query_name="status", run_id="run-2")
    assert query.raw["run_id"] == "run-2"
    assert body(seen[0]) == {"input": [True]} and body(seen[1]) == {}

    answer = {"update_id": "u-1", "outcome": "update_completed", "update_status": "completed", "result": 5}
    seen, transport = recording(answer)
    async with Client("http://dw.test", transport=transport, plain_json_payloads=True) as client:
        update = await client.update_workflow_detailed("wf-1", "add", [2], wait_for="completed")
    assert isinstance(update, UpdateResult)
    assert (update.update_id, update.outcome, update.update_status, update.result) == (
        "u-1",
        "update_completed",
        "completed",
        5,
    )
    assert body(seen[0]) == {"input": [2], "wait_for": "completed"}


async def test_cancel_and_terminate_return_the_command_result() -> None:
    answer = {
        "workflow_id": "wf-1",
        "outcome": "cancelled",
        "command_status": "accepted",
        "command_id": "c-1",
    }
    seen, transport = recording(answer)
    async with Client("http://dw.test", transport=transport) as client:
        cancelled = await client.cancel_workflow("wf-1", "why")
        terminated = await client.terminate_workflow("wf-1", run_id="run-1")
    assert (cancelled.command_id, cancelled.raw) == ("c-1", answer)
    assert terminated.outcome == "cancelled"  # the fake answers the same body to both
    assert seen[1].url.path == "/api/workflows/wf-1/runs/run-1/terminate"


async def test_worker_plane_results_go_out_plain() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = {"outcome": "completed", "protocol_version": "1.1"}
        return httpx.Response(200, json=answer, headers={"X-Durable-Workflow-Protocol-Version": "1.1"})

    transport = httpx.MockTransport(handler)
    async with Client("http://dw.test", transport=transport, plain_json_payloads=True) as client:
        await client.complete_query_task(
            query_task_id="qt-1", lease_owner="cli", query_task_attempt=1, result={"n": 1}
        )
        await client.complete_activity_task(
            task_id="at-1", activity_attempt_id="att-1", lease_owner="cli", result=[1, 2]
        )
    # No result_envelope beside the plain result: the CLI's body of query-task:complete.
    assert body(seen[0]) == {"lease_owner": "cli", "query_task_attempt": 1, "result": {"n": 1}}
    assert body(seen[1])["result"] == [1, 2]
