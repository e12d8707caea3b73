"""Fewer round trips, end to end: the real server in process and the real SDK worker and client.

With a worker of the queue running beside the client, a one-activity workflow costs the start
(bringing its first workflow task), the workflow-task completion (bringing the activity), the
activity completion (bringing the next workflow task) and the last completion: no poll hands out
a task. A worker with no free slot asks for nothing and polls as before. A worker killed while
holding an eagerly handed task loses it to worker liveness, and another worker finishes the run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.client._local_workers import local_workers
from durable_workflow.interceptors import PassthroughWorkerInterceptor, WorkflowTaskInterceptorContext
from durable_workflow.metrics import WORKER_POLLS, InMemoryMetrics
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app

LIVENESS = 3.0
QUEUE = "eager-q"
events: dict[str, asyncio.Event] = {}
calls: list[int] = []


class Recording(httpx.AsyncBaseTransport):
    """The in-process transport, recording each request's method, path and JSON body."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.requests.append((request.method, request.url.path, body))
        return await self.inner.handle_async_request(request)

    def bodies(self, suffix: str) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if method == "POST" and path.endswith(suffix)]


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    async with running_app(e2e_settings(database_url, worker_liveness_timeout_seconds=LIVENESS)) as started:
        yield started


@pytest.fixture
async def recording(app: Any) -> Recording:
    return Recording(app)


@pytest.fixture
async def client(recording: Recording) -> AsyncIterator[Client]:
    async with Client("http://testserver", token=TOKEN, transport=recording) as sdk:
        yield sdk


@activity.defn(name="eager_echo")
async def eager_echo(value: str) -> str:
    calls.append(activity.context().info.attempt_number)
    if "activity_hangs" in events and len(calls) == 1:
        events["activity_hangs"].set()
        await asyncio.Event().wait()  # until its worker dies
    return f"echo {value}"


@workflow.defn(name="eager_one_activity")
class OneActivity:
    def run(self, ctx: Any, value: str) -> Any:
        return (yield ctx.schedule_activity("eager_echo", [value]))


class HangsOnTheActivityResult(PassthroughWorkerInterceptor):
    """Hangs the workflow task that carries the activity's result (the eagerly handed one)."""

    async def execute_workflow_task(self, context: WorkflowTaskInterceptorContext, next: Any) -> Any:
        types = [e.get("event_type") for e in context.task.get("history_events") or []]
        if "ActivityCompleted" in types:
            events["workflow_task_hangs"].set()
            await asyncio.Event().wait()
        return await next(context)


def _worker(client: Client, worker_id: str, metrics: InMemoryMetrics, **kwargs: Any) -> Worker:
    return Worker(
        client,
        task_queue=QUEUE,
        worker_id=worker_id,
        workflows=[OneActivity],
        activities=[eager_echo],
        metrics=metrics,
        shutdown_timeout=0.0,
        **kwargs,
    )


async def _until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll an observable condition of another task with a deadline."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def _serving(worker: Worker, recording: Recording) -> asyncio.Task[None]:
    """Run ``worker`` until both its poll loops have polled once (their slots are taken)."""
    running = asyncio.create_task(worker.run())
    await _until(
        lambda: recording.bodies("/workflow-tasks/poll") and recording.bodies("/activity-tasks/poll")
    )
    return running


def _polled_tasks(metrics: InMemoryMetrics, kind: str) -> float:
    return metrics.counter(WORKER_POLLS, {"task_kind": kind, "outcome": "task"})


def _reset() -> None:
    events.clear()
    calls.clear()


async def test_a_one_activity_workflow_needs_no_poll_to_hand_out_a_task(
    client: Client, recording: Recording
) -> None:
    _reset()
    metrics = InMemoryMetrics()
    worker = _worker(client, "eager-worker", metrics)
    running = await _serving(worker, recording)
    try:
        handle = await client.start_workflow(
            workflow_type="eager_one_activity", task_queue=QUEUE, workflow_id="eager-1", input=["x"]
        )
        assert await handle.result(timeout=20.0) == "echo x"
    finally:
        await worker.stop()
        await running
    assert _polled_tasks(metrics, "workflow") == 0 and _polled_tasks(metrics, "activity") == 0
    (start,) = recording.bodies("/api/workflows")
    assert start["eager_worker_id"] == "eager-worker"
    first, activity_done, last = recording.bodies("/complete")  # in the order they were sent
    assert first["eager_activity_slots"] >= 1 and "commands" in first
    assert activity_done["eager_workflow_task"] is True and "result" in activity_done
    assert "eager_activity_slots" not in last  # it schedules no activity


async def test_without_a_free_slot_nothing_is_asked_and_polls_hand_out_the_tasks(
    client: Client, recording: Recording
) -> None:
    _reset()
    metrics = InMemoryMetrics()
    worker = _worker(
        client, "busy-worker", metrics, max_concurrent_workflow_tasks=1, max_concurrent_activity_tasks=1
    )
    running = await _serving(worker, recording)  # each parked poll holds its kind's only slot
    try:
        handle = await client.start_workflow(
            workflow_type="eager_one_activity", task_queue=QUEUE, workflow_id="busy-1", input=["y"]
        )
        assert await handle.result(timeout=20.0) == "echo y"
    finally:
        await worker.stop()
        await running
    sent = [body for _, _, body in recording.requests]
    assert not [body for body in sent if any(key.startswith("eager_") for key in body)]
    assert _polled_tasks(metrics, "workflow") == 2 and _polled_tasks(metrics, "activity") == 1


