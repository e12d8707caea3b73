"""``GET /workflows/{id}?wait_seconds=N`` over the real app: the offer, the bounds, the refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow.protocol.capabilities import RESULT_WAIT_HEADER, SERVER_WORKFLOW_RESULT_WAIT
from durable_workflow_server import Settings, create_app
from tests.helpers.http_helpers import control_headers


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=db_url, auth_token="test-token", long_poll_timeout=0.2)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_start_and_describe_offer_the_wait_and_cluster_info_advertises_it(
    api: httpx.AsyncClient,
) -> None:
    started = await api.post(
        "/api/workflows",
        json={"workflow_type": "greeter", "workflow_id": "wf-1", "task_queue": "q"},
        headers=control_headers(),
    )
    assert started.status_code == 201, started.text
    assert started.headers[RESULT_WAIT_HEADER] == "0.2"  # the server's long-poll limit
    plain = await api.get("/api/workflows/wf-1", headers=control_headers())
    assert plain.status_code == 200 and plain.headers[RESULT_WAIT_HEADER] == "0.2"
    # Held at most the server's limit (0.2 s here, not the 30 asked), then the open run.
    waited = await api.get("/api/workflows/wf-1", params={"wait_seconds": "30"}, headers=control_headers())
    assert waited.status_code == 200, waited.text
    assert waited.json()["is_terminal"] is False and waited.json()["workflow_id"] == "wf-1"
    info = await api.get("/api/cluster/info", headers=control_headers())
    assert info.json()["capabilities"][SERVER_WORKFLOW_RESULT_WAIT] is True


@pytest.mark.parametrize("value", ["-1", "3601", "soon"])
async def test_a_bad_wait_is_refused(api: httpx.AsyncClient, value: str) -> None:
    answer = await api.get("/api/workflows/wf-1", params={"wait_seconds": value}, headers=control_headers())
    assert answer.status_code == 422, answer.text
    assert "wait_seconds" in answer.json()["errors"]


async def test_waiting_on_an_unknown_workflow_is_404(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/workflows/nope", params={"wait_seconds": "5"}, headers=control_headers())
    assert answer.status_code == 404 and answer.json()["reason"] == "instance_not_found"
