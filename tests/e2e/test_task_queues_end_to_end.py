"""Task queues, build-id cohorts and the worker registry through the real SDK Client and Worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from durable_workflow import Client, Worker, WorkerNotFound, activity, workflow
from durable_workflow.errors import InvalidArgument
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app, wait_for_event
from tests.helpers.live_app import snapshot

QUEUE = "tq-e2e"
gate = asyncio.Event()
started = asyncio.Event()


@activity.defn(name="tq_slow")
async def slow(text: str) -> str:
    started.set()
    await gate.wait()
    return text.upper()


@workflow.defn(name="tq_flow")
class Flow:
    def run(self, ctx: Any, text: str) -> Any:
        return (yield ctx.schedule_activity("tq_slow", [text]))


@asynccontextmanager
async def running(client: Client, **kwargs: Any) -> AsyncIterator[Worker]:
    worker = Worker(client, task_queue=QUEUE, workflows=[Flow], activities=[slow], **kwargs)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop()
        await task


@pytest.fixture(autouse=True)
def fresh_events() -> None:
    # New events per test: an asyncio.Event binds to the loop of the test that first awaits it.
    global gate, started
    gate, started = asyncio.Event(), asyncio.Event()


async def test_drain_stops_new_claims_while_the_in_flight_activity_completes(
    app: Any, client: Client
) -> None:
    async with running(client, build_id="b1", worker_id="tq-worker-b1") as worker:
        first = await client.start_workflow(
            workflow_type="tq_flow", task_queue=QUEUE, workflow_id="tq-1", input=["a"]
        )
        await asyncio.wait_for(started.wait(), 20)

        described = await client.describe_task_queue(QUEUE)
        [lease] = [lease for lease in described.current_leases if lease.task_type == "activity"]
        assert (lease.lease_owner, lease.workflow_id, lease.attempt_number) == (worker.worker_id, "tq-1", 1)
        assert [(p.worker_id, p.build_id) for p in described.pollers] == [("tq-worker-b1", "b1")]
        assert described.admission.activity_tasks is not None
        assert described.admission.activity_tasks.leased_count == 1

        state = await client.drain_task_queue_build_id(QUEUE, "b1")
        assert (state.build_id, state.drain_intent) == ("b1", "draining") and state.drained_at
        [me] = (await client.list_workers(task_queue=QUEUE)).workers
        assert me.status == "draining"
        second = await client.start_workflow(
            workflow_type="tq_flow", task_queue=QUEUE, workflow_id="tq-2", input=["b"]
        )

        gate.set()  # the in-flight attempt finishes normally
        assert first.run_id is not None
        await wait_for_event(app, "tq-1", first.run_id, "ActivityCompleted")
        # Neither wf-1's next workflow task nor wf-2's first one is claimed by the drained build.
        stats = (await client.describe_task_queue(QUEUE)).stats
        assert (stats.workflow_tasks.ready_count, stats.workflow_tasks.leased_count) == (2, 0)
        rollout = await client.list_task_queue_build_ids(QUEUE)
        assert [(c.build_id, c.rollout_status) for c in rollout] == [("b1", "draining")]

        resumed = await client.resume_task_queue_build_id(QUEUE, "b1")
        assert (resumed.drain_intent, resumed.drained_at) == ("active", None)
        assert await first.result(timeout=20.0) == "A"
        assert await second.result(timeout=20.0) == "B"


@workflow.defn(name="tq_versioned")
class VersionOne:
    def run(self, ctx: Any) -> Any:
        return "v1"
        yield  # a generator workflow


@workflow.defn(name="tq_versioned")
class VersionTwo:
    def run(self, ctx: Any) -> Any:
        return "v2"
        yield  # a generator workflow


async def test_promotion_sends_new_runs_to_the_promoted_build(client: Client) -> None:
    queue = "tq-versions"
    before = await client.start_workflow(
        workflow_type="tq_versioned", task_queue=queue, workflow_id="tq-before"
    )
    await client.promote_task_queue_build_id(queue, "b2")
    after = await client.start_workflow(
        workflow_type="tq_versioned", task_queue=queue, workflow_id="tq-after"
    )

    old = Worker(client, task_queue=queue, workflows=[VersionOne], build_id="b1", worker_id="old-build")
    old_running = asyncio.create_task(old.run())
    try:
        # The old build runs the run started before the promotion (it is the only worker) ...
        assert await before.result(timeout=20.0) == "v1"
        # ... but not the one started after it, which waits for the promoted build.
        assert (await client.describe_workflow("tq-after")).status in ("pending", "waiting")
        new = Worker(client, task_queue=queue, workflows=[VersionTwo], build_id="b2", worker_id="new-build")
        new_running = asyncio.create_task(new.run())
        try:
            assert await after.result(timeout=20.0) == "v2"
        finally:
            await new.stop()
            await new_running
    finally:
        await old.stop()
        await old_running
    rollout = {c.build_id: c for c in await client.list_task_queue_build_ids(queue)}
    assert rollout["b2"].new_start_selected and not rollout["b1"].new_start_selected


async def test_workers_are_listed_described_and_deregistered_idempotently(client: Client) -> None:
    async with running(client, build_id="b9", worker_id="tq-roster") as worker:
        await client.start_workflow(
            workflow_type="tq_flow", task_queue=QUEUE, workflow_id="tq-r", input=["r"]
        )
        await asyncio.wait_for(started.wait(), 20)
        described = await client.describe_worker("tq-roster")
        assert (described.task_queue, described.build_id, described.runtime) == (QUEUE, "b9", "python")
        assert described.supported_workflow_types == ["tq_flow"]
        assert described.supported_activity_types == ["tq_slow"]
        assert described.status == "active" and described.sdk_version
        assert described.admission is not None and described.admission["activity_tasks"]["leased_count"] == 1

        assert await client.deregister_worker("tq-roster") == {
            "worker_id": "tq-roster",
            "outcome": "deregistered",
        }
        assert (await client.deregister_worker("tq-roster"))["outcome"] == "already_absent"
        # The in-flight activity is not interrupted: the run completes (the worker registers again).
        gate.set()
        handle = client.get_workflow_handle("tq-r")
        assert await handle.result(timeout=20.0) == "R"
        assert worker.worker_id == "tq-roster"
    with pytest.raises(WorkerNotFound):
        await client.describe_worker("never-registered")
    with pytest.raises(InvalidArgument):
        await client.list_workers(status="sleepy")


CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2", "Authorization": f"Bearer {TOKEN}"}
DRAIN, RESUME, PROMOTE = (
    f"/api/task-queues/{QUEUE}/build-ids/{verb}" for verb in ("drain", "resume", "promote")
)
BAD: list[tuple[str, str, str, dict[str, Any], dict[str, str], int, str]] = [
    ("drain without build_id", "POST", DRAIN, {}, CONTROL, 422,
     "validation_failed"),
    ("promote with a number", "POST", PROMOTE, {"build_id": 7}, CONTROL, 422,
     "validation_failed"),
    ("resume with a long id", "POST", RESUME, {"build_id": "x" * 256},
     CONTROL, 422, "validation_failed"),
    ("drain on a long queue name", "POST", f"/api/task-queues/{'q' * 256}/build-ids/drain",
     {"build_id": None}, CONTROL, 422, "validation_failed"),
    ("drain in an unknown namespace", "POST", DRAIN, {"build_id": "b"},
     {**CONTROL, "X-Namespace": "nope"}, 404, "namespace_not_found"),
    ("unknown worker status", "GET", "/api/workers?status=sleepy", {}, CONTROL, 422, "validation_failed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "headers", "status", "reason"), BAD, ids=[b[0] for b in BAD]
)
async def test_bad_input_is_refused_and_writes_nothing(
    app: Any, database_url: str, name: str, method: str, path: str, body: dict[str, Any],
    headers: dict[str, str], status: int, reason: str,
) -> None:  # fmt: skip
    before = await snapshot(database_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        kwargs: dict[str, Any] = {"json": body} if method == "POST" else {}
        response = await http.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["reason"] == reason
    assert await snapshot(database_url) == before


async def test_deregister_is_admin_only(database_url: str) -> None:
    settings = e2e_settings(database_url, operator_token="op-token", admin_token="admin-token")
    async with running_app(settings) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            operator = {**CONTROL, "Authorization": "Bearer op-token"}
            refused = await http.delete("/api/workers/w-1", headers=operator)
            assert (refused.status_code, refused.json()["reason"]) == (403, "forbidden")
            assert (await http.get("/api/workers", headers=operator)).status_code == 200
            admin = {**CONTROL, "Authorization": "Bearer admin-token"}
            assert (await http.delete("/api/workers/w-1", headers=admin)).json()[
                "outcome"
            ] == "already_absent"
