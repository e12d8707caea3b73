"""Namespace isolation on every read and list, for tokens bound to one namespace.

Two namespaces hold the same kinds of things under the same queue name: workflows (with history
from a signal), a schedule, a registered worker, a search attribute. Everything of B carries the
marker ``zzb`` in its name. A's tokens (``DW_NAMESPACE_TOKENS``) read and list everything in A
and never see B: no answer to any of their reads holds B's marker, B's ids are 404 from A, the
shared queue's backlog in A counts A's tasks only, and A's worker polling the shared queue gets
A's task and never B's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from durable_workflow_server.settings import parse_namespace_tokens

ADMIN = "iso-admin"
A, B = "tenant-a", "tenant-zzb"
A_OPERATOR, A_WORKER = "iso-a-operator", "iso-a-worker"
CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2"}
WORKER = {"X-Durable-Workflow-Protocol-Version": "1.1"}
QUEUE = "shared-q"  # the same name in both namespaces
MARK = "zzb"
GHOST_RUN = "01aaaaaaaaaaaaaaaaaaaaaaaa"


@dataclass
class Tenants:
    http: httpx.AsyncClient
    runs: dict[str, str]  # workflow id -> run id


def _as(token: str, namespace: str, plane: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Namespace": namespace, **plane}


async def _fill(http: httpx.AsyncClient, namespace: str, tag: str, workflows: int) -> dict[str, str]:
    headers = _as(ADMIN, namespace, CONTROL)
    runs = {}
    for n in range(workflows):
        workflow_id = f"wf-{tag}-{n}"
        start = {"workflow_id": workflow_id, "workflow_type": f"type-{tag}", "task_queue": QUEUE, "input": []}
        started = await http.post("/api/workflows", json=start, headers=headers)
        assert started.status_code == 201, started.text
        runs[workflow_id] = started.json()["run_id"]
        signal = await http.post(
            f"/api/workflows/{workflow_id}/signal/go-{tag}", json={"input": []}, headers=headers
        )
        assert signal.status_code == 202, signal.text
    schedule = {
        "schedule_id": f"sched-{tag}",
        "spec": {"cron_expressions": ["0 * * * *"]},
        "action": {"workflow_type": f"type-{tag}", "task_queue": QUEUE},
    }
    assert (await http.post("/api/schedules", json=schedule, headers=headers)).status_code == 201
    attribute = {"name": f"Attr{tag}", "type": "keyword"}
    assert (await http.post("/api/search-attributes", json=attribute, headers=headers)).status_code == 201
    worker = {"worker_id": f"w-{tag}", "task_queue": QUEUE, "runtime": "python"}
    registered = await http.post("/api/worker/register", json=worker, headers=_as(ADMIN, namespace, WORKER))
    assert registered.status_code == 201, registered.text
    return runs


@pytest.fixture
async def tenants(db_url: str) -> AsyncIterator[Tenants]:
    bound = f"{A}:operator:{A_OPERATOR},{A}:worker:{A_WORKER}"
    settings = Settings(
        database_url=db_url,
        auth_token=ADMIN,
        namespace_tokens=parse_namespace_tokens(bound),
        long_poll_timeout=0.05,
        timer_loop_interval=3600.0,
    )
    async with LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for name in (A, B):
                created = await http.post(
                    "/api/namespaces", json={"name": name}, headers=_as(ADMIN, "default", CONTROL)
                )
                assert created.status_code == 201, created.text
            runs = await _fill(http, A, "a", workflows=1)
            runs |= await _fill(http, B, MARK, workflows=2)
            yield Tenants(http, runs)


async def test_every_list_and_read_in_a_shows_nothing_of_b(tenants: Tenants) -> None:
    run_a = tenants.runs["wf-a-0"]
    reads = [
        "/api/cluster/info",
        "/api/namespaces",
        f"/api/namespaces/{A}",
        "/api/workflows",
        f"/api/workflows?workflow_type=type-{MARK}",
        "/api/workflows/wf-a-0",
        "/api/workflows/wf-a-0/runs",
        f"/api/workflows/wf-a-0/runs/{run_a}",
        f"/api/workflows/wf-a-0/runs/{run_a}/history",
        f"/api/workflows/wf-a-0/runs/{run_a}/history/export",
        "/api/workflows/wf-a-0/debug",
        "/api/schedules",
        "/api/schedules/sched-a",
        "/api/schedules/sched-a/history",
        "/api/search-attributes",
        "/api/task-queues",
        f"/api/task-queues/{QUEUE}",
        f"/api/task-queues/{QUEUE}/build-ids",
        "/api/workers",
        "/api/workers/w-a",
    ]
    for path in reads:
        response = await tenants.http.get(path, headers=_as(A_OPERATOR, A, CONTROL))
        assert response.status_code == 200, (path, response.text)
        assert MARK not in response.text, (path, response.text)

    listed = await tenants.http.get("/api/workflows", headers=_as(A_OPERATOR, A, CONTROL))
    assert [w["workflow_id"] for w in listed.json()["workflows"]] == ["wf-a-0"]
    queue = (await tenants.http.get(f"/api/task-queues/{QUEUE}", headers=_as(A_OPERATOR, A, CONTROL))).json()
    assert queue["stats"]["workflow_tasks"]["ready_count"] == 1  # B's two tasks are not A's backlog
    attributes = (
        await tenants.http.get("/api/search-attributes", headers=_as(A_OPERATOR, A, CONTROL))
    ).json()
    assert set(attributes["custom_attributes"]) == {"Attra"}


async def test_b_ids_are_not_found_from_a(tenants: Tenants) -> None:
    run_b = tenants.runs[f"wf-{MARK}-0"]
    for path in [
        f"/api/workflows/wf-{MARK}-0",
        f"/api/workflows/wf-{MARK}-0/runs",
        f"/api/workflows/wf-{MARK}-0/runs/{run_b}",
        f"/api/workflows/wf-{MARK}-0/runs/{run_b}/history",
        f"/api/workflows/wf-{MARK}-0/runs/{run_b}/history/export",
        f"/api/workflows/wf-a-0/runs/{run_b}/history",  # B's run under A's workflow id
        f"/api/workflows/wf-{MARK}-0/debug",
        f"/api/schedules/sched-{MARK}",
        f"/api/schedules/sched-{MARK}/history",
        f"/api/workers/w-{MARK}",
    ]:
        response = await tenants.http.get(path, headers=_as(A_OPERATOR, A, CONTROL))
        assert response.status_code == 404, (path, response.text)
        # The same refusal as for ids that exist nowhere: A cannot probe what B holds.
        ghost_path = path.replace(MARK, "ghost").replace(run_b, GHOST_RUN)
        ghost = await tenants.http.get(ghost_path, headers=_as(A_OPERATOR, A, CONTROL))
        assert (ghost.status_code, ghost.json()["reason"]) == (404, response.json()["reason"]), path


async def test_a_worker_on_the_shared_queue_gets_only_a_tasks(tenants: Tenants) -> None:
    headers = _as(A_WORKER, A, WORKER)
    register = {"worker_id": "w-a2", "task_queue": QUEUE, "runtime": "python"}
    assert (
        await tenants.http.post("/api/worker/register", json=register, headers=headers)
    ).status_code == 201
    poll = {"worker_id": "w-a2", "task_queue": QUEUE, "timeout_seconds": 0}
    first = await tenants.http.post("/api/worker/workflow-tasks/poll", json=poll, headers=headers)
    assert first.status_code == 200 and first.json()["task"]["workflow_id"] == "wf-a-0", first.text
    assert MARK not in first.text
    again = await tenants.http.post("/api/worker/workflow-tasks/poll", json=poll, headers=headers)
    assert again.status_code == 200 and again.json()["task"] is None, again.text  # B's two stay B's
