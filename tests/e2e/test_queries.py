"""Queries end to end: the real server parks the caller, the real Worker answers a query task.

Each test asserts what the client sees and that the query wrote nothing to history.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from durable_workflow import Client, PassthroughWorkerInterceptor, Worker, activity, workflow
from durable_workflow.errors import QueryFailed, WorkflowNotFound
from durable_workflow.interceptors import QueryTaskInterceptorContext, QueryTaskNext
from tests.helpers.e2e_env import e2e_settings, running_app

QUEUE = "queries"
# Set by a test to hold the activity open (the workflow then waits, and is queried meanwhile).
gate: dict[str, asyncio.Event] = {}


@activity.defn(name="wait_for_approval")
async def wait_for_approval() -> str:
    gate["started"].set()
    await asyncio.wait_for(gate["release"].wait(), timeout=20.0)
    return "released"


@workflow.defn(name="approval")
class ApprovalWorkflow:
    """The docs' "Signals, Queries, and Updates" example (its query half)."""

    def __init__(self) -> None:
        self.approved = False
        self.steps = 0

    @workflow.query("status")
    def status(self) -> dict[str, Any]:
        return {"approved": self.approved, "steps": self.steps}

    @workflow.query("echo")
    def echo(self, first: Any, second: Any = None) -> list[Any]:
        return [first, second]

    @workflow.query("explode")
    def explode(self) -> None:
        raise ValueError("state is not ready")

    def run(self, ctx: Any, *args: Any) -> Any:
        self.steps += 1
        result = yield ctx.schedule_activity("wait_for_approval", [])
        self.steps += 1
        return {"approved": self.approved, "activity": result}


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    async with running_app(e2e_settings(database_url, query_task_timeout=1.0)) as started:
        yield started


@asynccontextmanager
async def serving(client: Client, **kwargs: Any) -> AsyncIterator[Worker]:
    worker = Worker(
        client, task_queue=QUEUE, workflows=[ApprovalWorkflow], activities=[wait_for_approval], **kwargs
    )
    running = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop()
        await running


async def waiting_run(client: Client, workflow_id: str) -> None:
    gate.update(started=asyncio.Event(), release=asyncio.Event())
    await client.start_workflow(workflow_type="approval", task_queue=QUEUE, workflow_id=workflow_id)
    await asyncio.wait_for(gate["started"].wait(), timeout=20.0)


async def event_types(client: Client, workflow_id: str) -> list[str]:
    run_id = (await client.describe_workflow(workflow_id)).run_id
    page = await client.get_history(workflow_id, run_id, page_size=1000)
    return [event["event_type"] for event in page["events"]]


async def test_query_answers_from_the_replayed_state_and_writes_nothing(client: Client) -> None:
    async with serving(client):
        await waiting_run(client, "q-status")
        before = await event_types(client, "q-status")
        assert await client.query_workflow("q-status", "status") == {"approved": False, "steps": 1}
        assert await client.query_workflow("q-status", "echo", ["a", {"b": 2}]) == ["a", {"b": 2}]
        handle = client.get_workflow_handle("q-status")
        assert await handle.query("echo", [1]) == [1, None]
        assert await event_types(client, "q-status") == before
        gate["release"].set()
        assert await handle.result(timeout=20.0) == {"approved": False, "activity": "released"}
        # A closed run still answers from its final state while a worker is live.
        assert await client.query_workflow("q-status", "status") == {"approved": False, "steps": 2}


async def test_unknown_query_and_raising_handler_are_query_failed(client: Client) -> None:
    async with serving(client):
        await waiting_run(client, "q-bad")
        with pytest.raises(QueryFailed) as unknown:
            await client.query_workflow("q-bad", "nope")
        assert unknown.value.status_code == 404
        assert unknown.value.reason == "rejected_unknown_query"
        assert "nope" in str(unknown.value)
        with pytest.raises(QueryFailed) as raised:
            await client.query_workflow("q-bad", "explode")
        assert raised.value.status_code == 409
        assert raised.value.reason == "query_rejected"
        assert "state is not ready" in str(raised.value)
        gate["release"].set()
        await client.get_workflow_handle("q-bad").result(timeout=20.0)


async def test_query_without_a_live_worker_fails_at_once(client: Client) -> None:
    await client.start_workflow(workflow_type="approval", task_queue=QUEUE, workflow_id="q-alone")
    with pytest.raises(QueryFailed) as info:
        await asyncio.wait_for(client.query_workflow("q-alone", "status"), timeout=5.0)
    assert info.value.status_code == 409
    assert info.value.reason == "query_worker_unavailable"
    with pytest.raises(WorkflowNotFound):
        await client.query_workflow("q-missing", "status")


async def test_query_nobody_answers_times_out(client: Client) -> None:
    await client.start_workflow(workflow_type="approval", task_queue=QUEUE, workflow_id="q-silent")
    # Registered and fresh, but it never polls query tasks: the caller waits the query timeout.
    await client.register_worker(
        worker_id="silent",
        task_queue=QUEUE,
        supported_workflow_types=["approval"],
        capabilities=["query_tasks"],
    )
    with pytest.raises(QueryFailed) as info:
        await client.query_workflow("q-silent", "status")
    assert info.value.status_code == 504
    assert info.value.reason == "query_worker_timeout"


class Recording(PassthroughWorkerInterceptor):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    async def execute_query_task(
        self, context: QueryTaskInterceptorContext, next: QueryTaskNext
    ) -> str | None:
        encoded = await next(context)
        self.seen.append((context.worker_id, context.task_queue, str(context.task["query_name"])))
        return encoded


async def test_execute_query_task_interceptor_wraps_the_answer(client: Client) -> None:
    recording = Recording()
    async with serving(client, interceptors=[recording], worker_id="qw-1"):
        await waiting_run(client, "q-intercepted")
        assert await client.query_workflow("q-intercepted", "status") == {"approved": False, "steps": 1}
        gate["release"].set()
        await client.get_workflow_handle("q-intercepted").result(timeout=20.0)
    assert recording.seen == [("qw-1", QUEUE, "status")]
