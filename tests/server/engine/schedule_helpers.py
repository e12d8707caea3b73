"""Helpers of the schedule engine tests: creating schedules, driving the clock like the loop does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from durable_workflow.protocol import codec
from durable_workflow_server.engine.schedules.api import CreateScheduleRequest
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import FakeClock

NS = "default"
EVERY_MINUTE = {"cron_expressions": ["* * * * *"]}


def action(**overrides: Any) -> Any:
    body: dict[str, Any] = {
        "workflow_type": "report",
        "task_queue": "reports",
        "input": codec.envelope(["pdf"]),
    }
    body.update(overrides)
    return body


async def create(
    engine: Engine,
    schedule_id: str = "s1",
    spec: dict[str, Any] | None = None,
    namespace: str = NS,
    **kwargs: Any,
) -> dict[str, Any]:
    request = CreateScheduleRequest(
        spec=EVERY_MINUTE if spec is None else spec,
        action=kwargs.pop("action", action()),
        schedule_id=schedule_id,
        **kwargs,
    )
    return dict(await engine.create_schedule(namespace, request))


async def events(engine: Engine, schedule_id: str = "s1", namespace: str = NS) -> list[dict[str, Any]]:
    page = await engine.schedule_history(namespace, schedule_id, limit=500, after_sequence=0)
    assert not page["has_more"]
    return [dict(e) for e in page["events"]]


async def started(engine: Engine, schedule_id: str = "s1", namespace: str = NS) -> list[str]:
    """The workflow ids the schedule started, in order (from its ScheduleTriggered events)."""
    return [
        str(e["workflow_instance_id"])
        for e in await events(engine, schedule_id, namespace)
        if e["event_type"] == "ScheduleTriggered"
    ]


async def skipped(engine: Engine, schedule_id: str = "s1") -> list[dict[str, Any]]:
    return [
        e["payload"] for e in await events(engine, schedule_id) if e["event_type"] == "ScheduleTriggerSkipped"
    ]


async def describe(engine: Engine, schedule_id: str = "s1", namespace: str = NS) -> dict[str, Any]:
    return dict(await engine.describe_schedule(namespace, schedule_id))


def parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


async def step(engine: Engine, clock: FakeClock, seconds: float = 60.0) -> None:
    clock.advance(seconds)
    await engine.tick()


async def run_until(engine: Engine, clock: FakeClock, end: datetime, *schedule_ids: str) -> None:
    """Advance the clock the way the running loop wakes: to each next fire (then ``end``), sweeping."""
    ids = schedule_ids or ("s1",)
    while True:
        due = [parse((await describe(engine, sid))["next_fire_at"]) for sid in ids]
        upcoming = [d for d in due if d is not None and d <= end]
        target = min(upcoming) if upcoming else end
        clock.current = max(clock.current, target)
        await engine.tick()
        if target >= end:
            return


async def close(engine: Engine, workflow_id: str, namespace: str = NS) -> None:
    """End a started workflow (no worker runs these), so the schedule's next fire does not overlap."""
    await engine.terminate_workflow(namespace, workflow_id, reason="test")