async def _killed(worker: Worker, running: asyncio.Task[None]) -> None:
    worker._stop_notice_disabled = True  # a killed process sends nothing
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


@pytest.mark.parametrize("holding", ["activity", "workflow_task"])
async def test_a_worker_killed_holding_an_eagerly_handed_task_loses_it_to_liveness(
    client: Client, recording: Recording, holding: str
) -> None:
    _reset()
    hangs = events[f"{holding}_hangs"] = asyncio.Event()
    metrics = InMemoryMetrics()
    hang = [HangsOnTheActivityResult()] if holding == "workflow_task" else []
    dying = _worker(client, f"dying-{holding}", metrics, interceptors=hang)
    running = await _serving(dying, recording)
    handle = await client.start_workflow(
        workflow_type="eager_one_activity", task_queue=QUEUE, workflow_id=f"dies-{holding}", input=["z"]
    )
    await asyncio.wait_for(hangs.wait(), timeout=20)
    await _killed(dying, running)
    # Everything the dying worker held came to it eagerly: none of it through a poll.
    assert _polled_tasks(metrics, "workflow") == 0 and _polled_tasks(metrics, "activity") == 0
    # The dead worker left the client's registry: a start now asks for nothing.
    assert await local_workers(client).reserve(QUEUE, "eager_one_activity") is None

    survivor = _worker(client, "survivor", InMemoryMetrics())
    await survivor.run_until(workflow_id=f"dies-{holding}", timeout=30.0)
    assert await handle.result(timeout=10.0) == "echo z"
    history = [
        e["event_type"] for e in (await client.get_history(f"dies-{holding}", handle.run_id))["events"]
    ]
    assert history[-1] == "WorkflowCompleted"
    assert "ActivityFailed" not in history and "ActivityTimedOut" not in history
    assert calls == ([1, 2] if holding == "activity" else [1])


held_seen: list[tuple[str, str, list[str]]] = []
holder: list[Worker] = []


@activity.defn(name="eager_held_echo")
async def eager_held_echo(value: str) -> str:
    task_id = activity.context().info.task_id
    held_seen.append(("activity", task_id, holder[0]._tasks.held.ids("activity")))
    return f"echo {value}"


@workflow.defn(name="eager_held_one_activity")
class HeldOneActivity:
    def run(self, ctx: Any, value: str) -> Any:
        return (yield ctx.schedule_activity("eager_held_echo", [value]))


class RecordsHeld(PassthroughWorkerInterceptor):
    """Records, as each workflow task runs, what the worker says it holds."""

    async def execute_workflow_task(self, context: WorkflowTaskInterceptorContext, next: Any) -> Any:
        held_seen.append(("workflow", context.task["task_id"], holder[0]._tasks.held.ids("workflow")))
        return await next(context)


async def test_eagerly_handed_tasks_are_held_while_they_run_and_released_after(
    client: Client, recording: Recording
) -> None:
    """Each hand-out (the start's first task, the completion's activity, the activity completion's
    next workflow task) is held while its handler runs; none stays held once the run is done."""
    held_seen.clear()
    holder.clear()
    metrics = InMemoryMetrics()
    worker = Worker(
        client,
        task_queue=QUEUE,
        worker_id="held-worker",
        workflows=[HeldOneActivity],
        activities=[eager_held_echo],
        metrics=metrics,
        interceptors=[RecordsHeld()],
        shutdown_timeout=0.0,
    )
    holder.append(worker)
    running = await _serving(worker, recording)
    try:
        handle = await client.start_workflow(
            workflow_type="eager_held_one_activity", task_queue=QUEUE, workflow_id="held-1", input=["h"]
        )
        assert await handle.result(timeout=20.0) == "echo h"
        held = worker._tasks.held
        await _until(lambda: not held.ids("workflow") and not held.ids("activity"))
        assert worker._tasks.busy == {"workflow": 0, "activity": 0, "query": 0}
    finally:
        await worker.stop()
        await running
    assert _polled_tasks(metrics, "workflow") == 0 and _polled_tasks(metrics, "activity") == 0
    assert [kind for kind, _, _ in held_seen] == ["workflow", "activity", "workflow"]
    for _, task_id, held in held_seen:
        assert held == [task_id]  # itself, and nothing left over from an earlier hand-out


async def test_a_poll_with_no_hold_is_answered_at_once_on_an_empty_queue(
    client: Client, recording: Recording
) -> None:
    # A burst loop's poll (worker/_polls.py): the server probes once instead of parking it.
    await client.register_worker(
        worker_id="w-hold", task_queue=QUEUE, supported_workflow_types=["x"], supported_activity_types=["y"]
    )
    # Bounded well under the server's default hold (30 s), so a poll it parked would fail here.
    polls = (
        client.poll_workflow_task(worker_id="w-hold", task_queue=QUEUE, hold_seconds=0),
        client.poll_activity_task(worker_id="w-hold", task_queue=QUEUE, hold_seconds=0),
    )
    for poll in polls:
        assert await asyncio.wait_for(poll, 5.0) is None
    assert recording.bodies("/workflow-tasks/poll")[-1]["timeout_seconds"] == 0
    assert recording.bodies("/activity-tasks/poll")[-1]["timeout_seconds"] == 0
