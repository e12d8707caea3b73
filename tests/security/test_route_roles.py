"""Every served route x every kind of credential, against the real server and database.

The table below is written out, one line per route, with the roles the contract allows
on it (docs/protocol.md, "Authentication"); the test checks the server against it and fails when
a route is served that the table does not name, so a new route cannot land unclassified. For each
route and credential (none, a wrong token, the worker, operator and admin tokens, and an admin
token bound to another namespace by ``DW_NAMESPACE_TOKENS``) the answer is the documented one:
``401 unauthorized``, ``403 forbidden``, or not a refusal at all; a refused request leaves every
row of every table as it was; and every status is one the OpenAPI document names for the route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from durable_workflow_server.http.openapi import build_document
from durable_workflow_server.http.table import PLANES
from durable_workflow_server.settings import parse_namespace_tokens
from tests.helpers.live_app import snapshot

PUBLIC = None  # no credential needed
WORKER_ONLY = frozenset({"worker"})
OPERATORS = frozenset({"operator", "admin"})
ADMIN_ONLY = frozenset({"admin"})
ANYONE = frozenset({"worker", "operator", "admin"})

ROLE_TABLE: dict[tuple[str, str], frozenset[str] | None] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/cluster/info"): ANYONE,
    ("POST", "/workflows"): OPERATORS,
    ("GET", "/workflows"): OPERATORS,
    ("GET", "/workflows/{workflow_id}"): OPERATORS,
    ("GET", "/workflows/{workflow_id}/runs"): OPERATORS,
    ("GET", "/workflows/{workflow_id}/runs/{run_id}"): OPERATORS,
    ("GET", "/workflows/{workflow_id}/runs/{run_id}/history"): OPERATORS,
    ("GET", "/workflows/{workflow_id}/runs/{run_id}/history/export"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/signal/{name}"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/runs/{run_id}/signal/{name}"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/query/{name}"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/runs/{run_id}/query/{name}"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/update/{name}"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/runs/{run_id}/update/{name}"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/cancel"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/terminate"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/repair"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/archive"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/runs/{run_id}/cancel"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/runs/{run_id}/terminate"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/runs/{run_id}/repair"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/runs/{run_id}/archive"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/pause"): OPERATORS,
    ("POST", "/workflows/{workflow_id}/resume"): OPERATORS,
    ("GET", "/workflows/{workflow_id}/debug"): OPERATORS,
    ("GET", "/workflows/{workflow_id}/runs/{run_id}/debug"): OPERATORS,
    ("GET", "/namespaces"): OPERATORS,
    ("POST", "/namespaces"): ADMIN_ONLY,
    ("GET", "/namespaces/{namespace}"): OPERATORS,
    ("PUT", "/namespaces/{namespace}"): ADMIN_ONLY,
    ("DELETE", "/namespaces/{namespace}"): ADMIN_ONLY,
    ("PUT", "/namespaces/{namespace}/external-storage"): ADMIN_ONLY,
    ("POST", "/storage/test"): ADMIN_ONLY,
    ("GET", "/schedules"): OPERATORS,
    ("POST", "/schedules"): OPERATORS,
    ("GET", "/schedules/{schedule_id}"): OPERATORS,
    ("PUT", "/schedules/{schedule_id}"): OPERATORS,
    ("DELETE", "/schedules/{schedule_id}"): OPERATORS,
    ("POST", "/schedules/{schedule_id}/pause"): OPERATORS,
    ("POST", "/schedules/{schedule_id}/resume"): OPERATORS,
    ("POST", "/schedules/{schedule_id}/trigger"): OPERATORS,
    ("POST", "/schedules/{schedule_id}/backfill"): OPERATORS,
    ("GET", "/schedules/{schedule_id}/history"): OPERATORS,
    ("GET", "/search-attributes"): OPERATORS,
    ("POST", "/search-attributes"): OPERATORS,
    ("DELETE", "/search-attributes/{name}"): OPERATORS,
    ("GET", "/task-queues"): OPERATORS,
    ("GET", "/task-queues/{task_queue}"): OPERATORS,
    ("GET", "/task-queues/{task_queue}/build-ids"): OPERATORS,
    ("POST", "/task-queues/{task_queue}/build-ids/drain"): OPERATORS,
    ("POST", "/task-queues/{task_queue}/build-ids/resume"): OPERATORS,
    ("POST", "/task-queues/{task_queue}/build-ids/promote"): OPERATORS,
    ("GET", "/workers"): OPERATORS,
    ("GET", "/workers/{worker_id}"): OPERATORS,
    ("DELETE", "/workers/{worker_id}"): ADMIN_ONLY,
    ("GET", "/system/repair"): ADMIN_ONLY,
    ("POST", "/system/repair/pass"): ADMIN_ONLY,
    ("GET", "/system/activity-timeouts"): ADMIN_ONLY,
    ("POST", "/system/activity-timeouts/pass"): ADMIN_ONLY,
    ("GET", "/system/retention"): ADMIN_ONLY,
    ("POST", "/system/retention/pass"): ADMIN_ONLY,
    ("GET", "/system/metrics"): ADMIN_ONLY,
    ("GET", "/system/operator-metrics"): ADMIN_ONLY,
    ("POST", "/bridge-adapters/webhook/{adapter}"): OPERATORS,
    ("POST", "/worker/register"): WORKER_ONLY,
    ("POST", "/worker/heartbeat"): WORKER_ONLY,
    ("POST", "/worker/workflow-tasks/poll"): WORKER_ONLY,
    ("POST", "/worker/workflow-tasks/{task_id}/history"): WORKER_ONLY,
    ("POST", "/worker/workflow-tasks/{task_id}/heartbeat"): WORKER_ONLY,
    ("POST", "/worker/workflow-tasks/{task_id}/complete"): WORKER_ONLY,
    ("POST", "/worker/workflow-tasks/{task_id}/fail"): WORKER_ONLY,
    ("POST", "/worker/activity-tasks/poll"): WORKER_ONLY,
    ("POST", "/worker/activity-tasks/{task_id}/complete"): WORKER_ONLY,
    ("POST", "/worker/activity-tasks/{task_id}/fail"): WORKER_ONLY,
    ("POST", "/worker/activity-tasks/{task_id}/heartbeat"): WORKER_ONLY,
    ("POST", "/worker/query-tasks/poll"): WORKER_ONLY,
    ("POST", "/worker/query-tasks/{query_task_id}/complete"): WORKER_ONLY,
    ("POST", "/worker/query-tasks/{query_task_id}/fail"): WORKER_ONLY,
}

TOKENS = {"worker": "sec-worker", "operator": "sec-operator", "admin": "sec-admin"}
TENANT = "tenant-a"
BOUND_ADMIN = "sec-tenant-a-admin"  # an admin, but only of TENANT
CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2"}
WORKER = {"X-Durable-Workflow-Protocol-Version": "1.1"}
CREDENTIALS = ["none", "wrong", "worker", "operator", "admin", "other-namespace"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    plane: str
    tenancy: str


SERVED = [
    Route(op.method, op.path, plane.name, op.tenancy)
    for plane in PLANES
    for op in plane.operations
    if op.served
]
DOCUMENTED = {
    (method.upper(), path): set(spec["responses"])
    for path, item in build_document(PLANES, Settings())["paths"].items()
    for method, spec in item.items()
}


def test_the_table_names_every_served_route_and_no_other() -> None:
    assert sorted((r.method, r.path) for r in SERVED) == sorted(ROLE_TABLE)


def test_the_table_agrees_with_the_roles_the_routes_declare() -> None:
    # The table is the independent statement; this pins it to the route declarations too, so a
    # change of a route's roles is a visible change of this file.
    declared = {(op.method, op.path): op.roles or plane.roles for plane in PLANES for op in plane.operations}
    assert declared == ROLE_TABLE


@dataclass
class Server:
    http: httpx.AsyncClient
    db_url: str
    ids: dict[str, str]


def _admin(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS['admin']}", **extra}


def _worker(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS['worker']}", **WORKER, **extra}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_db_url: str) -> AsyncIterator[Server]:
    """One server for every route of the module: a denied request is checked by the rows it
    would have changed, so what allowed requests of earlier routes wrote does not matter."""
    db_url = module_db_url
    settings = Settings(
        database_url=db_url,
        **{f"{role}_token": token for role, token in TOKENS.items()},
        namespace_tokens=parse_namespace_tokens(f"{TENANT}:admin:{BOUND_ADMIN}"),
        long_poll_timeout=0.05,
        timer_loop_interval=3600.0,
    )
    async with LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            created = await http.post("/api/namespaces", json={"name": TENANT}, headers=_admin(**CONTROL))
            assert created.status_code == 201, created.text
            start = {"workflow_id": "wf-1", "workflow_type": "greeter", "task_queue": "q", "input": []}
            started = await http.post("/api/workflows", json=start, headers=_admin(**CONTROL))
            assert started.status_code == 201, started.text
            worker = {"worker_id": "w-1", "task_queue": "q", "runtime": "python"}
            assert (
                await http.post("/api/worker/register", json=worker, headers=_worker())
            ).status_code == 201
            poll = {"worker_id": "w-1", "task_queue": "q", "timeout_seconds": 1}
            task = (await http.post("/api/worker/workflow-tasks/poll", json=poll, headers=_worker())).json()
            ids = {
                "workflow_id": "wf-1",
                "run_id": started.json()["run_id"],
                "task_id": task["task"]["task_id"],
                "worker_id": "w-1",
            }
            yield Server(http, db_url, ids)


def _credential(kind: str) -> dict[str, str]:
    if kind == "none":
        return {}
    if kind == "wrong":
        return {"Authorization": "Bearer not-a-token-of-this-server"}
    if kind == "other-namespace":
        return {"Authorization": f"Bearer {BOUND_ADMIN}"}
    return {"Authorization": f"Bearer {TOKENS[kind]}"}


def _request(route: Route, kind: str, ids: dict[str, str]) -> dict[str, Any]:
    """The route's request in the default namespace (never TENANT), with real ids in its path."""
    params = {**ids, "namespace": "default", "task_queue": "q", "name": "probe"}
    params |= {"query_task_id": "qt-x", "schedule_id": "sched-x", "adapter": "webhook"}
    headers = {**_credential(kind), "X-Namespace": "default"}
    headers |= WORKER if route.plane == "worker" else CONTROL if route.plane == "control" else {}
    body: dict[str, Any] | None = {"name": "default"} if route.tenancy == "body" else {}
    if route.method == "GET":
        body = None
    return {
        "method": route.method,
        "url": "/api" + route.path.format(**params),
        "headers": headers,
        "json": body,
    }


