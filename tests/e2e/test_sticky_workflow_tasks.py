"""Sticky workflow tasks end to end: the real server in process and real SDK workers.

A worker that keeps a run's replay gets the run's next workflow tasks with only the new events
(``history_after_sequence``) and continues its cached replay; when that worker is gone (killed:
no stop notice, or stopped: the stop notice), another worker of the queue gets the run's next
task with the full history once the sticky window passed (or at once after a stop notice) and
completes the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.interceptors import PassthroughWorkerInterceptor, WorkflowTaskInterceptorContext
from durable_workflow.worker._sticky import CachedRun, WorkflowCache
from tests.helpers.e2e_env import e2e_settings, running_app, sdk_client

events: dict[str, asyncio.Event] = {}  # per test (an asyncio.Event binds to its first loop)


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    # A short window keeps the killed-worker case quick; nothing here waits on its length.
    settings = e2e_settings(database_url, sticky_schedule_to_start_seconds=0.5)
    async with running_app(settings) as started:
        yield started


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Client]:
    async with sdk_client(app) as sdk:
        yield sdk


class Seen(PassthroughWorkerInterceptor):
    """Records, per workflow task, whether its history was partial (the sticky extension)."""

    def __init__(self) -> None:
        self.partial: list[bool] = []

    async def execute_workflow_task(self, context: WorkflowTaskInterceptorContext, next: Any) -> Any:
        self.partial.append(context.task.get("history_after_sequence") is not None)
        return await next(context)


@activity.defn(name="sticky-step")
async def sticky_step(value: int) -> int:
    return value + 1


@activity.defn(name="sticky-gate")
async def sticky_gate(value: int) -> int:
    events["gate_started"].set()
    await events["gate_open"].wait()
    return value + 1


class ForgettingCache(WorkflowCache):
    """A cache that says when it kept a run, so an activity can empty it right after."""

    def __init__(self) -> None:
        super().__init__(10)
        self.kept = asyncio.Event()

    def put(self, run_id: str, entry: CachedRun) -> None:
        super().put(run_id, entry)
        self.kept.set()


forgetting: list[ForgettingCache] = []  # the caches the next activity empties


@activity.defn(name="sticky-forget")
async def forget_runs(value: int) -> int:
    for cache in forgetting:
        # The completion that scheduled this activity is kept once its answer is read, which
        # may come after this attempt began: wait for it, then forget it.
        await cache.kept.wait()
        cache.kept.clear()
        cache.clear()  # as if the run was evicted, or the worker restarted
    return value + 1


@workflow.defn(name="sticky-evicting")
class Evicting:
    def run(self, ctx: Any) -> Any:
        value = 0
        for _ in range(3):
            value = yield ctx.schedule_activity("sticky-forget", [value])
        return value


@workflow.defn(name="sticky-steps")
class Steps:
    def run(self, ctx: Any, count: int) -> Any:
        value = 0
        for _ in range(count):
            value = yield ctx.schedule_activity("sticky-step", [value])
        return value


@workflow.defn(name="sticky-gated")
class Gated:
    def run(self, ctx: Any) -> Any:
        value = yield ctx.schedule_activity("sticky-gate", [0])
        value = yield ctx.schedule_activity("sticky-step", [value])
        return value


async def test_the_caching_worker_gets_only_the_new_events(client: Client) -> None:
    seen = Seen()
    worker = Worker(
        client,
        task_queue="sticky-q",
        workflows=[Steps],
        activities=[sticky_step],
        interceptors=[seen],
    )
    handle = await client.start_workflow(
        workflow_type="sticky-steps", task_queue="sticky-q", workflow_id="sticky-1", input=[6]
    )
    await worker.run_until(workflow_id="sticky-1", timeout=60.0)
    assert await handle.result(timeout=10.0) == 6
    assert seen.partial[0] is False  # the first task: nothing cached yet, the full history
    assert seen.partial[1:] == [True] * 6  # every later one: the events after what it had
    assert worker.workflow_cache.hits == 6


async def test_a_run_the_worker_lost_reads_its_full_history_and_completes(client: Client) -> None:
    seen = Seen()
    worker = Worker(
        client,
        task_queue="evict-q",
        workflows=[Evicting],
        activities=[forget_runs],
        interceptors=[seen],
    )
    worker.workflow_cache = cache = ForgettingCache()
    forgetting.append(cache)
    handle = await client.start_workflow(
        workflow_type="sticky-evicting", task_queue="evict-q", workflow_id="evict-1"
    )
    await worker.run_until(workflow_id="evict-1", timeout=60.0)
    assert await handle.result(timeout=10.0) == 3
    # Every task after the first was handed out as partial (the server still counts the worker
    # as sticky), and each one missed the cache: the worker read the full history instead.
    assert seen.partial == [False, True, True, True]
    assert (cache.hits, cache.misses) == (0, 4)
    forgetting.clear()


async def test_a_worker_without_the_cache_gets_full_histories(client: Client) -> None:
    seen = Seen()
    worker = Worker(
        client,
        task_queue="plain-q",
        workflows=[Steps],
        activities=[sticky_step],
        interceptors=[seen],
        max_cached_workflows=0,
    )
    handle = await client.start_workflow(
        workflow_type="sticky-steps", task_queue="plain-q", workflow_id="plain-1", input=[3]
    )
    await worker.run_until(workflow_id="plain-1", timeout=60.0)
    assert await handle.result(timeout=10.0) == 3
    assert seen.partial == [False] * 4


@pytest.mark.parametrize("graceful", [False, True], ids=["killed", "stopped"])
async def test_when_the_sticky_worker_is_gone_another_worker_completes_the_run(
    client: Client, graceful: bool
) -> None:
    events.clear()
    events["gate_started"], events["gate_open"] = asyncio.Event(), asyncio.Event()
    # Activities run on a worker of their own, so the workflow workers only replay.
    activities = Worker(client, task_queue="gone-q", activities=[sticky_gate, sticky_step])
    serving = asyncio.create_task(activities.run())
    first_seen, second_seen = Seen(), Seen()
    first = Worker(
        client, task_queue="gone-q", worker_id="sticky-first", workflows=[Gated], interceptors=[first_seen]
    )
    handle = await client.start_workflow(
        workflow_type="sticky-gated", task_queue="gone-q", workflow_id="gone-1"
    )
    running = asyncio.create_task(first.run())
    await asyncio.wait_for(events["gate_started"].wait(), timeout=30)  # its first task completed, sticky
    if graceful:
        await first.stop()  # the stop notice ends its stickiness at once
    else:
        first._stop_notice_disabled = True  # a killed process sends nothing
        running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    second = Worker(
        client, task_queue="gone-q", worker_id="sticky-second", workflows=[Gated], interceptors=[second_seen]
    )
    events["gate_open"].set()
    await second.run_until(workflow_id="gone-1", timeout=60.0)
    assert await handle.result(timeout=10.0) == 2
    assert first_seen.partial == [False]
    # The full history for its first task; then it is the run's sticky worker itself.
    assert second_seen.partial == [False, True]
    await activities.stop()
    await serving
