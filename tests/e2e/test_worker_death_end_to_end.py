"""A worker that dies mid-activity: its activity is redelivered within seconds, not failed.

The real server in process and two real SDK workers. The first worker is stopped abruptly (its
task cancelled, no stop notice: what a killed process leaves behind) while it runs the first
attempt of an activity with ``start_to_close_timeout=10`` and no retry policy. The worker
liveness window is 3 s here (1 s heartbeats), so the attempt is lost and the activity runs
again on the second worker, long before the attempt's 10 s deadline; the workflow completes.
A graceful stop() releases its cancelled work at once through the stop notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, workflow
from tests.helpers.e2e_env import e2e_settings, running_app, sdk_client

LIVENESS = 3.0
# Per-test events (an asyncio.Event binds to the loop that first waits on it).
events: dict[str, asyncio.Event] = {}
calls: list[int] = []  # the attempt number of each run of the activity


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    settings = e2e_settings(database_url, worker_liveness_timeout_seconds=LIVENESS)
    async with running_app(settings) as started:
        yield started


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Client]:
    async with sdk_client(app) as sdk:
        yield sdk


@activity.defn(name="first_attempt_hangs")
async def first_attempt_hangs(value: str) -> str:
    calls.append(activity.context().info.attempt_number)
    if len(calls) == 1:
        events["first_started"].set()
        await asyncio.Event().wait()  # hangs until its worker dies
    return f"done {value}"


@workflow.defn(name="survives_a_worker_death")
class SurvivesAWorkerDeath:
    def run(self, ctx: Any, value: str) -> Any:
        return (yield ctx.schedule_activity("first_attempt_hangs", [value], start_to_close_timeout=10))


def _worker(client: Client, worker_id: str) -> Worker:
    return Worker(
        client,
        task_queue="death-q",
        worker_id=worker_id,
        workflows=[SurvivesAWorkerDeath],
        activities=[first_attempt_hangs],
        shutdown_timeout=0.0,
    )


async def _history(client: Client, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    return list((await client.get_history(workflow_id, run_id))["events"])


@pytest.mark.parametrize("graceful", [False, True], ids=["killed", "stopped"])
async def test_a_dead_workers_activity_is_redelivered_not_failed(client: Client, graceful: bool) -> None:
    events.clear()
    events["first_started"] = asyncio.Event()
    calls.clear()
    handle = await client.start_workflow(
        workflow_type="survives_a_worker_death", task_queue="death-q", workflow_id="death-1", input=["x"]
    )
    dying = _worker(client, "dying-worker")
    running = asyncio.create_task(dying.run())
    await asyncio.wait_for(events["first_started"].wait(), timeout=20)
    if graceful:
        await dying.stop()  # drain (cancels the hanging attempt at once), then the stop notice
    else:
        dying._stop_notice_disabled = True  # a killed process sends nothing
        running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    survivor = _worker(client, "survivor")
    await survivor.run_until(workflow_id="death-1", timeout=30.0)
    assert await handle.result(timeout=10.0) == "done x"
    assert calls == [1, 2]

    history = await _history(client, "death-1", handle.run_id)
    types = [e["event_type"] for e in history]
    assert "ActivityTimedOut" not in types and "ActivityFailed" not in types
    assert "ActivityRetryScheduled" not in types  # a lost attempt is redelivered, not retried
    started = [e for e in history if e["event_type"] == "ActivityStarted"]
    assert len(started) == 2
    (completed,) = [e["payload"] for e in history if e["event_type"] == "ActivityCompleted"]
    assert completed["attempt_number"] == 2
    assert types[-1] == "WorkflowCompleted"
