"""Pause and resume over the real engine: outcomes, and every refusal with its documented
envelope and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow.protocol import codec
from tests.helpers.live_app import CONTROL, WORKER, Live, snapshot


async def test_pause_and_resume_answer_the_command_result(live: Live) -> None:
    paused = await live.http.post("/api/workflows/wf-1/pause", json={"reason": "deploy"}, headers=CONTROL)
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert (body["outcome"], body["reason"], body["run_id"]) == ("paused", "deploy", live.run_id)
    assert body["control_plane"]["operation"] == "pause"
    again = await live.http.post("/api/workflows/wf-1/pause", headers=CONTROL)
    assert (again.status_code, again.json()["outcome"]) == (200, "already_paused")
    described = (await live.http.get("/api/workflows/wf-1", headers=CONTROL)).json()
    assert (described["paused"], described["pause_reason"]) == (True, "deploy")
    resumed = await live.http.post("/api/workflows/wf-1/resume", json={}, headers=CONTROL)
    assert (resumed.status_code, resumed.json()["outcome"]) == (200, "resumed")
    not_paused = await live.http.post("/api/workflows/wf-1/resume", headers=CONTROL)
    assert (not_paused.status_code, not_paused.json()["outcome"]) == (200, "not_paused")
    info = (await live.http.get("/api/cluster/info", headers=CONTROL)).json()
    assert info["capabilities"]["workflow_pause"] is True


BAD: list[tuple[str, str, dict[str, Any], int, str, str | None]] = [
    ("unknown workflow", "/api/workflows/nope/pause", {}, 404, "instance_not_found", None),
    ("closed run", "/api/workflows/wf-2/pause", {}, 409, "run_not_active", None),
    ("resume a closed run", "/api/workflows/wf-2/resume", {}, 409, "run_not_active", None),
    (
        "reason too long",
        "/api/workflows/wf-1/pause",
        {"reason": "r" * 1001},
        422,
        "validation_failed",
        "reason",
    ),
    ("reason not text", "/api/workflows/wf-1/pause", {"reason": 5}, 422, "validation_failed", "reason"),
    (
        "request id too long",
        "/api/workflows/wf-1/resume",
        {"request_id": "r" * 256},
        422,
        "validation_failed",
        "request_id",
    ),
]


@pytest.mark.parametrize(("label", "path", "body", "status", "reason", "field"), BAD, ids=[c[0] for c in BAD])
async def test_refused_pauses_write_nothing(
    live: Live, label: str, path: str, body: dict[str, Any], status: int, reason: str, field: str | None
) -> None:
    done = {**live.fence, "commands": [{"type": "complete_workflow", "result": codec.envelope("ok")}]}
    closed = await live.http.post(
        f"/api/worker/workflow-tasks/{live.task_id}/complete", json=done, headers=WORKER
    )
    assert closed.status_code == 200, closed.text
    before = await snapshot(live.db_url)
    answer = await live.http.post(path, json=body, headers=CONTROL)
    assert answer.status_code == status, answer.text
    got = answer.json()
    assert got["reason"] == reason and got["message"]
    if field is not None:
        assert field in got["errors"], got
    assert await snapshot(live.db_url) == before
