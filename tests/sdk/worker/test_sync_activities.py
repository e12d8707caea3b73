"""Plain ``def`` activities: they run in a thread and can still heartbeat."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from durable_workflow import activity
from durable_workflow.errors import ActivityCancelled
from durable_workflow.worker import Worker
from tests.helpers.worker_fakes import FakeClient


async def _run_until_reported(client: FakeClient, worker: Worker) -> None:
    runner = asyncio.create_task(worker.run())
    await client.until(
        lambda: client.calls_to("complete_activity_task") + client.calls_to("fail_activity_task")
    )
    await worker.stop()
    await runner


async def test_a_sync_activity_heartbeats_from_its_thread() -> None:
    threads: list[str] = []

    @activity.defn(name="count")
    def count(n: int) -> int:
        ctx = activity.context()
        threads.append(threading.current_thread().name)
        for i in range(n):
            ctx.heartbeat({"done": i + 1}, message="counting")
        return n

    client = FakeClient()
    client.add_activity_task("count", [3])
    await _run_until_reported(client, Worker(client, task_queue="default", activities=[count]))
    assert threads and threads[0] != threading.main_thread().name
    beats = client.calls_to("heartbeat_activity_task")
    assert [b["details"] for b in beats] == [{"done": 1}, {"done": 2}, {"done": 3}]
    assert beats[0]["message"] == "counting"
    assert [c["result"] for c in client.calls_to("complete_activity_task")] == [3]


async def test_a_sync_activity_sees_cancellation_on_heartbeat() -> None:
    seen: dict[str, Any] = {}

    @activity.defn(name="stoppable")
    def stoppable() -> str:
        ctx = activity.context()
        try:
            ctx.heartbeat()
        except ActivityCancelled:
            seen["cancelled"] = ctx.is_cancelled
            raise
        return "finished"

    client = FakeClient()
    client.cancel_requested = True
    client.add_activity_task("stoppable", [])
    await _run_until_reported(client, Worker(client, task_queue="default", activities=[stoppable]))
    assert seen == {"cancelled": True}
    (failure,) = client.calls_to("fail_activity_task")
    assert failure["failure_type"] == "ActivityCancelled" and failure["cancelled"] is True


async def test_a_blocking_sync_activity_leaves_the_event_loop_free() -> None:
    @activity.defn(name="block")
    def block() -> str:
        time.sleep(0.3)
        return "done"

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    client = FakeClient()
    client.add_activity_task("block", [])
    ticker = asyncio.create_task(tick())
    try:
        await _run_until_reported(client, Worker(client, task_queue="default", activities=[block]))
    finally:
        ticker.cancel()
    assert [c["result"] for c in client.calls_to("complete_activity_task")] == ["done"]
    assert ticks >= 10


async def test_awaiting_a_heartbeat_from_a_thread_is_harmless() -> None:
    beats: list[Any] = []

    async def record(**kwargs: Any) -> dict[str, Any]:
        beats.append(kwargs["details"])
        return {}

    ctx = activity.ActivityContext(activity.ActivityInfo(task_id="t", activity_type="x"), heartbeat=record)

    def in_thread() -> None:
        done = ctx.heartbeat(7)  # already sent when it returns
        assert beats == [{"value": 7}]
        asyncio.run(_await(done))

    async def _await(awaitable: Any) -> None:
        await awaitable

    await asyncio.to_thread(in_thread)
    await ctx.heartbeat({"k": 1})
    assert beats == [{"value": 7}, {"k": 1}]
