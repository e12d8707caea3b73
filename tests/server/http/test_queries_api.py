"""The query routes over a recording fake engine: what reaches the engine, and every refusal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError, WorkerRefusal
from tests.helpers.http_helpers import FakeEngine, control_headers, worker_headers

QUERY = "/api/workflows/wf-1/query/status"


async def test_a_query_hands_its_arguments_to_the_engine_and_answers_200(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    fake_engine.results["query_workflow"] = {
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "target_scope": "instance",
        "query_name": "status",
        "result": {"approved": False},
        "result_envelope": codec.envelope({"approved": False}),
        "reason": None,
    }
    response = await client.post(QUERY, json={"input": ["a", 1]}, headers=control_headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == {"approved": False}
    block = body["control_plane"]
    assert (block["operation"], block["operation_name"], block["operation_name_field"]) == (
        "query",
        "status",
        "query_name",
    )
    [(args, kwargs)] = fake_engine.called("query_workflow")
    assert args == ("default", "wf-1", "status") and kwargs["run_id"] is None
    assert codec.decode_envelope(kwargs["arguments"]) == ["a", 1]


async def test_a_run_targeted_query_names_the_run_and_no_input_is_none(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    response = await client.post(
        "/api/workflows/wf-1/runs/run-7/query/a/b", json={}, headers=control_headers()
    )
    assert response.status_code == 200, response.text
    [(args, kwargs)] = fake_engine.called("query_workflow")
    assert args == ("default", "wf-1", "a/b")  # a name may hold slashes
    assert kwargs == {"run_id": "run-7", "arguments": None}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/workflows/wf-1/query/" + "q" * 257, "must not be longer than 256 bytes"),
        ("/api/workflows/wf-1/query/bad%01name", "control characters"),
        ("/api/workflows/wf-1/runs/r1/query/" + "é" * 129, "must not be longer than 256 bytes"),
    ],
)
async def test_bad_query_names_are_422_and_reach_no_engine(
    client: httpx.AsyncClient, fake_engine: FakeEngine, path: str, message: str
) -> None:
    response = await client.post(path, json={}, headers=control_headers())
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "validation_failed"
    assert message in body["errors"]["query_name"][0]
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize(
    "payload",
    [
        {"input": "text"},
        {"input": {"codec": "json", "blob": "[]"}},
        {"input": {"codec": "avro", "blob": "!!"}},
    ],
)
async def test_bad_query_input_is_422_and_reaches_no_engine(
    client: httpx.AsyncClient, fake_engine: FakeEngine, payload: dict[str, Any]
) -> None:
    response = await client.post(QUERY, json=payload, headers=control_headers())
    assert response.status_code == 422, response.text
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DomainError("instance_not_found", "Workflow [wf-1] was not found.", workflow_id="wf-1"), 404),
        (DomainError("historical_run_command_rejected", "Not the current run.", target_scope="run"), 409),
        (DomainError("query_worker_unavailable", "No live worker.", query_name="status", result=None), 409),
        (DomainError("query_worker_timeout", "No answer in time.", query_name="status", result=None), 504),
        (WorkerRefusal("rejected_unknown_query", "no handler 'status'", query_name="status"), 404),
        (WorkerRefusal("query_rejected", "handler raised", query_name="status"), 409),
        # A worker's reason keeps the status of a worker refusal, whatever the reason table says.
        (WorkerRefusal("invalid_query_arguments", "bad arguments", query_name="status"), 409),
    ],
)
async def test_engine_refusals_get_their_documented_status(
    client: httpx.AsyncClient, fake_engine: FakeEngine, error: DomainError, status: int
) -> None:
    fake_engine.errors["query_workflow"] = error
    response = await client.post(QUERY, json={}, headers=control_headers())
    assert response.status_code == status, response.text
    body = response.json()
    assert body["reason"] == error.reason and body["message"] == error.message
    assert body["control_plane"]["operation"] == "query"


async def test_a_worker_token_may_not_query_and_an_oversized_body_is_413(
    make_client: Any, fake_engine: FakeEngine
) -> None:
    client = await make_client(worker_token="w-token", operator_token="o-token")
    forbidden = await client.post(QUERY, json={}, headers=control_headers("w-token"))
    assert forbidden.status_code == 403 and forbidden.json()["reason"] == "forbidden"
    small = await make_client(operator_token="o-token", max_payload_bytes=64)
    big = await small.post(QUERY, json={"input": ["x" * 100]}, headers=control_headers("o-token"))
    assert big.status_code == 413 and big.json()["reason"] == "payload_too_large"
    assert fake_engine.engine_calls == []


# ---------------------------------------------------------------------- worker routes


async def test_query_task_poll_complete_and_fail_reach_the_engine(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    poll = await client.post(
        "/api/worker/query-tasks/poll",
        json={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 99},
        headers=worker_headers(),
    )
    assert poll.status_code == 200 and poll.json()["task"] is None
    assert poll.json()["server_capabilities"]["query_tasks"] is True
    envelope = codec.envelope({"ok": 1})
    done = await client.post(
        "/api/worker/query-tasks/qt-1/complete",
        json={"lease_owner": "w1", "query_task_attempt": 1, "result": {"ok": 1}, "result_envelope": envelope},
        headers=worker_headers(),
    )
    assert done.status_code == 200 and done.json()["outcome"] == "completed"
    failed = await client.post(
        "/api/worker/query-tasks/qt-2/fail",
        json={"lease_owner": "w1", "query_task_attempt": 2, "failure": {"message": "no", "reason": "x"}},
        headers=worker_headers(),
    )
    assert failed.status_code == 200 and failed.json()["outcome"] == "failed"
    assert fake_engine.called("poll_query_task") == [
        (("default",), {"worker_id": "w1", "task_queue": "q", "timeout": 60.0})
    ]
    assert fake_engine.called("complete_query_task")[0][1]["result_envelope"] == envelope
    assert fake_engine.called("fail_query_task")[0][1]["failure"] == {"message": "no", "reason": "x"}


REFERENCE = {
    "schema": "durable-workflow.v2.external-payload-reference.v1",
    "uri": "s3://payloads/result",
    "sha256": "cd" * 32,
    "size_bytes": 10,
    "codec": "avro",
}


async def test_a_query_result_stored_externally_is_passed_on_as_its_reference(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    envelope = {"codec": "avro", "external_storage": REFERENCE}
    done = await client.post(
        "/api/worker/query-tasks/qt-1/complete",
        json={"lease_owner": "w1", "query_task_attempt": 1, "result": None, "result_envelope": envelope},
        headers=worker_headers(),
    )
    assert done.status_code == 200, done.text
    assert fake_engine.called("complete_query_task")[0][1]["result_envelope"] == envelope


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("poll", {"task_queue": "q"}, "worker_id"),
        ("qt-1/complete", {"query_task_attempt": 1}, "lease_owner"),
        ("qt-1/complete", {"lease_owner": "w1", "query_task_attempt": 0}, "query_task_attempt"),
        (
            "qt-1/complete",
            {"lease_owner": "w1", "query_task_attempt": 1, "result_envelope": {"x": 1}},
            "result_envelope",
        ),
        (
            "qt-1/complete",
            {
                "lease_owner": "w1",
                "query_task_attempt": 1,
                "result_envelope": {"codec": "avro", "external_storage": {**REFERENCE, "sha256": "x"}},
            },
            "result_envelope",
        ),
        ("qt-1/fail", {"lease_owner": "w1", "query_task_attempt": 1}, "failure"),
        (
            "qt-1/fail",
            {"lease_owner": "w1", "query_task_attempt": 1, "failure": {"message": 5}},
            "failure.message",
        ),
    ],
)
async def test_bad_query_task_bodies_are_422(
    client: httpx.AsyncClient, fake_engine: FakeEngine, path: str, payload: dict[str, Any], field: str
) -> None:
    response = await client.post(f"/api/worker/query-tasks/{path}", json=payload, headers=worker_headers())
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize("failure", [{}, {"message": ""}, {"message": "  ", "reason": "query_rejected"}])
async def test_a_blank_failure_message_is_accepted(
    client: httpx.AsyncClient, fake_engine: FakeEngine, failure: dict[str, Any]
) -> None:
    """SDK 0.4.84 sends ``str(exc)``, blank for ``raise ValueError()``: the refusal still counts."""
    response = await client.post(
        "/api/worker/query-tasks/qt-1/fail",
        json={"lease_owner": "w1", "query_task_attempt": 1, "failure": failure},
        headers=worker_headers(),
    )
    assert response.status_code == 200, response.text
    assert fake_engine.called("fail_query_task")[0][1]["failure"] == failure


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("query_task_not_found", 404),
        ("query_task_timed_out", 409),
        ("lease_owner_mismatch", 409),
        ("query_task_attempt_mismatch", 409),
    ],
)
async def test_query_task_fence_refusals(
    client: httpx.AsyncClient, fake_engine: FakeEngine, reason: str, status: int
) -> None:
    fake_engine.errors["complete_query_task"] = DomainError(reason, "fenced", outcome="rejected")
    response = await client.post(
        "/api/worker/query-tasks/qt-1/complete",
        json={"lease_owner": "w1", "query_task_attempt": 1, "result": 1},
        headers=worker_headers(),
    )
    assert response.status_code == status
    assert response.json()["reason"] == reason and response.json()["outcome"] == "rejected"


async def test_a_query_poll_before_registering_is_412(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    fake_engine.errors["poll_query_task"] = DomainError("worker_not_registered", "register first")
    response = await client.post(
        "/api/worker/query-tasks/poll", json={"worker_id": "w1", "task_queue": "q"}, headers=worker_headers()
    )
    assert response.status_code == 412 and response.json()["reason"] == "worker_not_registered"
