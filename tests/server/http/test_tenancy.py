"""Tenancy: a credential bound to namespace A (``DW_NAMESPACE_TOKENS``) cannot read or touch B.

One test runs over every served route of the route table, so a route another noun serves later
is covered as soon as it lands: aimed at namespace B (existing or not), a token bound to A gets
``403 forbidden`` naming the namespace, and no row of any table changes. The same route aimed at
A is not refused for the namespace, so the refusal is about B, not about the token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from durable_workflow_server.http import guards
from durable_workflow_server.http.routing import Operation, Plane
from durable_workflow_server.http.table import PLANES
from durable_workflow_server.settings import parse_namespace_tokens
from tests.helpers.live_app import snapshot

LEGACY = "tenancy-legacy-token"
A, B, GHOST = "tenant-a", "tenant-b", "tenant-ghost"  # GHOST does not exist
BOUND = {guards.WORKER: "a-worker", guards.OPERATOR: "a-operator", guards.ADMIN: "a-admin"}
NAMESPACE_TOKENS = ",".join(f"{A}:{role}:{token}" for role, token in BOUND.items())
CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2"}
WORKER = {"X-Durable-Workflow-Protocol-Version": "1.1"}

SERVED: list[tuple[Plane, Operation]] = [
    (plane, op) for plane in PLANES for op in plane.operations if op.served and plane.roles is not None
]


def route_id(entry: tuple[Plane, Operation]) -> str:
    return f"{entry[1].method} {entry[1].path}"


@dataclass
class Tenants:
    http: httpx.AsyncClient
    db_url: str
    ids: dict[str, dict[str, str]]  # namespace → path parameter → a real id of that namespace


async def _populate(http: httpx.AsyncClient, namespace: str) -> dict[str, str]:
    """A run with a leased workflow task and a registered worker in ``namespace``."""
    legacy = {"Authorization": f"Bearer {LEGACY}", "X-Namespace": namespace}
    short = namespace[-1]
    start = {"workflow_id": f"wf-{short}", "workflow_type": "greeter", "task_queue": "q", "input": ["x"]}
    started = await http.post("/api/workflows", json=start, headers={**legacy, **CONTROL})
    assert started.status_code == 201, started.text
    worker = {"worker_id": f"w-{short}", "task_queue": "q", "runtime": "python"}
    assert (
        await http.post("/api/worker/register", json=worker, headers={**legacy, **WORKER})
    ).status_code == 201
    poll = {"worker_id": f"w-{short}", "task_queue": "q", "timeout_seconds": 1}
    task = (
        await http.post("/api/worker/workflow-tasks/poll", json=poll, headers={**legacy, **WORKER})
    ).json()
    return {
        "workflow_id": f"wf-{short}",
        "run_id": started.json()["run_id"],
        "task_id": task["task"]["task_id"],
        "worker_id": f"w-{short}",
        "task_queue": "q",
        "namespace": namespace,
    }


@pytest.fixture
async def tenants(db_url: str, clock: Any) -> AsyncIterator[Tenants]:
    settings = Settings(
        database_url=db_url,
        auth_token=LEGACY,
        namespace_tokens=parse_namespace_tokens(NAMESPACE_TOKENS),
        long_poll_timeout=0.2,
        timer_loop_interval=3600.0,
        clock=clock,
    )
    async with LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for name in (A, B):
                created = await http.post(
                    "/api/namespaces",
                    json={"name": name},
                    headers={"Authorization": f"Bearer {LEGACY}", **CONTROL},
                )
                assert created.status_code == 201, created.text
            ids = {name: await _populate(http, name) for name in (A, B)}
            ids[GHOST] = {**ids[B], "namespace": GHOST}
            yield Tenants(http, db_url, ids)


def _token_for(plane: Plane, op: Operation) -> str:
    roles = op.roles or plane.roles or frozenset()
    for role in (guards.OPERATOR, guards.WORKER, guards.ADMIN):
        if role in roles:
            return BOUND[role]
    raise AssertionError(f"no role may call {op.method} {op.path}")


def _request(plane: Plane, op: Operation, target: str, ids: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The route's request aimed at ``target``, with real ids of that namespace in its path."""
    params = {key: ids[target].get(key, "x") for key in ("workflow_id", "run_id", "task_id", "worker_id")}
    params |= {"namespace": target, "task_queue": "q", "name": "probe", "query_task_id": "qt-x"}
    params |= {"schedule_id": "sched-x", "adapter": "webhook"}
    path = "/api" + op.path.format(**params)
    headers = {"Authorization": f"Bearer {_token_for(plane, op)}"}
    headers |= WORKER if plane.name == "worker" else CONTROL
    # The namespace routes name theirs in the path or the body: X-Namespace is the caller's own.
    headers["X-Namespace"] = target if op.tenancy == "header" else A
    body: dict[str, Any] | None = {"name": target} if op.tenancy == "body" else {}
    if op.method == "GET" or op.body is None:
        body = None
    return {"method": op.method, "url": path, "headers": headers, "json": body}


