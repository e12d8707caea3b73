"""In-process mode: ``durable_workflow_server.embedded(url)`` yields a client of a server running
in this process (no socket), on a SQLite file, PostgreSQL, or in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import durable_workflow_server
from durable_workflow import Client, Worker, activity, workflow

WITHIN = 30.0
QUEUE = "embedded-q"


@activity.defn(name="embedded_greet")
async def greet(name: str) -> str:
    return f"Hello, {name}"


@workflow.defn(name="embedded_flow")
class EmbeddedFlow:
    """An activity, then a durable timer, then a signal it waits for."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @workflow.signal("add")
    def add(self, name: str) -> None:
        self.names.append(name)

    def run(self, ctx: Any, name: str) -> Any:
        greeting = yield ctx.schedule_activity("embedded_greet", [name])
        yield ctx.start_timer(1)
        yield ctx.wait_condition(lambda: bool(self.names), key="named")
        return f"{greeting} and {', '.join(self.names)}"


@asynccontextmanager
async def working(client: Client) -> AsyncIterator[Worker]:
    worker = Worker(client, task_queue=QUEUE, workflows=[EmbeddedFlow], activities=[greet])
    running = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop()
        await running


async def recorded(client: Client, workflow_id: str, run_id: str, event_type: str) -> None:
    """Follow the run's history (the server's long poll) until ``event_type`` is recorded."""
    token: str | None = None

    async def follow() -> None:
        nonlocal token
        while True:
            page = await client.get_history(workflow_id, run_id, next_page_token=token, wait_new_event=True)
            if any(e.get("event_type") == event_type for e in page["events"]):
                return
            token = page.get("next_page_token") or token

    await asyncio.wait_for(follow(), WITHIN)


async def test_a_timer_an_activity_and_a_signal_in_process(database_url: str) -> None:
    async with durable_workflow_server.embedded(database_url) as client, working(client):
        handle = await client.start_workflow(
            workflow_type="embedded_flow", task_queue=QUEUE, workflow_id="emb-1", input=["Ada"]
        )
        await client.signal_workflow("emb-1", "add", ["Bo"])
        assert await handle.result(timeout=WITHIN) == "Hello, Ada and Bo"
        described = await client.describe_workflow("emb-1")
    assert described.status == "completed"


async def test_a_workflow_continues_when_the_block_is_entered_again(database_url: str) -> None:
    async with durable_workflow_server.embedded(database_url) as client, working(client):
        handle = await client.start_workflow(
            workflow_type="embedded_flow", task_queue=QUEUE, workflow_id="emb-2", input=["Cy"]
        )
        # Leave with the activity done and the timer pending: the engine closes mid-run.
        await recorded(client, "emb-2", handle.run_id or "", "TimerScheduled")
    async with durable_workflow_server.embedded(database_url) as client, working(client):
        await client.signal_workflow("emb-2", "add", ["Di"])
        again = client.get_workflow_handle("emb-2")
        assert await again.result(timeout=WITHIN) == "Hello, Cy and Di"
        history = await client.get_history("emb-2", handle.run_id or "")
    kinds = [e["event_type"] for e in history["events"]]
    assert kinds.count("ActivityCompleted") == 1 and "TimerFired" in kinds


@pytest.mark.parametrize("memory", ["sqlite://:memory:", "sqlite:///:memory:", "sqlite://"])
async def test_in_memory_forms(memory: str) -> None:
    async with durable_workflow_server.embedded(memory) as client, working(client):
        handle = await client.start_workflow(
            workflow_type="embedded_flow", task_queue=QUEUE, workflow_id="emb-mem", input=["Ed"]
        )
        await client.signal_workflow("emb-mem", "add", ["Flo"])
        assert await handle.result(timeout=WITHIN) == "Hello, Ed and Flo"


async def test_client_options_pass_through_and_reserved_ones_are_refused() -> None:
    async with durable_workflow_server.embedded(namespace="default", timeout=12.0) as client:
        assert client.namespace == "default" and client.timeout == 12.0
        assert (await client.health())["status"] == "serving"
    with pytest.raises(TypeError):
        async with durable_workflow_server.embedded(token="mine"):
            pass
