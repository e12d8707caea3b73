"""The worker's sticky workflow cache: a run's next task resumes the kept replay, else replays in full."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow import activity, workflow
from durable_workflow.activity import get_definition as activity_definition
from durable_workflow.worker import _workflow_tasks
from durable_workflow.worker._activity_tasks import handle_activity_task
from durable_workflow.worker._runtime import DeliveryPolicy, TaskRuntime
from durable_workflow.worker._sticky import CachedRun, WorkflowCache
from durable_workflow.worker._workflow_tasks import handle_workflow_task
from durable_workflow.workflow._definition import get_definition
from durable_workflow.workflow._replay import replay_kept
from tests.helpers.worker_fakes import FakeClient


@activity.defn(name="inc")
async def inc(value: int) -> int:
    return value + 1


@workflow.defn(name="counter")
class Counter:
    def run(self, ctx: Any, count: int) -> Any:
        value = 0
        for _ in range(count):
            value = yield ctx.schedule_activity("inc", [value])
        return value


def _runtime(client: FakeClient, cache: WorkflowCache | None) -> TaskRuntime:
    return TaskRuntime(
        client=client,
        worker_id="w1",
        task_queue="default",
        workflows={"counter": get_definition(Counter)},
        activities={"inc": activity_definition(inc)},
        interceptors=(),
        delivery=DeliveryPolicy(retry_timeout=1.0, backoff=0.01, backoff_max=0.01),
        notify_progress=lambda _: None,
        cache=cache,
    )


class Replays:
    """Counts the full replays the handler makes (kept or not)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = 0
        original_kept, original = _workflow_tasks.replay_kept, _workflow_tasks.replay

        def kept(*args: Any, **kwargs: Any) -> Any:
            self.full += 1
            return original_kept(*args, **kwargs)

        def plain(*args: Any, **kwargs: Any) -> Any:
            self.full += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(_workflow_tasks, "replay_kept", kept)
        monkeypatch.setattr(_workflow_tasks, "replay", plain)


async def _workflow_step(client: FakeClient, runtime: TaskRuntime) -> None:
    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    assert await handle_workflow_task(runtime, task) == "completed"


async def _drive(client: FakeClient, runtime: TaskRuntime, workflow_id: str, count: int) -> None:
    for _ in range(count):
        await _workflow_step(client, runtime)
        activity_task = await client.poll_activity_task(worker_id="w1", task_queue="default")
        assert activity_task is not None
        assert await handle_activity_task(runtime, activity_task) == "completed"
    await _workflow_step(client, runtime)
    assert client.runs[workflow_id].execution.status == "completed"
    assert client.runs[workflow_id].execution.output == count


async def test_a_cached_run_replays_only_once(monkeypatch: pytest.MonkeyPatch) -> None:
    replays = Replays(monkeypatch)
    client = FakeClient()
    cache = WorkflowCache(10)
    client.start("counter", "wf-1", [4])
    await _drive(client, _runtime(client, cache), "wf-1", 4)
    assert replays.full == 1  # the first task; the four after it resumed the kept replay
    assert (cache.hits, len(cache)) == (4, 0)  # the finished run is not kept


async def test_a_disabled_cache_replays_every_task(monkeypatch: pytest.MonkeyPatch) -> None:
    replays = Replays(monkeypatch)
    client = FakeClient()
    client.start("counter", "wf-2", [3])
    await _drive(client, _runtime(client, WorkflowCache(0)), "wf-2", 3)
    assert replays.full == 4


async def test_a_history_that_does_not_extend_the_cached_one_replays_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replays = Replays(monkeypatch)
    client = FakeClient()
    cache = WorkflowCache(10)
    runtime = _runtime(client, cache)
    client.start("counter", "wf-3", [2])
    await _workflow_step(client, runtime)
    run_id = client.runs["wf-3"].execution.run_id
    entry = cache.take(run_id)
    assert entry is not None
    entry.last = ("someone-else", "1")  # as if the cached events were another history's
    cache.put(run_id, entry)
    activity_task = await client.poll_activity_task(worker_id="w1", task_queue="default")
    assert activity_task is not None
    await handle_activity_task(runtime, activity_task)
    await _workflow_step(client, runtime)
    assert replays.full == 2  # the mismatch fell back to a full replay...
    assert entry.engine.gen is None  # ...and the stale entry was closed
    assert run_id in cache  # the full replay's state is the one kept now


async def test_a_failing_continuation_falls_back_to_a_full_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    replays = Replays(monkeypatch)
    client = FakeClient()
    cache = WorkflowCache(10)
    runtime = _runtime(client, cache)
    client.start("counter", "wf-4", [2])
    await _workflow_step(client, runtime)
    entry = cache.take(client.runs["wf-4"].execution.run_id)
    assert entry is not None

    def broken(_events: Any) -> Any:
        raise RuntimeError("the kept state is unusable")

    monkeypatch.setattr(entry.engine, "resume", broken)
    cache.put(client.runs["wf-4"].execution.run_id, entry)
    activity_task = await client.poll_activity_task(worker_id="w1", task_queue="default")
    assert activity_task is not None
    await handle_activity_task(runtime, activity_task)
    await _workflow_step(client, runtime)
    assert replays.full == 2


def _suspended(run: str) -> CachedRun:
    events = [
        {"id": f"{run}-1", "sequence": 1, "event_type": "WorkflowStarted", "payload": {}},
    ]
    _, engine = replay_kept(Counter, events, [1], run_id=run)
    assert engine is not None
    entry = CachedRun.of(engine, "counter")
    assert entry is not None
    return entry


def test_the_cache_evicts_the_least_recently_used_run_and_closes_it() -> None:
    cache = WorkflowCache(2)
    a, b, c = _suspended("a"), _suspended("b"), _suspended("c")
    cache.put("a", a)
    cache.put("b", b)
    taken = cache.take("a")  # a is used again: b is now the oldest
    assert taken is a
    cache.put("a", a)
    cache.put("c", c)
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2
    assert b.engine.gen is None and a.engine.suspended and c.engine.suspended
    assert cache.evictions == 1
    cache.clear()
    assert len(cache) == 0 and a.engine.gen is None


def test_a_partial_history_must_start_right_after_the_cached_sequence() -> None:
    entry = _suspended("p")
    assert entry.last_sequence == 1
    assert entry.continues(1, [{"sequence": 2}])
    assert not entry.continues(1, [{"sequence": 3}])
    assert not entry.continues(2, [{"sequence": 3}])
    assert entry.new_events([{"id": "p-1", "sequence": 1}, {"id": "p-2", "sequence": 2}]) == [
        {"id": "p-2", "sequence": 2}
    ]
    assert entry.new_events([{"id": "x-1", "sequence": 1}]) is None
    entry.close()


def test_a_negative_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="max_cached_workflows"):
        WorkflowCache(-1)
