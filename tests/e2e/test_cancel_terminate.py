"""Cancel and terminate against the real server and our real Worker (SQLite, and PostgreSQL when set).

A heartbeating activity hears of the cancel on its next heartbeat (``ActivityCancelled``,
``ctx.is_cancelled``), the client's ``result()`` raises ``WorkflowCancelled`` /
``WorkflowTerminated`` with the reason, and the history says what was retired. Synchronisation
is on events (the activity's own, and the server's history long poll), never on sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import ActivityCancelled, ServerError, WorkflowCancelled, WorkflowTerminated
from tests.helpers.e2e_env import wait_for_event

# Per-test events (an asyncio.Event binds to the loop that first waits on it).
events: dict[str, asyncio.Event] = {}
thread_events: dict[str, threading.Event] = {}
seen: dict[str, Any] = {}


@activity.defn(name="patient")
async def patient() -> str:
    ctx = activity.context()
    await ctx.heartbeat({"step": 0})
    seen["before"] = ctx.is_cancelled
    events["heartbeating"].set()
    await asyncio.wait_for(events["command_sent"].wait(), timeout=20)
    try:
        await ctx.heartbeat({"step": 1})
    except ActivityCancelled as exc:  # the documented clean-up point: catch by name, re-raise
        seen["is_cancelled"] = ctx.is_cancelled
        seen["reason"] = str(exc)
        raise
    return "never cancelled"


@activity.defn(name="patient_in_a_thread")
def patient_in_a_thread() -> str:
    """A plain ``def`` activity: it runs in a worker thread and its heartbeat blocks."""
    ctx = activity.context()
    ctx.heartbeat({"step": 0})
    thread_events["heartbeating"].set()
    assert thread_events["command_sent"].wait(timeout=20)
    try:
        ctx.heartbeat({"step": 1})
    except ActivityCancelled as exc:
        seen["is_cancelled"] = ctx.is_cancelled
        seen["reason"] = str(exc)
        raise
    return "never cancelled"


@workflow.defn(name="waits_on_a_thread")
class WaitsOnAThread:
    def run(self, ctx: Any) -> Any:
        return (yield ctx.schedule_activity("patient_in_a_thread", [], heartbeat_timeout=30))


@workflow.defn(name="waits_on_a_patient_activity")
class WaitsOnAPatientActivity:
    def run(self, ctx: Any) -> Any:
        return (yield ctx.schedule_activity("patient", [], heartbeat_timeout=30))


@workflow.defn(name="sleeps_long")
class SleepsLong:
    def run(self, ctx: Any) -> Any:
        yield ctx.start_timer(seconds=600)
        return "woke"


async def _types(client: Client, workflow_id: str, run_id: str) -> list[str]:
    history = await client.get_history(workflow_id, run_id, page_size=1000)
    return [e["event_type"] for e in history["events"]]


@pytest.mark.parametrize("kind", ["cancel", "terminate"])
async def test_a_heartbeating_activity_learns_of_it_and_the_client_gets_the_documented_error(
    app: Any, client: Client, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="durable_workflow.worker")
    events.clear()
    seen.clear()
    events["heartbeating"], events["command_sent"] = asyncio.Event(), asyncio.Event()
    workflow_id = f"{kind}-heartbeat-1"
    handle = await client.start_workflow(
        workflow_type="waits_on_a_patient_activity", task_queue=f"{kind}-q", workflow_id=workflow_id
    )
    worker = Worker(client, task_queue=f"{kind}-q", workflows=[WaitsOnAPatientActivity], activities=[patient])
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(events["heartbeating"].wait(), timeout=20)
        described = await client.describe_workflow(workflow_id)
        (waiting,) = described.waiting_on.activities
        assert waiting.activity_type == "patient" and waiting.status == "running" and waiting.attempt == 1
        assert described.wait_kind == "activity" and described.raw["actions"]["can_cancel"] is True

        if kind == "cancel":
            await handle.cancel(reason="user asked")
        else:
            await client.terminate_workflow(workflow_id, reason="user asked")
        events["command_sent"].set()
        error = WorkflowCancelled if kind == "cancel" else WorkflowTerminated
        with pytest.raises(error) as caught:
            await handle.result(timeout=20.0)
        assert caught.value.reason == "user asked"
        assert "user asked" in caught.value.message
        closed = await _types(client, workflow_id, handle.run_id)
    finally:
        await worker.stop()  # drains the activity, whose late failure report the server ignores
        await running

    requested, final = (
        ("CancelRequested", "WorkflowCancelled")
        if kind == "cancel"
        else ("TerminateRequested", "WorkflowTerminated")
    )
    assert closed[-3:] == [requested, "ActivityCancelled", final]
    assert seen == {
        "before": False,
        "is_cancelled": True,
        "reason": "run_cancelled" if kind == "cancel" else "run_terminated",
    }
    # The activity's failure report after the cancel was answered "ignored" (reason
    # run_cancelled / run_terminated, which the worker logs at info), not stale_attempt (which it
    # would warn about); nothing was recorded.
    worker_logs = [r for r in caplog.records if r.name == "durable_workflow.worker"]
    closed_as = "cancelled" if kind == "cancel" else "terminated"
    assert any(
        r.levelno == logging.INFO and r.getMessage().endswith(f"failure ignored: the run was {closed_as}")
        for r in worker_logs
    ), [r.getMessage() for r in worker_logs]
    assert not [r for r in worker_logs if "not recorded" in r.getMessage()]
    assert await _types(client, workflow_id, handle.run_id) == closed
    described = await client.describe_workflow(workflow_id)
    assert described.status == ("cancelled" if kind == "cancel" else "terminated")
    assert described.waiting_on.is_empty and described.wait_kind is None
    assert described.raw["actions"]["can_cancel"] is False and described.raw["actions"]["can_archive"] is True


async def test_terminate_a_sleeping_workflow_cancels_its_timer(app: Any, client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="sleeps_long", task_queue="sleep-q", workflow_id="sleepy-1"
    )
    worker = Worker(client, task_queue="sleep-q", workflows=[SleepsLong])
    running = asyncio.create_task(worker.run())
    try:
        scheduled = await wait_for_event(app, "sleepy-1", handle.run_id, "TimerScheduled")
        described = await client.describe_workflow("sleepy-1")
        (timer,) = described.waiting_on.timers
        assert timer.timer_id == scheduled["payload"]["timer_id"] and described.wait_kind == "timer"
        await handle.terminate(reason="no more waiting")
        with pytest.raises(WorkflowTerminated) as caught:
            await handle.result(timeout=20.0)
        assert caught.value.reason == "no more waiting"
    finally:
        await worker.stop()
        await running
    types = await _types(client, "sleepy-1", handle.run_id)
    assert types[-3:] == ["TerminateRequested", "TimerCancelled", "WorkflowTerminated"]
    # A second terminate of the closed run is refused with the documented 409: a plain
    # ServerError (the product docs list "auth/server errors"), not a mapped subclass.
    with pytest.raises(ServerError) as refused:
        await handle.terminate()
    assert type(refused.value) is ServerError
    assert refused.value.reason == "run_not_active" and refused.value.status_code == 409
    assert refused.value.body["outcome"] == "rejected_not_active"


async def test_a_plain_def_activity_hears_of_the_cancel_on_its_blocking_heartbeat(client: Client) -> None:
    seen.clear()
    thread_events["heartbeating"], thread_events["command_sent"] = threading.Event(), threading.Event()
    handle = await client.start_workflow(
        workflow_type="waits_on_a_thread", task_queue="thread-q", workflow_id="thread-cancel-1"
    )
    worker = Worker(
        client, task_queue="thread-q", workflows=[WaitsOnAThread], activities=[patient_in_a_thread]
    )
    running = asyncio.create_task(worker.run())
    try:
        assert await asyncio.to_thread(thread_events["heartbeating"].wait, 20)
        await handle.cancel(reason="stop the thread")
        thread_events["command_sent"].set()
        with pytest.raises(WorkflowCancelled) as caught:
            await handle.result(timeout=20.0)
        assert caught.value.reason == "stop the thread"
    finally:
        thread_events["command_sent"].set()
        await worker.stop()
        await running
    assert seen == {"is_cancelled": True, "reason": "run_cancelled"}
