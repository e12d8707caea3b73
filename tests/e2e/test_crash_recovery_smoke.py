"""Smoke test over a real socket: `kill -9` the server while a workflow waits on a timer.

After the restart the timer (which fell due while the server was down) fires, the workflow
completes, and no activity ran twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, workflow
from tests.helpers.server_process import ServerProcess, free_port

pytestmark = pytest.mark.smoke

executions: Counter[str] = Counter()


@activity.defn(name="before-sleep")
async def before_sleep(name: str) -> str:
    executions["before"] += 1
    return f"prepared {name}"


@activity.defn(name="after-sleep")
async def after_sleep(prepared: str) -> str:
    executions["after"] += 1
    return f"{prepared} and finished"


@workflow.defn(name="sleeper")
class Sleeper:
    def run(self, ctx: Any, name: str) -> Any:
        prepared = yield ctx.schedule_activity("before-sleep", [name])
        yield ctx.sleep(2)
        return (yield ctx.schedule_activity("after-sleep", [prepared]))


async def _wait_for_event(
    client: Client, workflow_id: str, run_id: str, event_type: str, timeout: float = 30.0
) -> dict[str, Any]:
    """The first ``event_type`` event of the run's history, once the server has recorded it.

    The server is another process, so there is no in-process event to wait on: poll the
    history (an observable condition) until a deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        history = await client.get_history(workflow_id, run_id)
        for event in history["events"]:
            if event["event_type"] == event_type:
                return dict(event)
        if time.monotonic() > deadline:
            raise AssertionError(f"{event_type} not recorded within {timeout}s")
        await asyncio.sleep(0.05)


async def test_kill_9_while_waiting_on_a_timer(tmp_path: Path) -> None:
    executions.clear()
    port = free_port()
    server = ServerProcess(port, tmp_path / "crash.sqlite3").start()
    try:
        async with Client(server.url, token=server.token) as client:
            handle = await client.start_workflow(
                workflow_type="sleeper", task_queue="crash", workflow_id="crash-1", input=["ada"]
            )
            worker = Worker(
                client,
                task_queue="crash",
                workflows=[Sleeper],
                activities=[before_sleep, after_sleep],
                poll_timeout=2.0,
            )
            running = asyncio.create_task(worker.run())
            scheduled = await _wait_for_event(client, "crash-1", handle.run_id, "TimerScheduled")
            fire_at = datetime.fromisoformat(scheduled["payload"]["fire_at"].replace("Z", "+00:00"))

            server.kill_hard()
            # The timer must fall due while nothing is running. That is the wall clock passing
            # the recorded fire time, which no event stands for, so wait for exactly that.
            await asyncio.sleep(max(0.0, (fire_at - datetime.now(timezone.utc)).total_seconds()) + 0.1)
            assert datetime.now(timezone.utc) > fire_at
            server.start()

            result = await handle.result(timeout=30.0)
            await worker.stop()
            await asyncio.wait_for(running, timeout=30)
    finally:
        server.stop()

    assert result == "prepared ada and finished"
    assert executions == Counter({"before": 1, "after": 1})
