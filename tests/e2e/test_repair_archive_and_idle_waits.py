"""Repair, archive, and a long sleep that holds no worker slot, against the real server and Worker.

Time is an injected clock the test advances: a ten-minute sleep takes no real time, and a lease
expires when the test says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import ServerError
from durable_workflow_server import create_app
from durable_workflow_server.engine.service import Engine
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app, sdk_client, wait_for_event
from tests.helpers.http_helpers import worker_headers
from tests.server.conftest import FakeClock


@activity.defn(name="work")
async def work(what: str) -> str:
    return f"worked {what}"


@workflow.defn(name="sleeps_ten_minutes_then_waits")
class SleepsTenMinutesThenWaits:
    def __init__(self) -> None:
        self.go: str | None = None

    @workflow.signal("go")
    def on_go(self, what: str) -> None:
        self.go = what

    def run(self, ctx: Any) -> Any:
        yield ctx.start_timer(seconds=600)
        yield ctx.wait_condition(lambda: self.go is not None, key="go")
        return (yield ctx.schedule_activity("work", [self.go]))


@workflow.defn(name="works_now")
class WorksNow:
    def run(self, ctx: Any) -> Any:
        return (yield ctx.schedule_activity("work", ["now"]))


async def _types(client: Client, workflow_id: str, run_id: str) -> list[str]:
    history = await client.get_history(workflow_id, run_id, page_size=1000)
    return [e["event_type"] for e in history["events"]]


async def _quick_run_completes(client: Client, workflow_id: str) -> None:
    """B needs the only workflow slot twice (start, then after its activity) and the only
    activity slot once: it completes only while no other run holds either."""
    quick = await client.start_workflow(
        workflow_type="works_now", task_queue="slot-q", workflow_id=workflow_id
    )
    assert await quick.result(timeout=20.0) == "worked now"


async def test_a_ten_minute_sleep_then_a_wait_for_a_signal_hold_no_worker_slot(database_url: str) -> None:
    clock = FakeClock()
    async with running_app(e2e_settings(database_url, clock=clock)) as app, sdk_client(app) as client:
        # One workflow slot and one activity slot: a waiting run holding either would starve B.
        worker = Worker(
            client,
            task_queue="slot-q",
            workflows=[SleepsTenMinutesThenWaits, WorksNow],
            activities=[work],
            max_concurrent_workflow_tasks=1,
            max_concurrent_activity_tasks=1,
        )
        running = asyncio.create_task(worker.run())
        try:
            sleeper = await client.start_workflow(
                workflow_type="sleeps_ten_minutes_then_waits",
                task_queue="slot-q",
                workflow_id="sleeper-1",
                run_timeout_seconds=3600,
            )
            await wait_for_event(app, "sleeper-1", sleeper.run_id, "TimerScheduled")
            described = await client.describe_workflow("sleeper-1")
            assert described.status == "waiting" and described.wait_kind == "timer"
            (timer,) = described.waiting_on.timers
            assert timer.fire_at is not None and timer.fire_at.startswith("2026-03-01T12:10:00")
            await _quick_run_completes(client, "b-1")  # while A sleeps
            still = await client.describe_workflow("sleeper-1")
            assert still.status == "waiting" and len(still.waiting_on.timers) == 1

            clock.advance(600)  # ten minutes later A wakes, then waits for the signal
            await wait_for_event(app, "sleeper-1", sleeper.run_id, "ConditionWaitOpened")
            described = await client.describe_workflow("sleeper-1")
            assert described.wait_kind == "condition" and described.waiting_on.timers == []
            (wait,) = described.waiting_on.condition_waits
            assert wait.key == "go" and wait.timeout_seconds is None
            await _quick_run_completes(client, "b-2")  # while A waits for the signal

            await client.signal_workflow("sleeper-1", "go", ["late"])
            assert await sleeper.result(timeout=20.0) == "worked late"
        finally:
            await worker.stop()
            await running
        types = await _types(client, "sleeper-1", sleeper.run_id)
        assert types.count("TimerFired") == 1 and types.count("ActivityScheduled") == 1
        assert types[-1] == "WorkflowCompleted"


@asynccontextmanager
async def _app_without_sweeps(database_url: str, clock: FakeClock) -> AsyncIterator[Any]:
    """The real app over an engine whose background loop does not run: only repair requeues."""
    settings = e2e_settings(database_url, clock=clock)
    app = create_app(settings, engine=Engine(settings, background_loop=False))
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield app


async def test_repair_redispatches_a_lost_task_and_archive_closes_the_books(database_url: str) -> None:
    clock = FakeClock()
    async with _app_without_sweeps(database_url, clock) as app, sdk_client(app) as client:
        handle = await client.start_workflow(
            workflow_type="works_now", task_queue="repair-q", workflow_id="lost-1"
        )
        # A worker leases the first task and dies with it.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            headers = worker_headers(token=TOKEN)
            body = {"worker_id": "crashed", "task_queue": "repair-q", "runtime": "python"}
            assert (await http.post("/api/worker/register", json=body, headers=headers)).status_code == 201
            poll = {"worker_id": "crashed", "task_queue": "repair-q", "timeout_seconds": 5}
            leased = (await http.post("/api/worker/workflow-tasks/poll", json=poll, headers=headers)).json()
        task_id = leased["task"]["task_id"]

        healthy = await client.repair_workflow("lost-1")
        assert healthy.outcome == "repair_not_needed" and healthy.command_status == "accepted"
        assert "RepairRequested" not in await _types(client, "lost-1", handle.run_id)

        clock.advance(3600)  # far past the lease; no sweep runs in this app
        repaired = await client.repair_workflow("lost-1")
        assert repaired.outcome == "repair_dispatched" and repaired.run_id == handle.run_id
        events = (await client.get_history("lost-1", handle.run_id))["events"]
        (repair,) = [e for e in events if e["event_type"] == "RepairRequested"]
        assert repair["payload"]["liveness_state"] == "workflow_task_lease_expired"
        assert repair["payload"]["task_id"] == task_id
        assert repair["payload"]["workflow_command_id"] == repaired.command_id

        worker = Worker(client, task_queue="repair-q", workflows=[WorksNow], activities=[work])
        execution = await worker.run_until(workflow_id="lost-1", timeout=30.0, poll_interval=0.05)
        assert execution.status == "completed"
        assert await handle.result(timeout=10.0) == "worked now"

        archived = await client.archive_workflow("lost-1", reason="retention")
        assert archived.outcome == "archived" and archived.reason == "retention"
        described = await client.describe_workflow("lost-1")
        assert described.archived is True and described.archive_reason == "retention"
        assert described.archived_at is not None and described.raw["actions"]["can_archive"] is False
        types = await _types(client, "lost-1", handle.run_id)
        assert types[-2:] == ["ArchiveRequested", "WorkflowArchived"]
        again = await client.archive_workflow("lost-1")
        assert again.outcome == "archive_not_needed"
        assert await _types(client, "lost-1", handle.run_id) == types
        with pytest.raises(ServerError) as refused:
            await client.repair_workflow("lost-1")
        assert refused.value.reason == "run_not_active" and refused.value.status_code == 409

        # An open run cannot be archived; nothing is written.
        open_run = await client.start_workflow(
            workflow_type="works_now", task_queue="idle-q", workflow_id="open-1"
        )
        with pytest.raises(ServerError) as refused:
            await client.archive_workflow("open-1", reason="too soon")
        assert refused.value.reason == "run_not_closed" and refused.value.status_code == 409
        assert await _types(client, "open-1", open_run.run_id) == ["StartAccepted", "WorkflowStarted"]