def expected(route: Route, kind: str) -> int | None:
    """The refusal status for ``kind`` on ``route``, or None where it is let through."""
    allowed = ROLE_TABLE[(route.method, route.path)]
    if allowed is PUBLIC:
        return None
    if kind in ("none", "wrong"):
        return 401
    role = "admin" if kind == "other-namespace" else kind
    if role not in allowed:
        return 403
    if kind == "other-namespace" and route.tenancy != "listing":
        return 403  # an admin of TENANT only, aimed at the default namespace
    return None


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("route", SERVED, ids=lambda r: f"{r.method} {r.path}")
async def test_every_credential_on_the_route(server: Server, route: Route) -> None:
    for kind in CREDENTIALS:
        before = await snapshot(server.db_url)
        response = await server.http.request(**_request(route, kind, server.ids))
        status = expected(route, kind)
        where = f"{kind} on {route.method} {route.path}: {response.status_code} {response.text[:300]}"
        assert str(response.status_code) in DOCUMENTED[(route.method, "/api" + route.path)], where
        assert response.status_code < 500, where
        if status is None:
            refused = response.status_code in (401, 403) and response.json().get("reason") in (
                "unauthorized",
                "forbidden",
            )
            assert not refused, where
            continue
        assert response.status_code == status, where
        body = response.json()
        assert body["reason"] == ("unauthorized" if status == 401 else "forbidden"), where
        assert isinstance(body["message"], str) and body["message"], where
        assert await snapshot(server.db_url) == before, f"{where} changed the database"
