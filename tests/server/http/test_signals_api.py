"""The signal routes over the real engine: the command result, and every refusal with its
documented envelope and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow.protocol import codec
from tests.helpers.live_app import CONTROL, WORKER, Live, snapshot


async def _close_wf2(live: Live) -> None:
    body = {**live.fence, "commands": [{"type": "complete_workflow", "result": codec.envelope("ok")}]}
    answer = await live.http.post(
        f"/api/worker/workflow-tasks/{live.task_id}/complete", json=body, headers=WORKER
    )
    assert answer.status_code == 200, answer.text


async def test_a_signal_answers_202_with_the_command_result(live: Live) -> None:
    answer = await live.http.post(
        "/api/workflows/wf-1/signal/approve", json={"input": ["alice"], "request_id": "r-1"}, headers=CONTROL
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["outcome"] == "signal_received"
    assert body["signal_name"] == "approve"
    assert body["run_id"] == live.run_id
    assert body["command_status"] == "accepted"
    assert body["control_plane"]["operation"] == "signal"
    assert body["control_plane"]["operation_name"] == "approve"
    assert body["control_plane"]["operation_name_field"] == "signal_name"
    retried = await live.http.post(
        "/api/workflows/wf-1/signal/approve", json={"input": ["alice"], "request_id": "r-1"}, headers=CONTROL
    )
    assert retried.status_code == 202
    assert retried.json()["command_id"] == body["command_id"]

    by_run = await live.http.post(
        f"/api/workflows/wf-1/runs/{live.run_id}/signal/a/b", json={}, headers=CONTROL
    )
    assert by_run.status_code == 202, by_run.text
    assert by_run.json()["signal_name"] == "a/b"
    assert by_run.json()["target_scope"] == "run"


BAD: list[tuple[str, str, dict[str, Any], int, str, str | None]] = [
    ("unknown workflow", "/api/workflows/nope/signal/s", {}, 404, "instance_not_found", None),
    ("closed run", "/api/workflows/wf-2/signal/s", {}, 409, "run_not_active", None),
    (
        "historical run",
        "/api/workflows/wf-1/runs/old-run/signal/s",
        {},
        409,
        "historical_run_command_rejected",
        None,
    ),
    ("name too long", "/api/workflows/wf-1/signal/" + "n" * 257, {}, 422, "validation_failed", "signal_name"),
    (
        "multi-byte name too long",
        "/api/workflows/wf-1/signal/" + "é" * 129,
        {},
        422,
        "validation_failed",
        "signal_name",
    ),
    ("control character", "/api/workflows/wf-1/signal/a%01b", {}, 422, "validation_failed", "signal_name"),
    ("bad input", "/api/workflows/wf-1/signal/s", {"input": {"x": 1}}, 422, "validation_failed", "input"),
    (
        "foreign codec",
        "/api/workflows/wf-1/signal/s",
        {"input": {"codec": "json", "blob": "[]"}},
        422,
        "unsupported_payload_codec",
        None,
    ),
    (
        "request id too long",
        "/api/workflows/wf-1/signal/s",
        {"request_id": "r" * 256},
        422,
        "validation_failed",
        "request_id",
    ),
    (
        "oversized arguments",
        "/api/workflows/wf-1/signal/s",
        {"input": ["x" * 3_000_000]},
        413,
        "payload_too_large",
        None,
    ),
]


@pytest.mark.parametrize(("label", "path", "body", "status", "reason", "field"), BAD, ids=[c[0] for c in BAD])
async def test_refused_signals_write_nothing(
    live: Live, label: str, path: str, body: dict[str, Any], status: int, reason: str, field: str | None
) -> None:
    await _close_wf2(live)
    before = await snapshot(live.db_url)
    answer = await live.http.post(path, json=body, headers=CONTROL)
    assert answer.status_code == status, answer.text
    got = answer.json()
    assert got["reason"] == reason
    assert got["message"]
    if field is not None:
        assert field in got["errors"], got
    assert await snapshot(live.db_url) == before
