"""System maintenance through the real app and our SDK: admin only, bad input writes nothing,
a lost task re-created by the repair pass lets a real Worker finish the workflow, retention
prunes a closed run past its window, and every pass repeated with nothing to do answers zeros.

Time is an injected clock the test advances (31 days pass in no time).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import Forbidden, InvalidArgument, WorkflowNotFound
from durable_workflow_server.store import tables as t
from tests.helpers.e2e_env import e2e_settings, running_app
from tests.server.conftest import FakeClock

ADMIN, OPERATOR, WORKER = "admin-secret", "operator-secret", "worker-secret"
DAY = 86_400.0


@activity.defn(name="maint_greet")
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn(name="maint_greeter")
class Greeter:
    def run(self, ctx: Any, name: str) -> Any:
        return (yield ctx.schedule_activity("maint_greet", [name]))


@asynccontextmanager
async def _server(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[Any, Client, Client]]:
    settings = e2e_settings(
        database_url, clock=clock, admin_token=ADMIN, operator_token=OPERATOR, worker_token=WORKER
    )
    async with running_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        admin = Client("http://testserver", token=ADMIN, transport=transport)
        operator = Client("http://testserver", token=OPERATOR, transport=transport)
        async with admin, operator:
            yield app, admin, operator


async def _rows(app: Any) -> dict[str, list[str]]:
    engine = app.state.engine
    found: dict[str, list[str]] = {}
    async with engine.store.read() as conn:
        for table in t.ALL_TABLES:
            rows = (await conn.execute(sa.select(table))).all()
            found[table.name] = sorted(json.dumps(list(row), default=str) for row in rows)
    return found


@asynccontextmanager
async def _worker(app: Any) -> AsyncIterator[None]:
    """A real Worker (with the worker token) while the block runs."""
    async with Client("http://testserver", token=WORKER, transport=httpx.ASGITransport(app=app)) as client:
        worker = Worker(client, task_queue="maint-q", workflows=[Greeter], activities=[greet])
        running = asyncio.create_task(worker.run())
        try:
            yield
        finally:
            await worker.stop()
            await asyncio.wait_for(running, 20)


async def test_maintenance_is_admin_only_and_bad_input_writes_nothing(database_url: str) -> None:
    async with _server(database_url, FakeClock()) as (app, admin, operator):
        await admin.start_workflow(
            workflow_type="maint_greeter", task_queue="maint-q", workflow_id="wf-1", input=["x"]
        )
        before = await _rows(app)
        for call in (
            operator.repair_status(),
            operator.repair_pass(),
            operator.retention_status(),
            operator.retention_pass(),
            operator.activity_timeout_status(),
            operator.activity_timeout_pass(),
        ):
            with pytest.raises(Forbidden):
                await call
        too_many = [f"run-{i}" for i in range(101)]
        for call in (
            admin.repair_pass(run_ids=too_many),
            admin.retention_pass(run_ids=too_many),
            admin.activity_timeout_pass(execution_ids=too_many),
            admin.retention_pass(limit=0),
            admin.activity_timeout_pass(limit=-1),
            admin.repair_pass(instance_id="x" * 129),
        ):
            with pytest.raises(InvalidArgument) as refused:
                await call
            assert refused.value.status_code == 422 and refused.value.reason == "validation_failed"
        assert (await _rows(app)) == before


async def test_bad_input_envelopes_name_the_field(database_url: str) -> None:
    async with _server(database_url, FakeClock()) as (app, _, _):
        headers = {"Authorization": f"Bearer {ADMIN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            answer = await http.post(
                "/api/system/retention/pass", json={"run_ids": ["ok", ""]}, headers=headers
            )
            assert answer.status_code == 422
            assert answer.json()["errors"] == {
                "run_ids": ["Each item of the run ids field must be a string of 1 to 128 characters."]
            }
            answer = await http.post(
                "/api/system/repair/pass", json={"run_ids": ["r"] * 101}, headers=headers
            )
            assert answer.json()["errors"] == {
                "run_ids": ["The run ids field must not have more than 100 items."]
            }
            answer = await http.get("/api/system/retention", params={"limit": "abc"}, headers=headers)
            assert (answer.status_code, answer.json()["reason"]) == (422, "validation_failed")
            # A limit above the cap is capped, not refused.
            answer = await http.get("/api/system/activity-timeouts", params={"limit": "500"}, headers=headers)
            assert (answer.status_code, answer.json()["scan_limit"]) == (200, 100)


async def test_repair_pass_recreates_a_lost_task_and_a_real_worker_finishes_the_workflow(
    database_url: str,
) -> None:
    async with _server(database_url, FakeClock()) as (app, admin, _):
        handle = await admin.start_workflow(
            workflow_type="maint_greeter", task_queue="maint-q", workflow_id="wf-lost", input=["Ada"]
        )
        async with app.state.engine.store.write() as conn:  # the task is lost before any worker saw it
            await conn.execute(sa.delete(t.workflow_tasks).where(t.workflow_tasks.c.workflow_id == "wf-lost"))
        status = await admin.repair_status()
        assert status["candidates"]["missing_task_candidates"] == 1
        report = await admin.repair_pass(instance_id="wf-lost")
        assert (report["repaired_missing_tasks"], report["dispatched_tasks"]) == (1, 1)
        assert report["missing_run_failures"] == [] and report["throttled"] is False
        async with _worker(app):
            assert await handle.result(timeout=20.0) == "Hello, Ada!"
        again = await admin.repair_pass()
        assert (again["selected_total_candidates"], again["dispatched_tasks"]) == (0, 0)


async def test_retention_prunes_a_closed_run_past_the_window_and_repeats_with_zeros(
    database_url: str,
) -> None:
    clock = FakeClock()
    async with _server(database_url, clock) as (app, admin, _):
        async with _worker(app):
            old = await admin.start_workflow(
                workflow_type="maint_greeter", task_queue="maint-q", workflow_id="wf-old", input=["Old"]
            )
            assert await old.result(timeout=20.0) == "Hello, Old!"
            clock.advance(31 * DAY)
            recent = await admin.start_workflow(
                workflow_type="maint_greeter", task_queue="maint-q", workflow_id="wf-recent", input=["New"]
            )
            assert await recent.result(timeout=20.0) == "Hello, New!"
        status = await admin.retention_status()
        assert status["expired_run_ids"] == [old.run_id] and status["retention_days"] == 30
        report = await admin.retention_pass()
        assert (report["processed"], report["pruned"], report["failed"]) == (1, 1, 0)
        assert report["results"][0]["history_events_deleted"] > 0
        with pytest.raises(WorkflowNotFound):
            await admin.describe_workflow("wf-old")
        assert (await admin.describe_workflow("wf-recent")).status == "completed"
        again = await admin.retention_pass()
        assert (again["processed"], again["pruned"], again["results"]) == (0, 0, [])
        timeouts = await admin.activity_timeout_pass()
        assert (timeouts["processed"], timeouts["enforced"]) == (0, 0)
        assert (await admin.activity_timeout_status())["expired_count"] == 0
