"""A started server over a real database with one leased workflow task and one leased activity
attempt, and a snapshot of every row: what the refusal tests send their odd input to.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from durable_workflow_server.store.tables import ALL_TABLES

TOKEN = "bad-input-token"
CONTROL = {
    "X-Durable-Workflow-Control-Plane-Version": "2",
    "Authorization": f"Bearer {TOKEN}",
    "Content-Type": "application/json",
}
WORKER = {
    "X-Durable-Workflow-Protocol-Version": "1.1",
    "Authorization": f"Bearer {TOKEN}",
    "Content-Type": "application/json",
}
BIG = 2**31
TOKEN_BEYOND_BIGINT = base64.b64encode(str(2**63).encode()).decode()


@dataclass
class Live:
    """A started server with one leased workflow task and one leased activity attempt."""

    http: httpx.AsyncClient
    db_url: str
    task_id: str
    fence: dict[str, Any]
    activity_task_id: str
    activity_fence: dict[str, Any]
    run_id: str


async def snapshot(db_url: str) -> dict[str, list[str]]:
    """Every row of every table, as text, in a stable order."""
    rows: dict[str, list[str]] = {}
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.split("///", 1)[1])
        try:
            for table in ALL_TABLES:
                found = conn.execute(f'SELECT * FROM "{table.name}"').fetchall()
                rows[table.name] = sorted(repr(row) for row in found)
        finally:
            conn.close()
        return rows
    import asyncpg

    pg = await asyncpg.connect(db_url)
    try:
        for table in ALL_TABLES:
            found = await pg.fetch(f'SELECT * FROM "{table.name}"')
            rows[table.name] = sorted(repr(tuple(row.values())) for row in found)
    finally:
        await pg.close()
    return rows


@pytest.fixture
async def live(db_url: str, clock: Any) -> AsyncIterator[Live]:
    settings = Settings(
        database_url=db_url,
        auth_token=TOKEN,
        long_poll_timeout=0.2,
        timer_loop_interval=3600.0,
        poll_reprobe_interval=0.05,
        clock=clock,
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            start = {"workflow_id": "wf-1", "workflow_type": "greeter", "task_queue": "q", "input": ["x"]}
            started = await http.post("/api/workflows", json=start, headers=CONTROL)
            assert started.status_code == 201, started.text
            registration = {"worker_id": "w1", "task_queue": "q", "runtime": "python"}
            assert (
                await http.post("/api/worker/register", json=registration, headers=WORKER)
            ).status_code == 201
            poll = {"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1}
            task = (await http.post("/api/worker/workflow-tasks/poll", json=poll, headers=WORKER)).json()[
                "task"
            ]
            fence = {
                "lease_owner": task["lease_owner"],
                "workflow_task_attempt": task["workflow_task_attempt"],
            }
            schedule = {
                **fence,
                "commands": [{"type": "schedule_activity", "activity_type": "act", "queue": "q"}],
            }
            completed = await http.post(
                f"/api/worker/workflow-tasks/{task['task_id']}/complete", json=schedule, headers=WORKER
            )
            assert completed.status_code == 200, completed.text
            activity = (await http.post("/api/worker/activity-tasks/poll", json=poll, headers=WORKER)).json()[
                "task"
            ]
            # A second workflow task stays leased, so the workflow-task routes have a live fence.
            await http.post("/api/workflows", json={**start, "workflow_id": "wf-2"}, headers=CONTROL)
            task2 = (await http.post("/api/worker/workflow-tasks/poll", json=poll, headers=WORKER)).json()[
                "task"
            ]
            yield Live(
                http,
                db_url,
                task2["task_id"],
                {
                    "lease_owner": task2["lease_owner"],
                    "workflow_task_attempt": task2["workflow_task_attempt"],
                },
                activity["task_id"],
                {
                    "activity_attempt_id": activity["activity_attempt_id"],
                    "lease_owner": activity["lease_owner"],
                },
                started.json()["run_id"],
            )
