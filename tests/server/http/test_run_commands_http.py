"""Cancel, terminate, repair and archive over HTTP.

The request checks run against the recording fake engine (a refused request never reaches it);
the refusals that need the database run against the real app and engine (SQLite file, and
PostgreSQL when DW_TEST_POSTGRES_URL is set), and must write nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from tests.helpers.http_helpers import control_headers, worker_headers

COMMANDS = ("cancel", "terminate", "repair", "archive")
OUTCOMES = {
    "cancel": "cancelled",
    "terminate": "terminated",
    "repair": "repair_not_needed",
    "archive": "archived",
}
ENGINE_METHOD = {name: f"{name}_workflow" for name in COMMANDS}


def _path(command: str, run_id: str | None = None, workflow_id: str = "wf-1") -> str:
    run = f"/runs/{run_id}" if run_id else ""
    return f"/api/workflows/{workflow_id}{run}/{command}"


@pytest.mark.parametrize("command", COMMANDS)
async def test_instance_route_calls_the_engine_and_answers_the_command_result(client, fake_engine, command):
    body: dict[str, Any] = {"request_id": "req-1"}
    if command != "repair":
        body["reason"] = "because"
    response = await client.post(_path(command), json=body, headers=control_headers())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["outcome"] == OUTCOMES[command] and answer["command_status"] == "accepted"
    assert answer["control_plane"]["operation"] == command
    assert answer["control_plane"]["outcome"] == OUTCOMES[command]
    assert response.headers["X-Durable-Workflow-Control-Plane-Version"] == "2"
    ((args, kwargs),) = fake_engine.called(ENGINE_METHOD[command])
    assert args == ("default", "wf-1")
    expected = {"run_id": None, "request_id": "req-1"}
    if command != "repair":
        expected["reason"] = "because"
    assert kwargs == expected


@pytest.mark.parametrize("command", COMMANDS)
async def test_run_route_passes_the_run_id(client, fake_engine, command):
    response = await client.post(_path(command, "run-7"), json={}, headers=control_headers())
    assert response.status_code == 200, response.text
    assert response.json()["target_scope"] == "run" and response.json()["run_id"] == "run-7"
    ((_, kwargs),) = fake_engine.called(ENGINE_METHOD[command])
    assert kwargs["run_id"] == "run-7"


async def test_an_empty_body_is_accepted(client, fake_engine):
    """The SDK sends ``{}`` for repair; no body at all is the same."""
    response = await client.post(_path("repair"), headers=control_headers())
    assert response.status_code == 200, response.text
    assert fake_engine.called("repair_workflow")


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("cancel", {"reason": "x" * 1001}, "reason"),
        ("terminate", {"reason": 5}, "reason"),
        ("archive", {"reason": "x" * 1001}, "reason"),
        ("cancel", {"request_id": "r" * 256}, "request_id"),
        ("repair", {"request_id": ["r"]}, "request_id"),
        ("archive", {"request_id": "r" * 256}, "request_id"),
    ],
)
async def test_bad_fields_are_422_and_reach_no_engine(client, fake_engine, command, body, field):
    response = await client.post(_path(command), json=body, headers=control_headers())
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["reason"] == "validation_failed" and field in answer["errors"]
    assert answer["control_plane"]["operation"] == command
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize("command", COMMANDS)
async def test_non_object_body_is_422(client, fake_engine, command):
    response = await client.post(_path(command), json=["no"], headers=control_headers())
    assert response.status_code == 422 and response.json()["reason"] == "validation_failed"
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize("command", COMMANDS)
async def test_wrong_role_is_403_and_no_credential_401(make_client, fake_engine, command):
    client = await make_client(worker_token="w-tok", operator_token="o-tok")
    response = await client.post(_path(command), json={}, headers=control_headers(token="w-tok"))
    assert response.status_code == 403 and response.json()["reason"] == "forbidden"
    response = await client.post(_path(command), json={}, headers=control_headers(token=None))
    assert response.status_code == 401 and response.json()["reason"] == "unauthorized"
    response = await client.post(_path(command), json={}, headers=worker_headers(token="o-tok"))
    assert response.status_code == 400  # the control-plane version header is required
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize("command", COMMANDS)
async def test_get_is_405(client, fake_engine, command):
    response = await client.get(_path(command), headers=control_headers())
    assert response.status_code == 405
    assert fake_engine.engine_calls == []


# ---------------------------------------------------------------------- the real engine


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=db_url, auth_token="test-token", long_poll_timeout=0.2)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _history(api: httpx.AsyncClient, run_id: str) -> list[str]:
    response = await api.get(
        f"/api/workflows/wf-1/runs/{run_id}/history?page_size=1000", headers=control_headers()
    )
    return [e["event_type"] for e in response.json()["events"]]


async def test_refusals_of_the_real_engine_write_nothing(api):
    headers = control_headers()
    for command in COMMANDS:
        response = await api.post(_path(command, workflow_id="nope"), json={}, headers=headers)
        assert response.status_code == 404, response.text
        assert response.json()["reason"] == "instance_not_found"
        assert response.json()["control_plane"]["operation"] == command
    started = await api.post(
        "/api/workflows", json={"workflow_type": "greeter", "workflow_id": "wf-1"}, headers=headers
    )
    run_id = started.json()["run_id"]

    response = await api.post(_path("archive"), json={"reason": "early"}, headers=headers)
    assert response.status_code == 409 and response.json()["reason"] == "run_not_closed"
    assert response.json()["outcome"] == "rejected_run_not_closed"
    assert response.json()["rejection_reason"] == "run_not_closed" and "status" not in response.json()
    for command in COMMANDS:
        response = await api.post(_path(command, "another-run"), json={}, headers=headers)
        assert response.status_code == 409, response.text
        assert response.json()["reason"] == "historical_run_command_rejected"
        assert response.json()["target_scope"] == "run"
    assert await _history(api, run_id) == ["StartAccepted", "WorkflowStarted"]

    response = await api.post(_path("cancel", run_id), json={"reason": "stop"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "cancelled" and response.json()["reason"] == "stop"
    closed = await _history(api, run_id)
    assert closed[-2:] == ["CancelRequested", "WorkflowCancelled"]
    for command in ("cancel", "terminate", "repair"):
        response = await api.post(_path(command), json={}, headers=headers)
        assert response.status_code == 409 and response.json()["reason"] == "run_not_active"
        assert response.json()["command_status"] == "rejected"
        body = response.json()
        assert body["outcome"] == "rejected_not_active" and body["rejection_reason"] == "run_not_active"
        assert "status" not in body and body["control_plane"]["operation"] == command
    assert await _history(api, run_id) == closed

    described = (await api.get("/api/workflows/wf-1", headers=headers)).json()
    assert described["actions"] == {
        "can_signal": False,
        "can_query": False,
        "can_update": False,
        "can_cancel": False,
        "can_terminate": False,
        "can_repair": False,
        "can_archive": True,
    }
    response = await api.post(_path("archive"), json={"reason": "done"}, headers=headers)
    assert response.status_code == 200 and response.json()["outcome"] == "archived"
    response = await api.post(_path("archive"), json={"reason": "again"}, headers=headers)
    assert response.status_code == 200 and response.json()["outcome"] == "archive_not_needed"
    assert response.json()["reason"] == "again"
    described = (await api.get("/api/workflows/wf-1", headers=headers)).json()
    assert described["actions"]["can_archive"] is False and described["archived"] is True
