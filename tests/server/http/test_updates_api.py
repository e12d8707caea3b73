"""The update routes over a recording fake engine: the request the engine gets, statuses, refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError
from tests.helpers.http_helpers import FakeEngine, control_headers

UPDATE = "/api/workflows/wf-1/update/set_approval"


def answer(status: str) -> dict[str, Any]:
    return {
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "update_id": "u1",
        "update_status": status,
        "outcome": None,
    }


@pytest.mark.parametrize(
    ("update_status", "http_status"), [("accepted", 202), ("completed", 200), ("failed", 422)]
)
async def test_the_update_status_chooses_the_http_status(
    client: httpx.AsyncClient, fake_engine: FakeEngine, update_status: str, http_status: int
) -> None:
    fake_engine.results["update_workflow"] = answer(update_status)
    response = await client.post(
        UPDATE, json={"input": [True], "wait_for": "completed"}, headers=control_headers()
    )
    assert response.status_code == http_status, response.text
    assert response.json()["control_plane"]["operation"] == "update"
    assert response.json()["control_plane"]["operation_name"] == "set_approval"


async def test_the_engine_gets_the_validated_request(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    fake_engine.results["update_workflow"] = answer("accepted")
    body = {"input": [1, "x"], "request_id": "r-1", "wait_for": "completed", "wait_timeout_seconds": 5}
    response = await client.post(
        "/api/workflows/wf-1/runs/run-9/update/a/b", json=body, headers=control_headers()
    )
    assert response.status_code == 202, response.text
    [(args, _)] = fake_engine.called("update_workflow")
    request = args[1]
    assert (request.workflow_id, request.update_name, request.run_id) == ("wf-1", "a/b", "run-9")
    assert (request.request_id, request.wait_for, request.wait_timeout_seconds) == ("r-1", "completed", 5)
    assert codec.decode_envelope(request.arguments) == [1, "x"]


async def test_defaults_are_accepted_and_no_arguments(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    fake_engine.results["update_workflow"] = answer("accepted")
    await client.post(UPDATE, json={}, headers=control_headers())
    [(args, _)] = fake_engine.called("update_workflow")
    assert args[1].wait_for == "accepted" and codec.decode_envelope(args[1].arguments) == []


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        (UPDATE, {"wait_policy": "completed"}, "wait_policy"),
        (UPDATE, {"wait_for": "done"}, "wait_for"),
        (UPDATE, {"wait_timeout_seconds": 0}, "wait_timeout_seconds"),
        (UPDATE, {"wait_timeout_seconds": "soon"}, "wait_timeout_seconds"),
        (UPDATE, {"request_id": "r" * 256}, "request_id"),
        (UPDATE, {"input": "text"}, "input"),
        ("/api/workflows/wf-1/update/" + "u" * 257, {}, "update_name"),
        ("/api/workflows/wf-1/update/bad%7Fname", {}, "update_name"),
    ],
)
async def test_bad_update_requests_are_422_and_reach_no_engine(
    client: httpx.AsyncClient, fake_engine: FakeEngine, path: str, payload: dict[str, Any], field: str
) -> None:
    response = await client.post(path, json=payload, headers=control_headers())
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("instance_not_found", 404),
        ("historical_run_command_rejected", 409),
        ("run_not_active", 409),
        ("update_rejected", 409),
        ("unknown_update", 404),
    ],
)
async def test_engine_refusals(
    client: httpx.AsyncClient, fake_engine: FakeEngine, reason: str, status: int
) -> None:
    fake_engine.errors["update_workflow"] = DomainError(reason, "refused", update_status="rejected")
    response = await client.post(UPDATE, json={}, headers=control_headers())
    assert response.status_code == status
    assert response.json()["reason"] == reason and response.json()["control_plane"]["operation"] == "update"


async def test_a_worker_token_may_not_update(make_client: Any, fake_engine: FakeEngine) -> None:
    client = await make_client(worker_token="w-token", operator_token="o-token")
    response = await client.post(UPDATE, json={}, headers=control_headers("w-token"))
    assert response.status_code == 403
    assert fake_engine.engine_calls == []
