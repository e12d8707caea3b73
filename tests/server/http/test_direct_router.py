"""The direct router serves every API route exactly as FastAPI's router would."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse

from durable_workflow.protocol import routes
from durable_workflow_server import Settings, create_app
from durable_workflow_server import app as app_module
from durable_workflow_server.http import health, system, worker_plane, workflows
from durable_workflow_server.http.direct import direct_routes
from durable_workflow_server.http.middleware import PUBLIC, RequestContext
from tests.helpers.http_helpers import TOKEN, FakeEngine, control_headers, worker_headers

API_ROUTERS = (health.router, system.router, workflows.router, worker_plane.router)
PublicCtx = Annotated[RequestContext, Depends(PUBLIC)]


def test_every_api_route_is_served_directly() -> None:
    table = direct_routes(routes.API_PREFIX, API_ROUTERS)
    declared = [r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(table) == len(declared)
    assert [r.endpoint for r in table] == [r.endpoint for r in declared]


def test_a_route_of_another_shape_ends_the_direct_table() -> None:
    router = APIRouter()

    @router.get("/a/{item}")
    async def first(item: str, ctx: PublicCtx) -> JSONResponse:
        return JSONResponse({})

    @router.get("/b")
    async def other_shape(limit: int, ctx: PublicCtx) -> JSONResponse:  # a query parameter
        return JSONResponse({})

    @router.get("/c")
    async def after(ctx: PublicCtx) -> JSONResponse:
        return JSONResponse({})

    table = direct_routes("/api", [router])
    assert [r.endpoint for r in table] == [first]
    assert table[0].pattern.match("/api/a/x%2Fy") is not None
    assert table[0].pattern.match("/api/a/x/y") is None


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/workflows/wf-1", {"headers": control_headers()}),
    ("GET", "/api/workflows/wf-1", {"headers": control_headers(token="wrong")}),
    ("GET", "/api/workflows/wf-1", {"headers": control_headers(**{"X-Namespace": "nope"})}),
    ("POST", "/api/workflows", {"headers": control_headers(), "json": {"workflow_type": ""}}),
    ("POST", "/api/workflows", {"headers": control_headers(), "content": b"{"}),
    ("POST", "/api/worker/activity-tasks/t-1/complete", {"headers": worker_headers(), "json": {}}),
    (
        "POST",
        "/api/worker/activity-tasks/t-1/complete",
        {
            "headers": worker_headers(),
            "json": {"activity_attempt_id": "a", "lease_owner": "w", "result": {"codec": "avro", "blob": ""}},
        },
    ),
    ("GET", "/api/workflows/wf-1/runs/r-1/history", {"headers": control_headers()}),
    ("GET", "/api/health", {}),
    ("DELETE", "/api/workflows/wf-1", {"headers": control_headers()}),  # 405: FastAPI answers
    ("GET", "/api/nowhere", {"headers": control_headers()}),  # 404: FastAPI answers
]


async def _answers(monkeypatch: pytest.MonkeyPatch, *, direct: bool) -> list[tuple[int, str, dict[str, str]]]:
    if not direct:
        monkeypatch.setattr(app_module, "direct_routes", lambda prefix, routers: [])
    engine = FakeEngine()
    engine.results["describe_workflow"] = {"workflow_id": "wf-1", "run_id": "r-1", "status": "running"}
    app = create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=engine)  # type: ignore[arg-type]
    answers = []
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, path, kwargs in REQUESTS:
                response = await client.request(method, path, **kwargs)
                headers = {k: v for k, v in response.headers.items() if k.lower().startswith("x-durable")}
                answers.append((response.status_code, response.text, headers))
    monkeypatch.undo()
    return answers


async def test_direct_and_fastapi_routing_answer_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    direct = await _answers(monkeypatch, direct=True)
    generic = await _answers(monkeypatch, direct=False)
    assert [status for status, _, _ in direct] == [200, 401, 404, 422, 400, 422, 200, 200, 200, 405, 404]
    assert direct == generic
