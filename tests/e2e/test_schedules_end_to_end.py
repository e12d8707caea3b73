"""Schedules end to end: the real app and engine, our SDK client and the real Worker.

Time is an injected clock: the test advances it and runs the engine's sweep (``tick``), the one
background loop's pass, instead of waiting for minutes to go by. The product docs' Schedules
example runs as written.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from asgi_lifespan import LifespanManager

from durable_workflow import (
    Client,
    ScheduleAction,
    ScheduleAlreadyExists,
    ScheduleNotFound,
    ScheduleSpec,
    Worker,
    activity,
    workflow,
)
from durable_workflow.errors import InvalidArgument
from durable_workflow_server import create_app
from durable_workflow_server.engine.service import Engine
from tests.helpers.e2e_env import e2e_settings, sdk_client
from tests.server.conftest import FakeClock

QUEUE = "schedules-e2e"


@dataclass
class Server:
    engine: Engine
    clock: FakeClock
    app: Any

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.engine.tick()


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    clock = FakeClock()
    settings = e2e_settings(database_url, clock=clock)
    engine = Engine(settings, background_loop=False)
    app = create_app(settings, engine=engine)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield Server(engine, clock, app)


@pytest.fixture
async def sdk(server: Server) -> AsyncIterator[Client]:
    async with sdk_client(server.app) as client:
        yield client


@activity.defn(name="render")
async def render(options: dict[str, Any]) -> str:
    return f"report.{options['format']}"


@workflow.defn(name="generate-report")
class GenerateReport:
    def run(self, ctx, options):  # type: ignore[no-untyped-def]
        return (yield ctx.schedule_activity("render", [options]))


async def test_fires_run_on_the_real_worker_and_the_next_fire_waits_for_overlap(
    server: Server, sdk: Client
) -> None:
    handle = await sdk.create_schedule(
        schedule_id="minutely-report",
        spec=ScheduleSpec(cron_expressions=["* * * * *"]),
        action=ScheduleAction(workflow_type="generate-report", task_queue=QUEUE, input=[{"format": "pdf"}]),
        memo={"team": "ops"},
    )
    worker = Worker(sdk, task_queue=QUEUE, workflows=[GenerateReport], activities=[render])
    running = asyncio.create_task(worker.run())
    try:
        await server.advance(60)
        first = (await handle.describe()).latest_workflow_instance_id
        assert first == "minutely-report-20260301T120100Z"
        assert await sdk.get_workflow_handle(first).result(poll_interval=0.01, timeout=20) == "report.pdf"
        await server.advance(60)  # the first one closed: no overlap, the next fire starts
        second = (await handle.describe()).latest_workflow_instance_id
        assert second == "minutely-report-20260301T120200Z"
        assert await sdk.get_workflow_handle(second).result(poll_interval=0.01, timeout=20) == "report.pdf"
        described = await handle.describe()
        assert (described.fires_count, described.input, described.memo) == (
            2,
            [{"format": "pdf"}],
            {"team": "ops"},
        )
        assert (await sdk.describe_workflow(second)).memo == {"team": "ops"}
    finally:
        await worker.stop()
        await running
    events = [e.event_type async for e in handle.iter_history(limit=1)]
    assert events == ["ScheduleCreated", "ScheduleTriggered", "ScheduleTriggered"]


async def test_refusals_raise_the_documented_exceptions(sdk: Client) -> None:
    spec = ScheduleSpec(intervals=[{"every": "PT30M"}], timezone="UTC")
    await sdk.create_schedule(schedule_id="dup", spec=spec, action=ScheduleAction(workflow_type="w"))
    with pytest.raises(ScheduleAlreadyExists):
        await sdk.create_schedule(schedule_id="dup", spec=spec, action=ScheduleAction(workflow_type="w"))
    with pytest.raises(InvalidArgument) as bad:
        await sdk.create_schedule(
            schedule_id="bad", spec=ScheduleSpec(cron_expressions=["every day"]), action=ScheduleAction("w")
        )
    assert bad.value.reason == "validation_failed" and "spec.cron_expressions.0" in (bad.value.errors or {})
    for call in (
        sdk.describe_schedule("missing"),
        sdk.pause_schedule("missing"),
        sdk.get_schedule_history("missing"),
        sdk.get_schedule_handle("missing").delete(),
    ):
        with pytest.raises(ScheduleNotFound):
            await call
    listed = await sdk.list_schedules()
    assert [s.schedule_id for s in listed] == ["dup"]
    assert listed.schedules[0].spec == {"intervals": [{"every": "PT30M"}], "timezone": "UTC"}


async def test_the_product_docs_schedules_example_runs_as_written(server: Server, sdk: Client) -> None:
    client = sdk
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        # -- the docs' example, unchanged ----------------------------------------------------
        from durable_workflow import ScheduleAction, ScheduleSpec

        # Create a schedule
        handle = await client.create_schedule(
            schedule_id="hourly-report",
            spec=ScheduleSpec(cron_expressions=["0 * * * *"]),
            action=ScheduleAction(
                workflow_type="generate-report",
                task_queue="default",
                input=[{"format": "pdf"}],
            ),
            overlap_policy="skip",
            jitter_seconds=30,
        )

        # List all schedules
        schedule_list = await client.list_schedules()

        # Describe a schedule
        desc = await handle.describe()
        print(f"Next fire: {desc.next_fire_at}")
        print(f"Total fires: {desc.fires_count}")

        # Pause and resume
        await handle.pause(note="maintenance window")
        await handle.resume(note="maintenance complete")

        # Trigger immediately
        result = await handle.trigger()

        # Backfill missed runs
        backfill = await handle.backfill(
            start_time="2024-01-01T00:00:00Z",
            end_time="2024-01-02T00:00:00Z",
        )

        # Update the schedule
        await handle.update(
            spec=ScheduleSpec(cron_expressions=["*/30 * * * *"]),
            note="Changed to every 30 minutes",
        )

        # Read the audit history stream (paused/resumed/triggered/updated events)
        page = await handle.history(limit=100)
        for event in page.events:
            print(event.sequence, event.event_type, event.recorded_at)
        while page.has_more and page.next_cursor is not None:
            page = await handle.history(limit=100, after_sequence=page.next_cursor)
            for event in page.events:
                print(event.sequence, event.event_type, event.recorded_at)

        # Or iterate every event without managing cursors
        async for event in handle.iter_history():
            print(event.sequence, event.event_type)

        # Delete the schedule (history survives the delete for audit)
        await handle.delete()
        # -------------------------------------------------------------------------------------
    assert [s.schedule_id for s in schedule_list] == ["hourly-report"]
    assert desc.next_fire_at is not None and desc.next_fire_at.startswith("2026-03-01T13:00:")
    assert result.outcome == "triggered" and result.workflow_id
    # The triggered workflow still runs (no worker here): every backfilled hour overlaps it.
    assert (backfill.fires_attempted, {r.outcome for r in backfill.results}) == (24, {"skipped"})
    lines = output.getvalue().splitlines()
    assert lines[0].startswith("Next fire: 2026-03-01T13:00:") and lines[1] == "Total fires: 0"
    kinds = [line.split()[1] for line in lines[2:]]
    history = kinds[: len(kinds) // 2]
    assert history == kinds[len(kinds) // 2 :]  # the pages and the iterator agree
    assert history[:4] == ["ScheduleCreated", "SchedulePaused", "ScheduleResumed", "ScheduleTriggered"]
    assert history[-1] == "ScheduleUpdated" and history.count("ScheduleTriggerSkipped") == 24
    with pytest.raises(ScheduleNotFound):
        await handle.describe()
    audit = [e.event_type async for e in client.iter_schedule_history("hourly-report")]
    assert audit[-1] == "ScheduleDeleted"
