"""Timers, fan-out, side effects, retries and failures, end to end through the real server."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from durable_workflow import ActivityRetryPolicy, Client, Worker, activity, workflow
from durable_workflow.errors import ActivityFailed, NonRetryableError, WorkflowFailed

calls: Counter[str] = Counter()
# value -> set once double(value) has its result; a fan-out test fills this in beforehand.
doubled: dict[int, asyncio.Event] = {}


@activity.defn(name="double")
async def double(value: int) -> int:
    calls["double"] += 1
    # Finish in reverse order of scheduling so out-of-order completion is exercised: each item
    # of a fan-out waits until the next item is done. A worker that ran them one at a time
    # would time out here and fail the test (the failed attempt adds to the call count).
    later = doubled.get(value + 1)
    if later is not None:
        await asyncio.wait_for(later.wait(), timeout=10.0)
    if value in doubled:
        doubled[value].set()
    return value * 2


@activity.defn(name="flaky")
async def flaky(key: str) -> str:
    calls[key] += 1
    if calls[key] < 3:
        raise RuntimeError(f"attempt {calls[key]} failed")
    return f"ok after {calls[key]}"


@activity.defn(name="reject")
async def reject() -> None:
    calls["reject"] += 1
    raise NonRetryableError("bad input")


@workflow.defn(name="fan-out")
class FanOut:
    def run(self, ctx: Any, items: list[int]) -> Any:
        results = yield [ctx.schedule_activity("double", [item]) for item in items]
        return results


@workflow.defn(name="sleepy")
class Sleepy:
    def run(self, ctx: Any) -> Any:
        before = ctx.now()
        yield ctx.start_timer(seconds=1)
        token = yield ctx.side_effect(lambda: "picked-once")
        after = ctx.now()
        return {"token": token, "slept": (after - before).total_seconds() >= 1}


@workflow.defn(name="retrying")
class Retrying:
    def run(self, ctx: Any, key: str) -> Any:
        policy = ActivityRetryPolicy(max_attempts=3, initial_interval_seconds=0, backoff_coefficient=1)
        return (yield ctx.schedule_activity("flaky", [key], retry_policy=policy))


@workflow.defn(name="catching")
class Catching:
    def run(self, ctx: Any) -> Any:
        try:
            yield ctx.schedule_activity("reject", [])
        except ActivityFailed as failure:
            return {"caught": failure.message}
        return {"caught": None}


@workflow.defn(name="exploding")
class Exploding:
    def run(self, ctx: Any) -> Any:
        yield ctx.schedule_activity("double", [1])
        raise ValueError("boom")


def make_worker(client: Client) -> Worker:
    return Worker(
        client,
        task_queue="features",
        workflows=[FanOut, Sleepy, Retrying, Catching, Exploding],
        activities=[double, flaky, reject],
    )


async def run_one(client: Client, workflow_type: str, workflow_id: str, args: list[Any]) -> Any:
    handle = await client.start_workflow(
        workflow_type=workflow_type, task_queue="features", workflow_id=workflow_id, input=args
    )
    await make_worker(client).run_until(workflow_id=workflow_id, timeout=30.0)
    return await handle.result(timeout=10.0)


async def test_fan_out_returns_results_in_the_order_yielded(client: Client) -> None:
    calls.clear()
    doubled.update({item: asyncio.Event() for item in (1, 2, 3, 4)})
    try:
        assert await run_one(client, "fan-out", "fan-1", [[1, 2, 3, 4]]) == [2, 4, 6, 8]
    finally:
        doubled.clear()
    assert calls["double"] == 4  # one execution per step


async def test_timer_and_side_effect(client: Client) -> None:
    result = await run_one(client, "sleepy", "sleepy-1", [])
    assert result == {"token": "picked-once", "slept": True}


async def test_activity_retry_policy(client: Client) -> None:
    calls.clear()
    assert await run_one(client, "retrying", "retry-1", ["flaky-1"]) == "ok after 3"
    assert calls["flaky-1"] == 3


async def test_non_retryable_activity_failure_is_thrown_into_the_workflow(client: Client) -> None:
    calls.clear()
    result = await run_one(client, "catching", "catch-1", [])
    assert result == {"caught": "bad input"}
    assert calls["reject"] == 1


async def test_workflow_exception_fails_the_workflow(client: Client) -> None:
    with pytest.raises(WorkflowFailed) as info:
        await run_one(client, "exploding", "explode-1", [])
    assert "boom" in str(info.value)
    described = await client.describe_workflow("explode-1")
    assert described.status == "failed"
