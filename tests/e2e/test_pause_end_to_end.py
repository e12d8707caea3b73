"""Pause and resume end to end: our Client pauses a run while our real Worker is running one of
its activities; that activity finishes and is recorded, nothing new is dispatched, the signal
sent meanwhile is delivered after the resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import ServerError
from durable_workflow_server.store import tables as t

# Made by each test: an asyncio.Event belongs to the event loop that first waits on it.
gates: dict[str, asyncio.Event] = {}
after_calls: list[str] = []


@activity.defn(name="pause_gate")
async def gate() -> str:
    await gates["release"].wait()
    return "gated"


@activity.defn(name="pause_after")
async def after() -> str:
    after_calls.append("after")
    return "after"


@workflow.defn(name="pausable")
class Pausable:
    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.signal("note")
    def note(self, text: str) -> None:
        self.notes.append(text)

    def run(self, ctx: Any) -> Any:
        first = yield ctx.schedule_activity("pause_gate", [])
        second = yield ctx.schedule_activity("pause_after", [])
        return {"results": [first, second], "notes": self.notes}


async def history_types(client: Client, workflow_id: str, run_id: str) -> list[str]:
    page = await client.get_history(workflow_id, run_id, page_size=1000)
    return [e["event_type"] for e in page["events"]]


async def until_in_history(client: Client, workflow_id: str, run_id: str, event_type: str) -> None:
    async def seen() -> None:
        while event_type not in await history_types(client, workflow_id, run_id):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(seen(), timeout=20.0)


async def task_statuses(app: Any, run_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    async with app.state.engine.store.read() as conn:
        for table in (t.workflow_tasks, t.activity_tasks):
            rows = (await conn.execute(sa.select(table.c.status).where(table.c.run_id == run_id))).scalars()
            found[table.name] = sorted(rows)
    return found


async def test_a_paused_run_finishes_in_flight_work_and_waits_for_resume(app: Any, client: Client) -> None:
    gates["release"] = asyncio.Event()
    after_calls.clear()
    info = await client.get_cluster_info()
    assert info["capabilities"]["workflow_pause"] is True
    handle = await client.start_workflow(
        workflow_type="pausable", task_queue="pause-q", workflow_id="pause-1"
    )
    worker = Worker(client, task_queue="pause-q", workflows=[Pausable], activities=[gate, after])
    running = asyncio.create_task(worker.run())
    try:
        await until_in_history(client, "pause-1", handle.run_id, "ActivityStarted")
        paused = await handle.pause("deploying")
        assert paused.outcome == "paused"
        assert (await client.pause_workflow("pause-1")).outcome == "already_paused"
        described = await client.describe_workflow("pause-1")
        assert described.paused is True
        assert described.pause_reason == "deploying"
        await client.signal_workflow("pause-1", "note", ["while paused"])

        gates["release"].set()  # the in-flight activity finishes and is recorded
        await until_in_history(client, "pause-1", handle.run_id, "ActivityCompleted")
        # Its workflow task is held: nothing can claim it, so the next activity is never scheduled.
        held = await task_statuses(app, handle.run_id)
        assert "paused" in held["workflow_tasks"]
        assert "ready" not in held["workflow_tasks"] and "leased" not in held["workflow_tasks"]
        assert after_calls == []

        resumed = await handle.resume()
        assert resumed.outcome == "resumed"
        assert await handle.result(timeout=20.0) == {"results": ["gated", "after"], "notes": ["while paused"]}
    finally:
        await worker.stop()
        await running
    types = await history_types(client, "pause-1", handle.run_id)
    order = [
        types.index("WorkflowPaused"),
        types.index("SignalReceived"),
        types.index("ActivityCompleted"),
        types.index("WorkflowResumed"),
        types.index("WorkflowCompleted"),
    ]
    assert order == sorted(order)
    assert types.count("ActivityScheduled") == 2
    for closed in (client.pause_workflow, client.resume_workflow):
        with pytest.raises(ServerError) as refused:
            await closed("pause-1")
        assert refused.value.reason == "run_not_active"
