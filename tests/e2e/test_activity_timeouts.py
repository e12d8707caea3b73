"""Activity timeouts (start-to-close, heartbeat) against the real server and our real Worker.

Timeouts are whole seconds, so each test waits about one second of real time for its deadline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from durable_workflow import ActivityRetryPolicy, Client, Worker, activity, workflow
from durable_workflow.errors import ActivityFailed

# Per-test events (an asyncio.Event binds to the loop that first waits on it).
events: dict[str, asyncio.Event] = {}
attempts: list[int] = []


@activity.defn(name="slow_first_attempt")
async def slow_first_attempt(value: str) -> str:
    number = activity.context().info.attempt_number
    attempts.append(number)
    if number == 1:
        # Outlives start_to_close_timeout=1; lets go once the retry has started, and its late
        # result is then refused by the server (the attempt timed out).
        await asyncio.wait_for(events["second_started"].wait(), timeout=20)
        return f"late {value}"
    events["second_started"].set()
    return f"on time {value}"


@workflow.defn(name="timeout_then_retry")
class TimeoutThenRetry:
    def run(self, ctx: Any, value: str) -> Any:
        policy = ActivityRetryPolicy(max_attempts=2, initial_interval_seconds=0)
        return (
            yield ctx.schedule_activity(
                "slow_first_attempt", [value], retry_policy=policy, start_to_close_timeout=1
            )
        )


@activity.defn(name="never_heartbeats")
async def never_heartbeats() -> str:
    await asyncio.wait_for(events["stuck"].wait(), timeout=20)  # stopped by the worker's shutdown
    return "unreachable"


@workflow.defn(name="heartbeat_watchdog")
class HeartbeatWatchdog:
    def run(self, ctx: Any) -> Any:
        try:
            yield ctx.schedule_activity("never_heartbeats", [], heartbeat_timeout=1)
        except ActivityFailed as exc:
            return {"caught": type(exc).__name__, "category": exc.failure_category, "message": str(exc)}
        return {"caught": None}


async def _event_types(client: Client, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    history = await client.get_history(workflow_id, run_id)
    return list(history["events"])


async def test_attempt_past_start_to_close_is_retried_and_the_retry_succeeds(client: Client) -> None:
    events.clear()
    events["second_started"] = asyncio.Event()
    attempts.clear()
    handle = await client.start_workflow(
        workflow_type="timeout_then_retry", task_queue="timeouts-q", workflow_id="stc-1", input=["x"]
    )
    worker = Worker(
        client, task_queue="timeouts-q", workflows=[TimeoutThenRetry], activities=[slow_first_attempt]
    )
    await worker.run_until(workflow_id="stc-1", timeout=30.0)
    assert await handle.result(timeout=10.0) == "on time x"
    assert attempts == [1, 2]

    history = await _event_types(client, "stc-1", handle.run_id)
    types = [e["event_type"] for e in history]
    assert types.count("ActivityStarted") == 2
    assert "ActivityTimedOut" not in types and "ActivityFailed" not in types
    (retry,) = [e["payload"] for e in history if e["event_type"] == "ActivityRetryScheduled"]
    assert retry["timeout_kind"] == "start_to_close" and retry["failure_category"] == "timeout"
    (completed,) = [e["payload"] for e in history if e["event_type"] == "ActivityCompleted"]
    assert completed["attempt_number"] == 2


async def test_missing_heartbeats_fail_the_activity_into_the_workflow(client: Client) -> None:
    events.clear()
    events["stuck"] = asyncio.Event()
    handle = await client.start_workflow(
        workflow_type="heartbeat_watchdog", task_queue="heartbeat-q", workflow_id="hb-1", input=[]
    )
    worker = Worker(
        client,
        task_queue="heartbeat-q",
        workflows=[HeartbeatWatchdog],
        activities=[never_heartbeats],
        shutdown_timeout=0.1,  # the stuck activity is cancelled when the worker stops
    )
    try:
        await worker.run_until(workflow_id="hb-1", timeout=30.0)
    finally:
        events["stuck"].set()
    result = await handle.result(timeout=10.0)
    assert result["caught"] == "ActivityFailed" and result["category"] == "timeout"
    assert "heartbeat" in result["message"]

    history = await _event_types(client, "hb-1", handle.run_id)
    (timed_out,) = [e["payload"] for e in history if e["event_type"] == "ActivityTimedOut"]
    assert timed_out["timeout_kind"] == "heartbeat" and timed_out["attempt_number"] == 1
    assert [e["event_type"] for e in history][-1] == "WorkflowCompleted"
