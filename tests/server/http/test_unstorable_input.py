"""Input that could not be stored and read back is refused with a 4xx envelope and writes nothing.

A table of such inputs (non-finite numbers, deep nesting, NUL characters, unpaired surrogates,
integers beyond their column, oversized names and page tokens, odd header digits) is sent to
every route that takes them, on SQLite and PostgreSQL alike. Each must answer the documented
status and envelope, and the database must be exactly as it was before.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.helpers.live_app import BIG, CONTROL, TOKEN_BEYOND_BIGINT, WORKER, Live, snapshot

# ---------------------------------------------------------------------- the table

# (label, JSON text spliced into a valid body in place of a value) → 400 malformed_json
NOT_JSON = [
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("-Infinity", "-Infinity"),
    ("a number beyond float range", "1e400"),
    ("nesting 65 levels", "[" * 65 + "]" * 65),
    ("nesting 990 levels", "[" * 990 + "]" * 990),
    ("nesting 5000 levels", "[" * 5000 + "]" * 5000),
]
# → 422 validation_failed naming the field
NOT_TEXT = [
    ("an unpaired surrogate", '"bad \\udcff text"'),
    ("a NUL character", '"bad \\u0000 text"'),
    ("a surrogate in a key", '{"\\ud800": 1}'),
]


def _body_routes(live: Live) -> list[tuple[str, str, dict[str, str], dict[str, Any], str]]:
    """(route, path, headers, a valid body, the field to poison) for every route with a body."""
    wt, at = (
        f"/api/worker/workflow-tasks/{live.task_id}",
        f"/api/worker/activity-tasks/{live.activity_task_id}",
    )
    return [
        ("start memo", "/api/workflows", CONTROL, {"workflow_type": "t", "workflow_id": "new"}, "memo"),
        (
            "start search attributes",
            "/api/workflows",
            CONTROL,
            {"workflow_type": "t", "workflow_id": "new"},
            "search_attributes",
        ),
        ("start input", "/api/workflows", CONTROL, {"workflow_type": "t", "workflow_id": "new"}, "input"),
        ("register", "/api/worker/register", WORKER, {"task_queue": "q", "runtime": "python"}, "task_slots"),
        ("worker heartbeat", "/api/worker/heartbeat", WORKER, {"worker_id": "w1"}, "process_metrics"),
        (
            "workflow poll",
            "/api/worker/workflow-tasks/poll",
            WORKER,
            {"worker_id": "w1", "task_queue": "q", "timeout_seconds": 0},
            "build_id",
        ),
        (
            "activity poll",
            "/api/worker/activity-tasks/poll",
            WORKER,
            {"worker_id": "w1", "task_queue": "q", "timeout_seconds": 0},
            "build_id",
        ),
        ("workflow task heartbeat", f"{wt}/heartbeat", WORKER, dict(live.fence), "extra"),
        (
            "workflow task history",
            f"{wt}/history",
            WORKER,
            {**live.fence, "next_history_page_token": "MQ=="},
            "accept_history_encoding",
        ),
        ("complete: command payload", f"{wt}/complete", WORKER, {**live.fence}, "commands.0.result"),
        ("complete: fail_workflow message", f"{wt}/complete", WORKER, {**live.fence}, "commands.0.message"),
        ("complete: search attributes", f"{wt}/complete", WORKER, {**live.fence}, "commands.0.attributes"),
        ("workflow task fail", f"{wt}/fail", WORKER, {**live.fence}, "failure.message"),
        ("activity complete", f"{at}/complete", WORKER, dict(live.activity_fence), "result"),
        ("activity fail", f"{at}/fail", WORKER, dict(live.activity_fence), "failure.message"),
        ("activity heartbeat", f"{at}/heartbeat", WORKER, dict(live.activity_fence), "details"),
    ]


# Fields whose shape is an object or an array get the bad value one level inside, so the value
# itself, not the field's type, is what the server must refuse.
_INSIDE_OBJECT = {"memo", "search_attributes", "task_slots", "process_metrics", "details", "attributes"}
_INSIDE_ARRAY = {"input"}


def _poisoned(body: dict[str, Any], field: str, value_text: str) -> bytes:
    """``body`` as JSON text with ``field`` (dotted; ``commands.0.x`` makes a command) set to raw text."""
    marker = "__POISON__"
    name = field.rsplit(".", 1)[-1]
    if name in _INSIDE_OBJECT:
        value_text = '{"k": ' + value_text + "}"
    elif name in _INSIDE_ARRAY:
        value_text = "[" + value_text + "]"
    document = json.loads(json.dumps(body))
    if field.startswith("commands.0."):
        kind = {
            "result": "complete_workflow",
            "message": "fail_workflow",
            "attributes": "upsert_search_attributes",
        }
        document["commands"] = [{"type": kind[name], name: marker}]
    elif field.startswith("failure."):
        document["failure"] = {"message": marker}
    else:
        document[field] = marker
    return json.dumps(document).replace(f'"{marker}"', value_text).encode()


async def _assert_refused(
    live: Live, before: dict[str, list[str]], response: httpx.Response, status: int, reason: str
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["reason"] == reason, body
    assert isinstance(body["message"], str) and body["message"]
    if reason == "validation_failed":
        assert body["errors"] == body["validation_errors"] and body["errors"], body
    if "/worker/" in str(response.request.url):
        assert body["protocol_version"] == "1.1" and "server_capabilities" in body
        assert response.headers["X-Durable-Workflow-Protocol-Version"] == "1.1"
    else:
        assert response.headers["X-Durable-Workflow-Control-Plane-Version"] == "2"
    assert await snapshot(live.db_url) == before, "a refused request changed the database"
    return body


async def test_json_the_server_cannot_store_is_malformed(live: Live) -> None:
    before = await snapshot(live.db_url)
    for route, path, headers, body, field in _body_routes(live):
        for label, text in NOT_JSON:
            response = await live.http.post(path, content=_poisoned(body, field, text), headers=headers)
            refused = await _assert_refused(live, before, response, 400, "malformed_json")
            assert refused["json_error"], (route, label)


async def test_text_the_server_cannot_store_names_its_field(live: Live) -> None:
    before = await snapshot(live.db_url)
    for route, path, headers, body, field in _body_routes(live):
        for label, text in NOT_TEXT:
            response = await live.http.post(path, content=_poisoned(body, field, text), headers=headers)
            refused = await _assert_refused(live, before, response, 422, "validation_failed")
            keys = list(refused["errors"])
            assert all(key.startswith(field) for key in keys), (route, label, keys)


def _range_cases(live: Live) -> list[tuple[str, str, dict[str, str], dict[str, Any], str]]:
    wt, at = (
        f"/api/worker/workflow-tasks/{live.task_id}",
        f"/api/worker/activity-tasks/{live.activity_task_id}",
    )
    command = {**live.fence}
    return [
        (
            "execution timeout",
            "/api/workflows",
            CONTROL,
            {"workflow_type": "t", "execution_timeout_seconds": BIG},
            "execution_timeout_seconds",
        ),
        (
            "run timeout",
            "/api/workflows",
            CONTROL,
            {"workflow_type": "t", "run_timeout_seconds": str(BIG)},
            "run_timeout_seconds",
        ),
        (
            "slot count",
            "/api/worker/register",
            WORKER,
            {"task_queue": "q", "runtime": "python", "max_concurrent_workflow_tasks": BIG},
            "max_concurrent_workflow_tasks",
        ),
        (
            "activity slot count",
            "/api/worker/register",
            WORKER,
            {"task_queue": "q", "runtime": "python", "max_concurrent_activity_tasks": 2**70},
            "max_concurrent_activity_tasks",
        ),
        (
            "attempt on heartbeat",
            f"{wt}/heartbeat",
            WORKER,
            {**live.fence, "workflow_task_attempt": BIG},
            "workflow_task_attempt",
        ),
        (
            "attempt on complete",
            f"{wt}/complete",
            WORKER,
            {**live.fence, "workflow_task_attempt": 2**63, "commands": [{"type": "complete_workflow"}]},
            "workflow_task_attempt",
        ),
        (
            "attempt on fail",
            f"{wt}/fail",
            WORKER,
            {**live.fence, "workflow_task_attempt": BIG, "failure": {"message": "x"}},
            "workflow_task_attempt",
        ),
        (
            "timer delay",
            f"{wt}/complete",
            WORKER,
            {**command, "commands": [{"type": "start_timer", "delay_seconds": BIG}]},
            "commands.0.delay_seconds",
        ),
        (
            "activity timeout",
            f"{wt}/complete",
            WORKER,
            {
                **command,
                "commands": [
                    {"type": "schedule_activity", "activity_type": "a", "start_to_close_timeout": 10**12}
                ],
            },
            "commands.0.start_to_close_timeout",
        ),
        (
            "retry attempts",
            f"{wt}/complete",
            WORKER,
            {
                **command,
                "commands": [
                    {"type": "schedule_activity", "activity_type": "a", "retry_policy": {"max_attempts": BIG}}
                ],
            },
            "commands.0.retry_policy",
        ),
        (
            "retry backoff",
            f"{wt}/complete",
            WORKER,
            {
                **command,
                "commands": [
                    {
                        "type": "schedule_activity",
                        "activity_type": "a",
                        "retry_policy": {"backoff_seconds": [1, BIG]},
                    }
                ],
            },
            "commands.0.retry_policy",
        ),
        (
            "version marker",
            f"{wt}/complete",
            WORKER,
            {
                **command,
                "commands": [
                    {
                        "type": "record_version_marker",
                        "change_id": "c",
                        "version": BIG,
                        "min_supported": 1,
                        "max_supported": BIG,
                    }
                ],
            },
            "commands.0.version",
        ),
        (
            "activity type length",
            f"{wt}/complete",
            WORKER,
            {**command, "commands": [{"type": "schedule_activity", "activity_type": "a" * 60_000}]},
            "commands.0.activity_type",
        ),
        (
            "queue length",
            f"{wt}/complete",
            WORKER,
            {
                **command,
                "commands": [{"type": "schedule_activity", "activity_type": "a", "queue": "q" * 256}],
            },
            "commands.0.queue",
        ),
        (
            "continue-as-new type length",
            f"{wt}/complete",
            WORKER,
            {**command, "commands": [{"type": "continue_as_new", "workflow_type": "t" * 300}]},
            "commands.0.workflow_type",
        ),
        ("workflow type length", "/api/workflows", CONTROL, {"workflow_type": "t" * 60_000}, "workflow_type"),
        (
            "lease owner length",
            f"{at}/heartbeat",
            WORKER,
            {**live.activity_fence, "lease_owner": "o" * 256},
            "lease_owner",
        ),
    ]


async def test_numbers_and_names_beyond_their_column_are_refused(live: Live) -> None:
    before = await snapshot(live.db_url)
    for label, path, headers, body, field in _range_cases(live):
        response = await live.http.post(path, json=body, headers=headers)
        refused = await _assert_refused(live, before, response, 422, "validation_failed")
        assert field in refused["errors"], (label, refused["errors"])


async def test_ids_and_query_values_that_cannot_be_stored_are_refused(live: Live) -> None:
    before = await snapshot(live.db_url)
    wt = f"/api/worker/workflow-tasks/{live.task_id}"
    cases: list[tuple[str, str, dict[str, str], Any, int, str]] = [
        ("GET", "/api/workflows/wf%00", CONTROL, None, 422, "validation_failed"),
        ("GET", "/api/workflows/wf-1/runs", CONTROL, None, 200, ""),
        ("GET", f"/api/workflows/wf-1/runs/{live.run_id}%00", CONTROL, None, 422, "validation_failed"),
        ("GET", f"/api/workflows/wf-1/runs/{live.run_id}/history/export%00", CONTROL, None, 404, "not_found"),
        ("POST", "/api/worker/workflow-tasks/t%00/heartbeat", WORKER, live.fence, 422, "validation_failed"),
        (
            "POST",
            "/api/worker/activity-tasks/t%00/complete",
            WORKER,
            live.activity_fence,
            422,
            "validation_failed",
        ),
        ("GET", "/api/workflows?workflow_type=%00", CONTROL, None, 422, "validation_failed"),
        ("GET", "/api/workflows?query=a%00b", CONTROL, None, 422, "validation_failed"),
        (
            "GET",
            f"/api/workflows?next_page_token={TOKEN_BEYOND_BIGINT}",
            CONTROL,
            None,
            400,
            "invalid_page_token",
        ),
        (
            "GET",
            f"/api/workflows/wf-1/runs/{live.run_id}/history?next_page_token={TOKEN_BEYOND_BIGINT}",
            CONTROL,
            None,
            400,
            "invalid_page_token",
        ),
        (
            "GET",
            f"/api/workflows/wf-1/runs/{live.run_id}/history?page_size=99999999999999999999",
            CONTROL,
            None,
            422,
            "validation_failed",
        ),
        (
            "POST",
            f"{wt}/history",
            WORKER,
            {**live.fence, "next_history_page_token": TOKEN_BEYOND_BIGINT},
            400,
            "invalid_page_token",
        ),
        ("GET", "/api/workflows?namespace=a%00b", CONTROL, None, 404, "namespace_not_found"),
        ("GET", "/api/workflows?namespace=" + "n" * 200, CONTROL, None, 404, "namespace_not_found"),
        (
            "POST",
            "/api/worker/heartbeat",
            {**WORKER, "X-Namespace": "n" * 200},
            {"worker_id": "w1"},
            404,
            "namespace_not_found",
        ),
        ("GET", "/api/cluster/info?namespace=a%00b", CONTROL, None, 404, "namespace_not_found"),
    ]
    for method, path, headers, body, status, reason in cases:
        response = await live.http.request(method, path, json=body, headers=headers)
        if status == 200:
            assert response.status_code == 200, response.text
            continue
        if path.startswith("/api/cluster"):
            assert response.status_code == status and response.json()["reason"] == reason, response.text
            assert await snapshot(live.db_url) == before
            continue
        await _assert_refused(live, before, response, status, reason)


@pytest.mark.parametrize(
    "header",
    [
        "¹.¹".encode("latin-1"),  # superscript digits: str.isdigit() says yes, int() says no
        "١.١".encode(),  # Arabic-Indic digits, sent as UTF-8
        "１.１".encode(),  # fullwidth digits
        b"1.\xb2",
    ],
)
async def test_non_ascii_digits_in_the_protocol_version_are_unsupported(live: Live, header: bytes) -> None:
    before = await snapshot(live.db_url)
    headers: dict[str, Any] = {**WORKER, "X-Durable-Workflow-Protocol-Version": header}
    response = await live.http.post("/api/worker/heartbeat", json={"worker_id": "w1"}, headers=headers)
    await _assert_refused(live, before, response, 400, "unsupported_protocol_version")


async def test_refused_runs_still_read_back(live: Live) -> None:
    """After every kind of refusal, each read of the namespace still answers (no poisoned rows)."""
    for _, path, headers, body, field in _body_routes(live):
        for _, text in NOT_JSON[:3] + NOT_TEXT:
            await live.http.post(path, content=_poisoned(body, field, text), headers=headers)
    listed = await live.http.get("/api/workflows", headers=CONTROL)
    assert listed.status_code == 200 and listed.json()["workflow_count"] == 2
    for workflow_id in ("wf-1", "wf-2"):
        described = await live.http.get(f"/api/workflows/{workflow_id}", headers=CONTROL)
        assert described.status_code == 200
        run_id = described.json()["run_id"]
        history = await live.http.get(f"/api/workflows/{workflow_id}/runs/{run_id}/history", headers=CONTROL)
        assert history.status_code == 200


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
async def test_other_json_encodings_are_checked_too(live: Live, encoding: str) -> None:
    before = await snapshot(live.db_url)
    text = '{"worker_id": "w1", "process_metrics": {"k": "bad \\u0000 text"}}'
    response = await live.http.post("/api/worker/heartbeat", content=text.encode(encoding), headers=WORKER)
    refused = await _assert_refused(live, before, response, 422, "validation_failed")
    assert list(refused["errors"]) == ["process_metrics.k"]
