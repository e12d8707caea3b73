"""The debug routes over the real engine: the body, the run route, the flag and the refusals
(each with its envelope, and nothing written)."""

from __future__ import annotations

import pytest

from tests.helpers.live_app import CONTROL, Live, snapshot


async def test_the_debug_view_of_the_current_run_and_of_a_run(live: Live) -> None:
    before = await snapshot(live.db_url)
    answer = await live.http.get("/api/workflows/wf-1/debug", headers=CONTROL)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["workflow_id"] == "wf-1" and body["run_id"] == live.run_id
    # A leased workflow task and a leased activity attempt: a worker holds them.
    assert body["diagnostic_status"] == "running"
    assert body["control_plane"]["operation"] == "debug_workflow"
    assert body["execution"]["last_event"] is not None and "payload" not in body["execution"]["last_event"]
    run = await live.http.get(
        f"/api/workflows/wf-1/runs/{live.run_id}/debug",
        params={"include_last_event_payload": "true"},
        headers=CONTROL,
    )
    assert run.status_code == 200, run.text
    assert "payload" in run.json()["execution"]["last_event"]
    assert await snapshot(live.db_url) == before


@pytest.mark.parametrize(
    ("path", "params", "status", "reason"),
    [
        ("/api/workflows/nope/debug", {}, 404, "instance_not_found"),
        ("/api/workflows/wf-1/runs/nope/debug", {}, 404, "run_not_found"),
        ("/api/workflows/wf-1/debug", {"include_last_event_payload": "maybe"}, 422, "validation_failed"),
    ],
)
async def test_debug_refusals(
    live: Live, path: str, params: dict[str, str], status: int, reason: str
) -> None:
    answer = await live.http.get(path, params=params, headers=CONTROL)
    assert answer.status_code == status, answer.text
    assert answer.json()["reason"] == reason