@pytest.mark.parametrize("entry", [e for e in SERVED if e[1].tenancy != "listing"], ids=route_id)
async def test_a_token_bound_to_a_cannot_use_b_on_any_route(
    tenants: Tenants, entry: tuple[Plane, Operation]
) -> None:
    plane, op = entry
    before = await snapshot(tenants.db_url)
    for target in (B, GHOST):  # the same answer whether B exists or not: nothing to probe
        response = await tenants.http.request(**_request(plane, op, target, tenants.ids))
        assert response.status_code == 403, response.text
        body = response.json()
        assert body["reason"] == "forbidden" and body["namespace"] == target, body
        assert "namespace" in body["message"] and body["allowed_namespaces"] == [A]
        assert await snapshot(tenants.db_url) == before

    # Aimed at its own namespace the token passes the tenancy check (whatever the route answers).
    own = await tenants.http.request(**_request(plane, op, A, tenants.ids))
    assert own.status_code != 403 or own.json().get("namespace") != A, own.text


async def test_listing_shows_only_the_tokens_namespaces(tenants: Tenants) -> None:
    bound = {"Authorization": f"Bearer {BOUND[guards.OPERATOR]}", **CONTROL, "X-Namespace": B}
    listed = await tenants.http.get("/api/namespaces", headers=bound)
    assert listed.status_code == 200
    assert [n["name"] for n in listed.json()["namespaces"]] == [A]
    everything = await tenants.http.get(
        "/api/namespaces", headers={"Authorization": f"Bearer {LEGACY}", **CONTROL}
    )
    assert [n["name"] for n in everything.json()["namespaces"]] == ["default", A, B]


async def test_a_bound_token_reads_its_own_namespace_and_never_sees_the_others_runs(tenants: Tenants) -> None:
    headers = {"Authorization": f"Bearer {BOUND[guards.OPERATOR]}", **CONTROL, "X-Namespace": A}
    listed = await tenants.http.get("/api/workflows", headers=headers)
    assert listed.status_code == 200
    assert [w["workflow_id"] for w in listed.json()["workflows"]] == ["wf-a"]
    other = await tenants.http.get("/api/workflows/wf-b", headers=headers)
    assert (other.status_code, other.json()["reason"]) == (404, "instance_not_found")


async def test_the_wrong_role_is_refused_before_the_namespace(tenants: Tenants) -> None:
    # An operator token bound to A, on an admin route aimed at B: the role refusal comes first.
    headers = {"Authorization": f"Bearer {BOUND[guards.OPERATOR]}", **CONTROL}
    response = await tenants.http.delete(f"/api/namespaces/{B}", headers=headers)
    assert response.status_code == 403
    assert response.json()["allowed_roles"] == ["admin"] and "namespace" not in response.json()


async def test_unbound_tokens_may_use_every_namespace(tenants: Tenants) -> None:
    headers = {"Authorization": f"Bearer {LEGACY}", **CONTROL, "X-Namespace": B}
    assert (await tenants.http.get("/api/workflows/wf-b", headers=headers)).status_code == 200
    assert (await tenants.http.get(f"/api/namespaces/{A}", headers=headers)).status_code == 200


async def test_a_bound_token_without_x_namespace_is_in_the_default_namespace(tenants: Tenants) -> None:
    # No X-Namespace means DW_DEFAULT_NAMESPACE, which A's token may not use: a bound token's
    # client must name its namespace (Client(namespace=...)), even for cluster/info.
    for path in ("/api/cluster/info", "/api/workflows"):
        response = await tenants.http.get(
            path, headers={"Authorization": f"Bearer {BOUND[guards.OPERATOR]}", **CONTROL}
        )
        assert response.status_code == 403 and response.json()["namespace"] == "default"
    own = await tenants.http.get(
        "/api/cluster/info", headers={"Authorization": f"Bearer {BOUND[guards.OPERATOR]}", "X-Namespace": A}
    )
    assert own.status_code == 200


async def test_role_tokens_beside_bound_ones_still_reach_every_namespace(db_url: str, clock: Any) -> None:
    settings = Settings(
        database_url=db_url,
        auth_token=LEGACY,
        operator_token="unbound-operator",
        worker_token="unbound-worker",
        namespace_tokens=parse_namespace_tokens(NAMESPACE_TOKENS),
        clock=clock,
    )
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for namespace in ("default", GHOST):
                headers = {"Authorization": "Bearer unbound-operator", **CONTROL, "X-Namespace": namespace}
                listed = await http.get("/api/workflows", headers=headers)
                # Unbound: the namespace is looked up (404 for the ghost), never refused as foreign.
                assert listed.status_code == (200 if namespace == "default" else 404), listed.text
            bound = {"Authorization": f"Bearer {BOUND[guards.OPERATOR]}", **CONTROL, "X-Namespace": "default"}
            assert (await http.get("/api/workflows", headers=bound)).status_code == 403
            # With role tokens configured the legacy token is a plain admin (§4.2), as without bound ones.
            legacy = {"Authorization": f"Bearer {LEGACY}", **WORKER}
            register = {"worker_id": "w", "task_queue": "q", "runtime": "python"}
            assert (await http.post("/api/worker/register", json=register, headers=legacy)).status_code == 403
