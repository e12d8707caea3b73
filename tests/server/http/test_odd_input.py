"""Odd but well-formed input is refused with a 4xx, never a 500 that leaves a task stuck.

Digits that ``str.isdigit()`` accepts but ``int()`` refuses (superscripts), doubled signs,
thousands of digits, non-ASCII signature and length headers: each gets a clear refusal, nothing
is written, and the leased task still completes normally afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from tests.helpers.asgi import post_raw
from tests.helpers.live_app import CONTROL, WORKER, Live, snapshot

SUPERSCRIPT_ONE = "\u00b9"


@pytest.mark.parametrize(
    "command",
    [
        {"type": "start_timer", "delay_seconds": "--5"},
        {"type": "start_timer", "delay_seconds": SUPERSCRIPT_ONE},
        {"type": "schedule_activity", "activity_type": "a", "start_to_close_timeout": SUPERSCRIPT_ONE},
        {
            "type": "schedule_activity",
            "activity_type": "a",
            "retry_policy": {"max_attempts": SUPERSCRIPT_ONE},
        },
        {
            "type": "schedule_activity",
            "activity_type": "a",
            "retry_policy": {"backoff_seconds": [SUPERSCRIPT_ONE]},
        },
        {"type": "record_version_marker", "change_id": "c", "version": SUPERSCRIPT_ONE},
        {"type": "start_timer", "delay_seconds": "9" * 5000},
    ],
    ids=[
        "doubled sign",
        "superscript delay",
        "superscript timeout",
        "superscript attempts",
        "superscript backoff",
        "superscript version",
        "5000 digits",
    ],
)
async def test_odd_integers_in_commands_are_refused_and_the_task_still_completes(
    live: Live, command: dict[str, Any]
) -> None:
    before = await snapshot(live.db_url)
    path = f"/api/worker/workflow-tasks/{live.task_id}/complete"
    refused = await live.http.post(path, json={**live.fence, "commands": [command]}, headers=WORKER)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["reason"] == "validation_failed"
    assert any(key.startswith("commands.0.") for key in body["errors"]), body["errors"]
    assert await snapshot(live.db_url) == before

    done = {**live.fence, "commands": [{"type": "complete_workflow", "result": None}]}
    completed = await live.http.post(path, json=done, headers=WORKER)
    assert completed.status_code == 200, completed.text
    assert completed.json()["reason"] is None


async def test_a_page_size_of_thousands_of_digits_says_what_the_limit_is(live: Live) -> None:
    response = await live.http.get("/api/workflows", params={"page_size": "9" * 5000}, headers=CONTROL)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]["page_size"] == ["The page size field must not be greater than 200."]


@pytest.fixture
async def signed_app(tmp_path: Any) -> Any:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'dw.sqlite3'}",
        auth_driver="signature",
        operator_signature_key="op-key",
        compression_enabled=False,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        yield manager.app


START = json.dumps({"workflow_type": "greeter", "workflow_id": "wf-odd"}).encode()
SIGNED_HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-durable-workflow-control-plane-version", b"2"),
]


async def test_a_non_ascii_signature_is_unauthorized(signed_app: Any) -> None:
    headers = [*SIGNED_HEADERS, (b"x-signature", b"\xe9\xe9")]
    status, body = await post_raw(signed_app, "/api/workflows", headers, START)
    assert (status, body["reason"]) == (401, "unauthorized")
    good = hmac.new(b"op-key", START, hashlib.sha256).hexdigest().encode()
    status, _ = await post_raw(signed_app, "/api/workflows", [*SIGNED_HEADERS, (b"x-signature", good)], START)
    assert status == 201


async def test_a_non_ascii_content_length_is_not_a_server_error(signed_app: Any) -> None:
    good = hmac.new(b"op-key", START, hashlib.sha256).hexdigest().encode()
    headers = [
        *SIGNED_HEADERS,
        (b"x-signature", good),
        (b"content-length", SUPERSCRIPT_ONE.encode("latin-1")),
    ]
    status, body = await post_raw(signed_app, "/api/workflows", headers, START)
    assert status == 201, body  # the length header is advisory; the body itself is measured
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=signed_app), base_url="http://t") as http:
        listed = await http.get(
            "/api/workflows",
            headers={
                "X-Durable-Workflow-Control-Plane-Version": "2",
                "X-Signature": hmac.new(b"op-key", b"", hashlib.sha256).hexdigest(),
            },
        )
    assert [w["workflow_id"] for w in listed.json()["workflows"]] == ["wf-odd"]
