"""The real app over the real engine (SQLite file in tmp_path; PostgreSQL when DW_TEST_POSTGRES_URL is set).

Drives one workflow with one activity through the HTTP API the way a worker would: start →
describe → list → register → poll/complete the workflow task → poll/complete the activity →
final workflow task → history pages → export.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow.protocol import codec
from durable_workflow_server import Settings, create_app
from tests.helpers.http_helpers import check_cluster_info_compatible, control_headers, worker_headers


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real app and engine on ``db_url`` (SQLite file, or a fresh PostgreSQL database)."""
    settings = Settings(
        database_url=db_url,
        auth_token="test-token",
        long_poll_timeout=0.2,
        timer_loop_interval=0.05,
        poll_reprobe_interval=0.05,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def control(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return await client.request(method, f"/api{path}", headers=control_headers(), **kwargs)


async def worker(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    response = await client.post(f"/api/worker{path}", json=body, headers=worker_headers())
    assert response.headers["X-Durable-Workflow-Protocol-Version"] == "1.1"
    assert response.json()["protocol_version"] == "1.1"
    return response


async def poll_workflow_task(client: httpx.AsyncClient, worker_id: str, queue: str) -> dict[str, Any]:
    for _ in range(20):
        response = await worker(client, "/workflow-tasks/poll", {"worker_id": worker_id, "task_queue": queue})
        assert response.status_code == 200, response.text
        task = response.json()["task"]
        if task is not None:
            return task  # type: ignore[no-any-return]
    raise AssertionError("no workflow task arrived")


async def test_ready_health_and_cluster_info(api: httpx.AsyncClient) -> None:
    ready = await api.get("/api/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert (await api.get("/api/health")).json()["status"] == "serving"
    info = await api.get("/api/cluster/info", headers={"Authorization": "Bearer test-token"})
    assert info.status_code == 200
    check_cluster_info_compatible(info.json())
    assert info.json()["worker_fleet"]["namespace"] == "default"


async def test_one_workflow_with_one_activity_end_to_end(api: httpx.AsyncClient) -> None:
    suffix = uuid.uuid4().hex[:8]
    workflow_id, queue, worker_id = f"greeting-{suffix}", f"q-{suffix}", f"py-worker-{suffix}"

    # start (SDK style: avro envelope input)
    started = await control(
        api,
        "POST",
        "/workflows",
        json={
            "workflow_id": workflow_id,
            "workflow_type": "greeter",
            "task_queue": queue,
            "input": codec.envelope(["world"]),
            "execution_timeout_seconds": 3600,
            "run_timeout_seconds": 600,
        },
    )
    assert started.status_code == 201, started.text
    start_body = started.json()
    assert start_body["outcome"] == "started_new" and start_body["workflow_type"] == "greeter"
    assert start_body["control_plane"]["operation"] == "start"
    run_id = start_body["run_id"]

    # a second start is a typed duplicate; use-existing returns the open run
    duplicate = await control(
        api, "POST", "/workflows", json={"workflow_id": workflow_id, "workflow_type": "greeter"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["reason"] == "duplicate_not_allowed"
    existing = await control(
        api,
        "POST",
        "/workflows",
        json={"workflow_id": workflow_id, "workflow_type": "greeter", "duplicate_policy": "use-existing"},
    )
    assert existing.status_code == 200 and existing.json()["run_id"] == run_id

    # bad input writes nothing: the run list still has one run
    bad = await control(api, "POST", "/workflows", json={"workflow_id": workflow_id, "workflow_type": 7})
    assert bad.status_code == 422

    described = await control(api, "GET", f"/workflows/{workflow_id}")
    assert described.status_code == 200
    assert (
        described.json()["run_id"] == run_id and described.json()["control_plane"]["operation"] == "describe"
    )
    listed = await control(api, "GET", "/workflows", params={"workflow_type": "greeter", "status": "running"})
    assert workflow_id in {row["workflow_id"] for row in listed.json()["workflows"]}
    runs = await control(api, "GET", f"/workflows/{workflow_id}/runs")
    assert runs.json()["run_count"] == 1

    # worker: poll before register is refused, then register
    early = await worker(api, "/workflow-tasks/poll", {"worker_id": worker_id, "task_queue": queue})
    assert early.status_code == 412 and early.json()["reason"] == "worker_not_registered"
    registered = await worker(
        api,
        "/register",
        {
            "worker_id": worker_id,
            "task_queue": queue,
            "runtime": "python",
            "supported_workflow_types": ["greeter"],
            "supported_activity_types": ["greet"],
        },
    )
    assert registered.status_code == 201 and registered.json()["registered"] is True
    assert (await worker(api, "/heartbeat", {"worker_id": worker_id})).status_code == 200

    # first workflow task → schedule the activity
    task = await poll_workflow_task(api, worker_id, queue)
    assert task["workflow_id"] == workflow_id and task["run_id"] == run_id
    assert codec.decode_envelope(task["arguments"]) == ["world"]
    fence = {"lease_owner": worker_id, "workflow_task_attempt": task["workflow_task_attempt"]}
    schedule = {
        "type": "schedule_activity",
        "activity_type": "greet",
        "queue": queue,
        "arguments": codec.envelope(["world"]),
    }
    complete_url = f"/workflow-tasks/{task['task_id']}/complete"
    untyped = await worker(api, complete_url, {**fence, "commands": [{}]})
    assert untyped.status_code == 422  # shape errors are refused before the fence is checked
    intruder = await worker(api, complete_url, {**fence, "lease_owner": "intruder", "commands": [schedule]})
    assert intruder.status_code == 409 and intruder.json()["reason"] == "lease_owner_mismatch"
    completed = await worker(api, complete_url, {**fence, "commands": [schedule]})
    assert completed.status_code == 200, completed.text
    assert completed.json()["reason"] is None

    # the activity
    activity = None
    for _ in range(20):
        polled = await worker(api, "/activity-tasks/poll", {"worker_id": worker_id, "task_queue": queue})
        assert polled.status_code == 200, polled.text
        activity = polled.json()["task"]
        if activity is not None:
            break
    assert activity is not None and activity["activity_type"] == "greet"
    assert codec.decode_envelope(activity["arguments"]) == ["world"]
    attempt = {"activity_attempt_id": activity["activity_attempt_id"], "lease_owner": worker_id}
    beat = await worker(
        api, f"/activity-tasks/{activity['task_id']}/heartbeat", {**attempt, "message": "working"}
    )
    assert beat.status_code == 200 and beat.json()["cancel_requested"] is False
    result = {"greeting": "Hello, world!", "length": 5}
    done = await worker(
        api, f"/activity-tasks/{activity['task_id']}/complete", {**attempt, "result": codec.envelope(result)}
    )
    assert done.status_code == 200, done.text
    again = await worker(
        api, f"/activity-tasks/{activity['task_id']}/complete", {**attempt, "result": codec.envelope(result)}
    )
    assert again.status_code in (404, 409)

    # second workflow task → complete the workflow
    task = await poll_workflow_task(api, worker_id, queue)
    fence = {"lease_owner": worker_id, "workflow_task_attempt": task["workflow_task_attempt"]}
    finish = {"type": "complete_workflow", "result": codec.envelope(result)}
    completed = await worker(
        api, f"/workflow-tasks/{task['task_id']}/complete", {**fence, "commands": [finish]}
    )
    assert completed.status_code == 200, completed.text
    stale = await worker(api, f"/workflow-tasks/{task['task_id']}/complete", {**fence, "commands": [finish]})
    assert stale.status_code in (404, 409)

    described = (await control(api, "GET", f"/workflows/{workflow_id}/runs/{run_id}")).json()
    assert described["status"] == "completed"
    assert described["control_plane"]["operation"] == "describe_run"

    # history: paged with a token, then exported
    first = await control(
        api, "GET", f"/workflows/{workflow_id}/runs/{run_id}/history", params={"page_size": 2}
    )
    assert first.status_code == 200
    events = list(first.json()["events"])
    token = first.json()["next_page_token"]
    assert len(events) == 2 and token
    while token:
        page = await control(
            api, "GET", f"/workflows/{workflow_id}/runs/{run_id}/history", params={"next_page_token": token}
        )
        events.extend(page.json()["events"])
        token = page.json()["next_page_token"]
    types = [event["event_type"] for event in events]
    assert types[0] in ("StartAccepted", "WorkflowStarted") and types[-1] == "WorkflowCompleted"
    assert "ActivityCompleted" in types
    assert codec.decode(events[-1]["payload"]["output"]) == result

    exported = await control(api, "GET", f"/workflows/{workflow_id}/runs/{run_id}/history/export")
    assert exported.status_code == 200
    bundle = exported.json()
    assert bundle["schema"] == "durable-workflow.v2.history-export" and "control_plane" not in bundle
    assert bundle["workflow"]["run_id"] == run_id and bundle["history_complete"] is True

    missing = await control(api, "GET", f"/workflows/{workflow_id}/runs/nope/history")
    assert missing.status_code == 404 and missing.json()["reason"] == "run_not_found"
    unknown = await control(api, "GET", "/workflows/never-started")
    assert unknown.status_code == 404 and unknown.json()["reason"] == "instance_not_found"
