"""Bad input against the real server and database: a documented 4xx envelope, nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.e2e_env import TOKEN
from tests.helpers.live_app import snapshot

CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2", "Authorization": f"Bearer {TOKEN}"}
JSON_CONTROL = {**CONTROL, "Content-Type": "application/json"}
GOOD_START = {"workflow_type": "greeter", "workflow_id": "bad-input-1", "task_queue": "q", "input": ["x"]}

CASES: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "malformed json",
        {"content": b'{"workflow_type": ', "headers": JSON_CONTROL},
        400,
        "malformed_json",
    ),
    (
        "wrong type",
        {"json": {**GOOD_START, "workflow_type": 42}, "headers": CONTROL},
        422,
        "validation_failed",
    ),
    (
        "unknown namespace",
        {"json": GOOD_START, "headers": {**CONTROL, "X-Namespace": "nope"}},
        404,
        "namespace_not_found",
    ),
    (
        "missing token",
        {"json": GOOD_START, "headers": {"X-Durable-Workflow-Control-Plane-Version": "2"}},
        401,
        "unauthorized",
    ),
    (
        "wrong token",
        {"json": GOOD_START, "headers": {**CONTROL, "Authorization": "Bearer wrong"}},
        401,
        "unauthorized",
    ),
    (
        "missing control-plane header",
        {"json": GOOD_START, "headers": {"Authorization": f"Bearer {TOKEN}"}},
        400,
        "missing_control_plane_version",
    ),
    (
        "unsupported control-plane header",
        {"json": GOOD_START, "headers": {**CONTROL, "X-Durable-Workflow-Control-Plane-Version": "1"}},
        400,
        "unsupported_control_plane_version",
    ),
    (
        "oversized body",
        {"json": {**GOOD_START, "memo": {"blob": "x" * 3_000_000}}, "headers": CONTROL},
        413,
        "payload_too_large",
    ),
    (
        "unsupported codec",
        {"json": {**GOOD_START, "input": {"codec": "json", "blob": "[]"}}, "headers": CONTROL},
        422,
        "unsupported_payload_codec",
    ),
    (
        "input blob not a string",
        {"json": {**GOOD_START, "input": {"codec": "avro", "blob": 5}}, "headers": CONTROL},
        422,
        "validation_failed",
    ),
    (
        "input neither arguments nor an envelope",
        {"json": {**GOOD_START, "input": {"not": "an envelope"}}, "headers": CONTROL},
        422,
        "validation_failed",
    ),
    (
        "non-canonical duplicate policy",
        {"json": {**GOOD_START, "duplicate_policy": "use_existing"}, "headers": CONTROL},
        422,
        "validation_failed",
    ),
    (
        "empty workflow type",
        {"json": {**GOOD_START, "workflow_type": "  "}, "headers": CONTROL},
        422,
        "validation_failed",
    ),
    (
        "unsupported media type",
        {"content": b"workflow_type=greeter", "headers": {**CONTROL, "Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
]


# The field each field-level refusal names.
FIELD_OF_CASE = {
    "wrong type": "workflow_type",
    "unsupported codec": "input.codec",
    "input blob not a string": "input.blob",
    "input neither arguments nor an envelope": "input",
    "non-canonical duplicate policy": "duplicate_policy",
    "empty workflow type": "workflow_type",
}


@pytest.mark.parametrize(("name", "request_kwargs", "status", "reason"), CASES, ids=[c[0] for c in CASES])
async def test_bad_start_is_refused_and_writes_nothing(
    app: Any, database_url: str, name: str, request_kwargs: dict[str, Any], status: int, reason: str
) -> None:
    before = await snapshot(database_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.post("/api/workflows", **request_kwargs)
        assert response.status_code == status, response.text
        body = response.json()
        assert body["reason"] == reason
        assert isinstance(body["message"], str) and body["message"]
        if name in FIELD_OF_CASE:
            assert FIELD_OF_CASE[name] in body["errors"], body["errors"]
        assert await snapshot(database_url) == before

        listed = await http.get("/api/workflows", headers=CONTROL)
        assert listed.status_code == 200
        assert listed.json()["workflows"] == []


async def test_bad_worker_protocol_header_writes_nothing(app: Any) -> None:
    registration = {"worker_id": "w-bad", "task_queue": "q", "runtime": "python"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for header, reason in (("2.0", "unsupported_protocol_version"), ("", "missing_protocol_version")):
            response = await http.post(
                "/api/worker/register",
                json=registration,
                headers={"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Protocol-Version": header},
            )
            assert response.status_code == 400
            assert response.json()["reason"] == reason
            assert response.headers["X-Durable-Workflow-Protocol-Version"] == "1.1"
        # the worker was never registered: a poll is refused as unregistered
        poll = await http.post(
            "/api/worker/workflow-tasks/poll",
            json={"worker_id": "w-bad", "task_queue": "q"},
            headers={"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Protocol-Version": "1.1"},
        )
        assert poll.status_code == 412
        assert poll.json()["reason"] == "worker_not_registered"
