"""Refused cancel/terminate/repair/archive requests against the real server and database: the
documented 4xx envelope, and not one row written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.e2e_env import e2e_settings, running_app
from tests.helpers.live_app import snapshot

OPERATOR, WORKER = "operator-token", "worker-token"
VERSION = {"X-Durable-Workflow-Control-Plane-Version": "2"}
HEADERS = {**VERSION, "Authorization": f"Bearer {OPERATOR}"}
AS_WORKER = {**VERSION, "Authorization": f"Bearer {WORKER}"}
NO_VERSION = {"Authorization": f"Bearer {OPERATOR}"}

# (name, path under /api/workflows, body, headers, status, reason, field)
CASES: list[tuple[str, str, Any, dict[str, str], int, str, str | None]] = [
    ("unknown workflow", "/nope/cancel", {}, HEADERS, 404, "instance_not_found", None),
    (
        "historical run",
        "/open-1/runs/not-current/terminate",
        {},
        HEADERS,
        409,
        "historical_run_command_rejected",
        None,
    ),
    (
        "oversized reason",
        "/open-1/cancel",
        {"reason": "x" * 1001},
        HEADERS,
        422,
        "validation_failed",
        "reason",
    ),
    ("reason not a string", "/open-1/terminate", {"reason": 7}, HEADERS, 422, "validation_failed", "reason"),
    (
        "oversized request id",
        "/open-1/repair",
        {"request_id": "r" * 256},
        HEADERS,
        422,
        "validation_failed",
        "request_id",
    ),
    ("body not an object", "/open-1/archive", [1], HEADERS, 422, "validation_failed", None),
    ("archive an open run", "/open-1/archive", {"reason": "early"}, HEADERS, 409, "run_not_closed", None),
    ("cancel a closed run", "/closed-1/cancel", {}, HEADERS, 409, "run_not_active", None),
    ("repair a closed run", "/closed-1/repair", {}, HEADERS, 409, "run_not_active", None),
    ("worker role", "/open-1/cancel", {}, AS_WORKER, 403, "forbidden", None),
    ("no credential", "/open-1/terminate", {}, VERSION, 401, "unauthorized", None),
    ("no version header", "/open-1/cancel", {}, NO_VERSION, 400, "missing_control_plane_version", None),
]


@pytest.fixture
async def http(database_url: str) -> Any:
    settings = e2e_settings(database_url, auth_token=None, operator_token=OPERATOR, worker_token=WORKER)
    async with running_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for workflow_id in ("open-1", "closed-1"):
                start = {"workflow_type": "greeter", "workflow_id": workflow_id, "task_queue": "q"}
                assert (await client.post("/api/workflows", json=start, headers=HEADERS)).status_code == 201
            response = await client.post("/api/workflows/closed-1/terminate", json={}, headers=HEADERS)
            assert response.status_code == 200
            yield client


@pytest.mark.parametrize(
    ("name", "path", "body", "headers", "status", "reason", "field"), CASES, ids=[c[0] for c in CASES]
)
async def test_refused_run_command_writes_nothing(
    http: httpx.AsyncClient,
    database_url: str,
    name: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    reason: str,
    field: str | None,
) -> None:
    before = await snapshot(database_url)
    response = await http.post(f"/api/workflows{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["reason"] == reason and isinstance(answer["message"], str) and answer["message"]
    if field is not None:
        assert field in answer["errors"], answer["errors"]
    assert await snapshot(database_url) == before
