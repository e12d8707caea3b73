"""Start/list/history request validation, payload normalisation and the control_plane block."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError
from tests.helpers.http_helpers import control_headers

START = {"workflow_type": "greeter", "workflow_id": "wf-1"}


async def start(client, body):
    return await client.post("/api/workflows", json=body, headers=control_headers())


def assert_field_errors(response, *fields):
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "validation_failed"
    assert body["errors"] == body["validation_errors"]
    for field in fields:
        assert field in body["errors"], (field, body["errors"])
    return body


# ---------------------------------------------------------------------- start: success paths


async def test_start_returns_201_with_control_plane_block(client, fake_engine):
    response = await start(client, {**START, "input": ["world"], "task_queue": "default"})
    assert response.status_code == 201
    assert response.headers["X-Durable-Workflow-Control-Plane-Version"] == "2"
    body = response.json()
    assert body["workflow_id"] == "wf-1" and body["workflow_type"] == "greeter"
    block = body["control_plane"]
    assert block["schema"] == "durable-workflow.v2.control-plane-response"
    assert block["version"] == 1 and block["operation"] == "start" and block["workflow_id"] == "wf-1"
    assert block["contract"]["success_fields"] == ["workflow_id", "outcome"]
    assert block["contract"]["legacy_field_policy"] == "reject_non_canonical"
    assert block["outcome"] == "started_new" and block["run_id"] == "run-1"
    assert "protocol_version" not in body
    (namespace, request), _ = fake_engine.called("start_workflow")[0]
    assert namespace == "default"
    assert request.input == {"codec": "avro", "blob": "ABJbIndvcmxkIl0C"}
    assert request.task_queue == "default" and request.duplicate_policy == "fail"


@pytest.mark.parametrize("value", [None, [], "absent"])
async def test_missing_or_empty_input_becomes_empty_list_envelope(client, fake_engine, value):
    body = dict(START)
    if value != "absent":
        body["input"] = value
    assert (await start(client, body)).status_code == 201
    request = fake_engine.called("start_workflow")[0][0][1]
    assert request.input == {"codec": "avro", "blob": "AARbXQI="}


async def test_avro_envelope_is_kept_verbatim(client, fake_engine):
    blob = codec.encode_value_v1(["typed"])  # the typed framing decodes too
    assert (await start(client, {**START, "input": {"codec": "avro", "blob": blob}})).status_code == 201
    assert fake_engine.called("start_workflow")[0][0][1].input == {"codec": "avro", "blob": blob}


async def test_use_existing_returns_200(client, fake_engine):
    fake_engine.results["start_workflow"] = {
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "greeter",
        "outcome": "returned_existing_active",
    }
    response = await start(client, {**START, "duplicate_policy": "use-existing"})
    assert response.status_code == 200
    assert fake_engine.called("start_workflow")[0][0][1].duplicate_policy == "use-existing"


async def test_duplicate_is_409_with_reason_and_outcome(client, fake_engine):
    fake_engine.errors["start_workflow"] = DomainError(
        "duplicate_not_allowed",
        "already started",
        outcome="rejected_duplicate",
        workflow_id="wf-1",
        rejection_reason="instance_already_started",
        status="running",
    )
    response = await start(client, START)
    assert response.status_code == 409
    body = response.json()
    assert body["reason"] == "duplicate_not_allowed" and body["outcome"] == "rejected_duplicate"
    assert body["status"] == "running" and body["message"] == "already started"
    assert body["control_plane"]["operation"] == "start"
    assert body["control_plane"]["outcome"] == "rejected_duplicate"


# ---------------------------------------------------------------------- start: rejections


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"workflow_type": None}, "workflow_type"),
        ({"workflow_type": 5}, "workflow_type"),
        ({"workflow_type": "t" * 256}, "workflow_type"),
        ({"workflow_id": "has space"}, "workflow_id"),
        ({"workflow_id": "x" * 129}, "workflow_id"),
        ({"workflow_id": 12}, "workflow_id"),
        ({"task_queue": ["q"]}, "task_queue"),
        ({"business_key": {}}, "business_key"),
        ({"duplicate_policy": "use_existing"}, "duplicate_policy"),
        ({"duplicate_policy": "reject"}, "duplicate_policy"),
        ({"execution_timeout_seconds": 0}, "execution_timeout_seconds"),
        ({"execution_timeout_seconds": "soon"}, "execution_timeout_seconds"),
        ({"run_timeout_seconds": True}, "run_timeout_seconds"),
        ({"memo": "text"}, "memo"),
        ({"memo": {"big": "x" * 300}}, "memo"),
        ({"search_attributes": {"1bad": "x"}}, "search_attributes"),
        ({"search_attributes": {"": "x"}}, "search_attributes"),
        ({"search_attributes": {"Ok": "v" * 2049}}, "search_attributes"),
        ({"search_attributes": {"Tags": ["ok", "v" * 2049]}}, "search_attributes"),
        ({"input": "scalar"}, "input"),
        ({"input": 3}, "input"),
        ({"input": {"named": 1}}, "input"),
        ({"input": {"codec": "avro", "blob": 7}}, "input.blob"),
        ({"input": {"codec": "avro", "blob": "not-base64!"}}, "input.blob"),
        ({"input": {"codec": "avro", "blob": "AQID"}}, "input.blob"),
        ({"input": {"codec": "avro", "external_storage": {"uri": "s3://x"}}}, "input.external_storage"),
    ],
)
async def test_bad_start_field_is_422_and_writes_nothing(make_client, fake_engine, patch, field):
    client = await make_client(max_memo_bytes=100)
    body = {**START, **patch}
    if patch.get("workflow_type", "") is None:
        del body["workflow_type"]
    response = await start(client, body)
    assert_field_errors(response, field)
    assert response.json()["control_plane"]["operation"] == "start"
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize(
    "key",
    ["workflow_execution_timeout", "workflow_run_timeout", "workflow_task_timeout", "retry_policy",
     "idempotency_key", "request_id"],
)  # fmt: skip
async def test_unsupported_start_keys_are_422_each(client, fake_engine, key):
    response = await start(client, {**START, key: None})
    assert_field_errors(response, key)
    assert fake_engine.engine_calls == []


async def test_several_errors_are_all_reported_with_count_in_message(client, fake_engine):
    response = await start(client, {"workflow_type": 1, "retry_policy": {}, "request_id": "r"})
    body = assert_field_errors(response, "workflow_type", "retry_policy", "request_id")
    assert body["message"].endswith("(and 2 more errors)")


async def test_non_object_body_is_422(client, fake_engine):
    response = await client.post("/api/workflows", json=["greeter"], headers=control_headers())
    assert_field_errors(response, "body")
    assert fake_engine.engine_calls == []


@pytest.mark.parametrize("codec_name", ["json", "workflow-serializer-y", None])
async def test_unsupported_codec_is_422_with_its_own_reason(client, fake_engine, codec_name):
    response = await start(client, {**START, "input": {"codec": codec_name, "blob": "[]"}})
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "unsupported_payload_codec"
    assert "input.codec" in body["errors"]
    assert fake_engine.engine_calls == []


async def test_engine_validation_failure_maps_to_422(client, fake_engine):
    from durable_workflow_server.engine.errors import ValidationFailed

    fake_engine.errors["start_workflow"] = ValidationFailed({"workflow_type": ["different type for this id"]})
    response = await start(client, START)
    body = assert_field_errors(response, "workflow_type")
    assert body["message"] == "different type for this id"


# ---------------------------------------------------------------------- reads


async def test_list_passes_filters_and_defaults(client, fake_engine):
    response = await client.get(
        "/api/workflows?workflow_type=greeter&status=running&query=wf&page_size=10&next_page_token=NTA=",
        headers=control_headers(),
    )
    assert response.status_code == 200
    assert response.json()["control_plane"]["operation"] == "list"
    _, kwargs = fake_engine.called("list_workflows")[0]
    assert kwargs == {
        "workflow_type": "greeter",
        "status": "running",
        "query": "wf",
        "page_size": 10,
        "next_page_token": "NTA=",
        "task_queue": None,
        "started_after": None,
        "started_before": None,
        "closed_after": None,
        "closed_before": None,
    }
    await client.get("/api/workflows", headers=control_headers())
    assert fake_engine.called("list_workflows")[1][1]["page_size"] == 50


async def test_list_passes_the_queue_and_time_windows(client, fake_engine):
    response = await client.get(
        "/api/workflows",
        params={
            "task_queue": "orders",
            "started_after": "2026-04-22T05:00:00Z",
            "started_before": "2026-04-22T07:00:00+02:00",
            "closed_after": "2026-04-22T05:30:00",  # no zone: UTC
        },
        headers=control_headers(),
    )
    assert response.status_code == 200
    _, kwargs = fake_engine.called("list_workflows")[0]
    utc = timezone.utc
    assert kwargs["task_queue"] == "orders"
    assert kwargs["started_after"] == datetime(2026, 4, 22, 5, 0, tzinfo=utc)
    assert kwargs["started_before"] == datetime(2026, 4, 22, 5, 0, tzinfo=utc)
    assert kwargs["closed_after"] == datetime(2026, 4, 22, 5, 30, tzinfo=utc)
    assert kwargs["closed_before"] is None


@pytest.mark.parametrize(
    "query",
    [
        "status=cancelled",
        "status=bogus",
        "page_size=0",
        "page_size=201",
        "page_size=x",
        "started_after=yesterday",
        "closed_before=2026-13-01T00:00:00Z",
        "task_queue=" + "q" * 256,
    ],
)
async def test_bad_list_query_is_422(client, fake_engine, query):
    response = await client.get(f"/api/workflows?{query}", headers=control_headers())
    assert_field_errors(response, query.split("=")[0])
    assert fake_engine.engine_calls == []


async def test_history_defaults_and_bounds(client, fake_engine):
    url = "/api/workflows/wf-1/runs/run-9/history"
    response = await client.get(url, headers=control_headers())
    assert response.status_code == 200
    body = response.json()
    assert body["control_plane"]["operation"] == "history"
    assert body["control_plane"]["contract"]["required_fields"] == ["workflow_id", "run_id"]
    assert body["control_plane"]["next_page_token"] is None
    args, kwargs = fake_engine.called("history_page")[0]
    assert args == ("default", "wf-1", "run-9")
    assert kwargs == {"page_size": 100, "next_page_token": None, "wait_new_event": False}
    await client.get(
        url + "?page_size=1000&wait_new_event=true&next_page_token=Mw==", headers=control_headers()
    )
    assert fake_engine.called("history_page")[1][1] == {
        "page_size": 1000, "next_page_token": "Mw==", "wait_new_event": True,
    }  # fmt: skip
    for bad in ("page_size=0", "page_size=1001", "wait_new_event=maybe"):
        assert_field_errors(await client.get(f"{url}?{bad}", headers=control_headers()), bad.split("=")[0])
    assert len(fake_engine.called("history_page")) == 2


async def test_describe_and_run_routes_get_their_operations(client, fake_engine):
    cases = {
        "/api/workflows/wf-1": "describe",
        "/api/workflows/wf-1/runs": "list_runs",
        "/api/workflows/wf-1/runs/run-1": "describe_run",
    }
    for url, operation in cases.items():
        response = await client.get(url, headers=control_headers())
        assert response.status_code == 200
        assert response.json()["control_plane"]["operation"] == operation


async def test_not_found_errors_keep_path_ids_and_block(client, fake_engine):
    fake_engine.errors["describe_run"] = DomainError("run_not_found", "no such run")
    response = await client.get("/api/workflows/wf-1/runs/run-x", headers=control_headers())
    assert response.status_code == 404
    body = response.json()
    assert body["reason"] == "run_not_found"
    assert body["workflow_id"] == "wf-1" and body["run_id"] == "run-x"
    assert body["control_plane"]["operation"] == "describe_run"
    fake_engine.errors["describe_workflow"] = DomainError("instance_not_found", "no such workflow")
    response = await client.get("/api/workflows/wf-2", headers=control_headers())
    assert response.status_code == 404 and response.json()["reason"] == "instance_not_found"


async def test_history_export_has_header_but_no_block(client, fake_engine):
    response = await client.get("/api/workflows/wf-1/runs/run-1/history/export", headers=control_headers())
    assert response.status_code == 200
    assert response.headers["X-Durable-Workflow-Control-Plane-Version"] == "2"
    assert "control_plane" not in response.json()
    assert response.json()["schema"] == "durable-workflow.v2.history-export"
