"""A database that cannot be reached is a retryable 503 with the documented envelope, never a 500."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import versions
from durable_workflow_server.http.middleware import RETRY_AFTER_SECONDS, OutageLog
from tests.helpers.http_helpers import FakeEngine, control_headers, worker_headers

START = {"workflow_type": "greeter", "workflow_id": "wf-1", "input": ["world"]}


class _Terminated(Exception):
    sqlstate = "57P01"  # admin_shutdown: what a restarting PostgreSQL says to its backends


def _lost_connection() -> sa.exc.DBAPIError:
    terminated = _Terminated("terminating connection due to administrator command")
    return sa.exc.DBAPIError("SELECT 1", {}, terminated, connection_invalidated=True)


@pytest.mark.parametrize(
    "error",
    [
        _lost_connection(),
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        sa.exc.DBAPIError("UPDATE", {}, type("Deadlock", (Exception,), {"sqlstate": "40P01"})("deadlock")),
    ],
    ids=["terminated", "refused", "deadlock-after-retries"],
)
async def test_a_control_plane_request_gets_503_database_unavailable(
    client, fake_engine: FakeEngine, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    fake_engine.errors["start_workflow"] = error
    with caplog.at_level(logging.WARNING):
        response = await client.post("/api/workflows", json=START, headers=control_headers())
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["reason"] == "database_unavailable" and body["retryable"] is True
    assert body["message"]
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.headers[versions.CONTROL_PLANE_HEADER] == "2"
    assert "Traceback" not in caplog.text
    assert "database unavailable" in caplog.text


async def test_a_worker_plane_request_gets_the_worker_envelope(client, fake_engine: FakeEngine) -> None:
    fake_engine.errors["register_worker"] = _lost_connection()
    body = {"worker_id": "w1", "task_queue": "q1", "runtime": "python"}
    response = await client.post("/api/worker/register", json=body, headers=worker_headers())
    assert response.status_code == 503, response.text
    assert response.json()["reason"] == "database_unavailable"
    assert response.json()["protocol_version"] == versions.WORKER_PROTOCOL_VERSION


async def test_other_errors_stay_500_with_their_traceback_logged(
    client, fake_engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    fake_engine.errors["start_workflow"] = RuntimeError("a bug")
    response = await client.post("/api/workflows", json=START, headers=control_headers())
    assert response.status_code == 500 and response.json()["reason"] == "server_error"
    assert "Traceback" in caplog.text


def test_an_outage_logs_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    outages = OutageLog(interval=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for _ in range(50):
            outages.failed("GET", "/api/workflows", _lost_connection())
            now[0] += 0.1
        now[0] += 10.0
        outages.failed("GET", "/api/workflows", _lost_connection())
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "49 more since the last report" in lines[1]
