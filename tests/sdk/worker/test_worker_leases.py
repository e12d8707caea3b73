"""The worker's side of leases: held task ids on every poll, lease renewal, the stop notice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from durable_workflow import activity, workflow
from durable_workflow.worker import Worker
from durable_workflow.worker import _leases as leases_module
from tests.helpers.worker_fakes import FakeClient

gate: dict[str, asyncio.Event] = {}


@activity.defn(name="waits_for_gate")
async def waits_for_gate() -> str:
    gate["running"].set()
    await gate["open"].wait()
    return "ok"


@workflow.defn(name="slow_replay")
class SlowReplay:
    def run(self, ctx: Any) -> Any:
        time.sleep(0.5)  # a slow replay (it runs in a thread): longer than a third of its lease
        return "done"
        yield  # a generator workflow


def _worker(client: FakeClient, **kwargs: Any) -> Worker:
    worker = Worker(client, task_queue="default", **kwargs)
    worker.poll_error_backoff = 0.01
    return worker


async def test_each_poll_names_the_tasks_the_worker_holds() -> None:
    gate.clear()
    gate["running"], gate["open"] = asyncio.Event(), asyncio.Event()
    client = FakeClient()
    task_id = client.add_activity_task("waits_for_gate", [])
    # One poll loop: every poll is sent alone, so every one names them (a poll sent while a
    # burst poll is in flight names none: test_burst_polls.py).
    worker = _worker(client, activities=[waits_for_gate], max_concurrent_activity_task_polls=1)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(gate["running"].wait(), 5)
        seen = len(client.calls_to("poll_activity_task"))
        await client.until_calls("poll_activity_task", seen + 1)
        assert client.calls_to("poll_activity_task")[-1]["held_task_ids"] == [task_id]
        gate["open"].set()
        await client.until_calls("complete_activity_task")
        seen = len(client.calls_to("poll_activity_task"))
        await client.until_calls("poll_activity_task", seen + 1)
        assert client.calls_to("poll_activity_task")[-1]["held_task_ids"] == []
        assert client.calls_to("poll_activity_task")[0]["held_task_ids"] == []
    finally:
        gate["open"].set()
        await worker.stop()
        await running


async def test_a_slow_workflow_task_renews_its_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leases_module, "DEFAULT_WORKFLOW_TASK_LEASE", 0.3)  # renew every 0.1 s
    client = FakeClient()
    client.start("slow_replay", "slow-1", [])
    worker = _worker(client, workflows=[SlowReplay])
    execution = await worker.run_until(workflow_id="slow-1", timeout=10.0, poll_interval=0.05)
    assert execution.status == "completed"
    renewals = client.calls_to("heartbeat_workflow_task")
    assert renewals and renewals[0]["lease_owner"] == worker.worker_id
    assert renewals[0]["workflow_task_attempt"] == 1


async def test_a_fast_workflow_task_renews_nothing() -> None:
    client = FakeClient()
    client.start("slow_replay", "fast-1", [])
    worker = _worker(client, workflows=[SlowReplay])  # default 10 s lease: 0.5 s is well inside
    await worker.run_until(workflow_id="fast-1", timeout=10.0, poll_interval=0.05)
    assert client.calls_to("heartbeat_workflow_task") == []


async def test_stop_sends_the_stop_notice_after_the_drain() -> None:
    gate.clear()
    gate["running"], gate["open"] = asyncio.Event(), asyncio.Event()
    client = FakeClient()
    client.add_activity_task("waits_for_gate", [])
    worker = _worker(client, activities=[waits_for_gate], shutdown_timeout=0.0)
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(gate["running"].wait(), 5)
    await worker.stop()  # the hanging activity is cancelled: the server must take it back
    await running
    assert client.calls_to("stop_notice") == [{"worker_id": worker.worker_id}]
    assert client.calls_to("complete_activity_task") == []
    names = [name for name, _ in client.calls]
    assert names[-1] == "stop_notice"


async def test_the_heartbeat_cadence_follows_the_heartbeat_answers() -> None:
    client = FakeClient()
    worker = _worker(client, activities=[waits_for_gate], heartbeat_interval=0.05)
    worker._adopt_heartbeat_interval({"heartbeat_interval_seconds": 5})
    assert worker.heartbeat_interval == 5.0
    worker._adopt_heartbeat_interval({"heartbeat_interval_seconds": True})  # not a number
    assert worker.heartbeat_interval == 5.0
