"""Worker-plane routes over the fake engine: envelope, statuses and request validation."""

from __future__ import annotations

import pytest

from durable_workflow.protocol import versions
from durable_workflow_server.engine.errors import DomainError
from tests.helpers.http_helpers import worker_headers

REGISTER = {
    "worker_id": "py-worker-1",
    "task_queue": "default",
    "runtime": "python",
    "sdk_version": "durable-workflow-python/0.4.84",
    "supported_workflow_types": ["greeter"],
    "workflow_definition_fingerprints": {"greeter": "sha256:abc"},
    "supported_activity_types": ["greet"],
    "max_concurrent_workflow_tasks": 10,
    "max_concurrent_activity_tasks": 10,
    "capabilities": [],
    "task_slots": {"workflow_available": 10, "activity_available": 10},
    "process_metrics": {"process_id": 1},
}
FENCE = {"lease_owner": "py-worker-1", "workflow_task_attempt": 1}
ACTIVITY_FENCE = {"activity_attempt_id": "att-1", "lease_owner": "py-worker-1"}


async def post(client, path, body):
    return await client.post(f"/api/worker{path}", json=body, headers=worker_headers())


def assert_envelope(response):
    assert response.headers[versions.WORKER_PROTOCOL_HEADER] == "1.1"
    assert versions.CONTROL_PLANE_HEADER not in response.headers
    body = response.json()
    assert body["protocol_version"] == "1.1"
    capabilities = body["server_capabilities"]
    assert capabilities["query_tasks"] is True
    assert capabilities["supported_workflow_task_commands"][0] == "complete_workflow"
    assert "control_plane" not in body
    return body


async def test_register_is_201_with_envelope(client, fake_engine):
    response = await post(client, "/register", REGISTER)
    assert response.status_code == 201
    body = assert_envelope(response)
    assert body["worker_id"] == "py-worker-1" and body["registered"] is True
    (namespace, request), _ = fake_engine.called("register_worker")[0]
    assert namespace == "default"
    assert request.supported_workflow_types == ["greeter"]
    assert request.workflow_definition_fingerprints == {"greeter": "sha256:abc"}
    assert request.task_slots == {"workflow_available": 10, "activity_available": 10}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"task_queue": None}, "task_queue"),
        ({"runtime": "cobol"}, "runtime"),
        ({"supported_workflow_types": "greeter"}, "supported_workflow_types"),
        ({"supported_activity_types": [1]}, "supported_activity_types.0"),
        ({"max_concurrent_workflow_tasks": 0}, "max_concurrent_workflow_tasks"),
        ({"workflow_definition_fingerprints": {"greeter": 3}}, "workflow_definition_fingerprints.greeter"),
        ({"task_slots": []}, "task_slots"),
        ({"sdk_version": "v" * 65}, "sdk_version"),
    ],
)
async def test_register_validation_is_422_with_envelope(client, fake_engine, patch, field):
    response = await post(client, "/register", {**REGISTER, **patch})
    assert response.status_code == 422
    body = assert_envelope(response)
    assert body["reason"] == "validation_failed" and field in body["errors"]
    assert fake_engine.engine_calls == []


async def test_heartbeat_unknown_worker_is_404(client, fake_engine):
    fake_engine.errors["heartbeat_worker"] = DomainError("worker_not_registered", "unknown worker")
    response = await post(client, "/heartbeat", {"worker_id": "ghost"})
    assert response.status_code == 404
    assert assert_envelope(response)["reason"] == "worker_not_registered"


async def test_poll_before_register_is_412(client, fake_engine):
    fake_engine.errors["poll_workflow_task"] = DomainError("worker_not_registered", "register first")
    response = await post(client, "/workflow-tasks/poll", {"worker_id": "w", "task_queue": "q"})
    assert response.status_code == 412
    assert assert_envelope(response)["reason"] == "worker_not_registered"
    fake_engine.errors["poll_activity_task"] = DomainError("worker_not_registered", "register first")
    response = await post(client, "/activity-tasks/poll", {"worker_id": "w", "task_queue": "q"})
    assert response.status_code == 412


async def test_poll_queue_mismatch_is_409(client, fake_engine):
    fake_engine.errors["poll_workflow_task"] = DomainError(
        "task_queue_mismatch", "wrong queue", registered_task_queue="a", requested_task_queue="b"
    )
    response = await post(client, "/workflow-tasks/poll", {"worker_id": "w", "task_queue": "b"})
    assert response.status_code == 409
    assert assert_envelope(response)["registered_task_queue"] == "a"


async def test_empty_poll_is_200_task_null_and_passes_fields(client, fake_engine):
    body = {
        "worker_id": "w", "task_queue": "q", "build_id": "b1", "poll_request_id": "wf-poll-1",
        "history_page_size": 50, "timeout_seconds": 0.01,
    }  # fmt: skip
    response = await post(client, "/workflow-tasks/poll", body)
    assert response.status_code == 200
    assert assert_envelope(response)["task"] is None
    _, kwargs = fake_engine.called("poll_workflow_task")[0]
    assert kwargs == {
        "worker_id": "w", "task_queue": "q", "build_id": "b1", "poll_request_id": "wf-poll-1",
        "history_page_size": 50, "timeout": 0.01,
    }  # fmt: skip


async def test_poll_timeout_is_clamped(client, fake_engine):
    await post(
        client, "/activity-tasks/poll", {"worker_id": "w", "task_queue": "q", "poll_timeout_seconds": 999}
    )
    assert fake_engine.called("poll_activity_task")[0][1]["timeout"] == 60.0


async def test_poll_returns_task(client, fake_engine):
    fake_engine.results["poll_workflow_task"] = {"task_id": "t1", "workflow_task_attempt": 1}
    response = await post(client, "/workflow-tasks/poll", {"worker_id": "w", "task_queue": "q"})
    assert assert_envelope(response)["task"]["task_id"] == "t1"


@pytest.mark.parametrize("missing", ["worker_id", "task_queue"])
async def test_poll_requires_worker_and_queue(client, fake_engine, missing):
    body = {"worker_id": "w", "task_queue": "q"}
    del body[missing]
    response = await post(client, "/workflow-tasks/poll", body)
    assert response.status_code == 422 and missing in response.json()["errors"]
    assert fake_engine.engine_calls == []


async def test_complete_passes_commands_and_is_200_when_reason_null(client, fake_engine):
    commands = [{"type": "complete_workflow", "result": {"codec": "avro", "blob": "AAhudWxsAg=="}}]
    response = await post(client, "/workflow-tasks/t1/complete", {**FENCE, "commands": commands})
    assert response.status_code == 200
    assert assert_envelope(response)["outcome"] == "completed"
    args, kwargs = fake_engine.called("complete_workflow_task")[0]
    assert args == ("default", "t1")
    assert kwargs == {"lease_owner": "py-worker-1", "workflow_task_attempt": 1, "commands": commands}


@pytest.mark.parametrize(("reason", "status"), [("invalid_commands", 409), ("task_not_found", 404)])
async def test_complete_with_reason_is_not_200(client, fake_engine, reason, status):
    fake_engine.results["complete_workflow_task"] = {"task_id": "t1", "recorded": False, "reason": reason}
    response = await post(client, "/workflow-tasks/t1/complete", {**FENCE, "commands": [{"type": "x"}]})
    assert response.status_code == status
    assert assert_envelope(response)["reason"] == reason


@pytest.mark.parametrize(
    ("reason", "status"),
    [("task_not_found", 404), ("lease_owner_mismatch", 409), ("workflow_task_attempt_mismatch", 409),
     ("lease_expired", 409), ("run_closed", 409), ("structural_limit_exceeded", 422)],
)  # fmt: skip
async def test_fence_errors_raised_by_engine(client, fake_engine, reason, status):
    fake_engine.errors["complete_workflow_task"] = DomainError(reason, "fenced", current_attempt=2)
    response = await post(client, "/workflow-tasks/t1/complete", {**FENCE, "commands": [{"type": "x"}]})
    assert response.status_code == status
    body = assert_envelope(response)
    assert body["reason"] == reason and body["current_attempt"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"workflow_task_attempt": 1, "commands": [{"type": "x"}]}, "lease_owner"),
        ({"lease_owner": "w", "commands": [{"type": "x"}]}, "workflow_task_attempt"),
        ({**FENCE, "workflow_task_attempt": 0, "commands": [{"type": "x"}]}, "workflow_task_attempt"),
        ({**FENCE, "commands": []}, "commands"),
        ({**FENCE, "commands": "complete"}, "commands"),
        ({**FENCE, "commands": [1]}, "commands.0"),
        ({**FENCE, "commands": [{"result": 1}]}, "commands.0.type"),
    ],
)
async def test_complete_validation(client, fake_engine, body, field):
    response = await post(client, "/workflow-tasks/t1/complete", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert fake_engine.engine_calls == []


async def test_workflow_task_fail_history_and_heartbeat(client, fake_engine):
    response = await post(
        client, "/workflow-tasks/t1/fail", {**FENCE, "failure": {"message": "boom", "type": "E"}}
    )
    assert response.status_code == 200
    assert fake_engine.called("fail_workflow_task")[0][1]["failure"] == {"message": "boom", "type": "E"}
    bad = await post(client, "/workflow-tasks/t1/fail", {**FENCE, "failure": {"type": "E"}})
    assert bad.status_code == 422 and "failure.message" in bad.json()["errors"]
    history = await post(client, "/workflow-tasks/t1/history", {**FENCE, "next_history_page_token": "MTA="})
    assert history.status_code == 200
    assert fake_engine.called("workflow_task_history")[0][1]["next_history_page_token"] == "MTA="
    no_token = await post(client, "/workflow-tasks/t1/history", FENCE)
    assert no_token.status_code == 422
    heartbeat = await post(client, "/workflow-tasks/t1/heartbeat", FENCE)
    assert heartbeat.status_code == 200 and assert_envelope(heartbeat)["renewed"] is True


async def test_activity_complete_fail_and_heartbeat(client, fake_engine):
    result = {"codec": "avro", "blob": "AAhudWxsAg=="}
    response = await post(client, "/activity-tasks/t1/complete", {**ACTIVITY_FENCE, "result": result})
    assert response.status_code == 200
    assert fake_engine.called("complete_activity_task")[0][1] == {
        "activity_attempt_id": "att-1", "lease_owner": "py-worker-1", "result": result,
    }  # fmt: skip
    failure = {"message": "nope", "type": "ValueError", "non_retryable": True}
    response = await post(client, "/activity-tasks/t1/fail", {**ACTIVITY_FENCE, "failure": failure})
    assert response.status_code == 200
    assert fake_engine.called("fail_activity_task")[0][1]["failure"] == failure
    beat = {**ACTIVITY_FENCE, "message": "half", "current": 5, "total": 10, "details": {"k": 1}}
    response = await post(client, "/activity-tasks/t1/heartbeat", beat)
    assert response.status_code == 200
    progress = fake_engine.called("heartbeat_activity_task")[0][1]["progress"]
    assert progress == {"message": "half", "current": 5, "total": 10, "details": {"k": 1}}


async def test_activity_heartbeat_cancellation_is_200(client, fake_engine):
    fake_engine.results["heartbeat_activity_task"] = {
        "task_id": "t1", "cancel_requested": True, "can_continue": False, "reason": "run_cancelled",
    }  # fmt: skip
    response = await post(client, "/activity-tasks/t1/heartbeat", ACTIVITY_FENCE)
    assert response.status_code == 200 and response.json()["cancel_requested"] is True


async def test_activity_stale_outcome_is_409(client, fake_engine):
    fake_engine.results["complete_activity_task"] = {
        "task_id": "t1",
        "recorded": False,
        "reason": "stale_attempt",
    }
    response = await post(client, "/activity-tasks/t1/complete", {**ACTIVITY_FENCE, "result": None})
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/activity-tasks/t1/complete", {"lease_owner": "w"}, "activity_attempt_id"),
        (
            "/activity-tasks/t1/complete",
            {**ACTIVITY_FENCE, "result": {"codec": "json", "blob": "1"}},
            "result.codec",
        ),
        ("/activity-tasks/t1/fail", {**ACTIVITY_FENCE}, "failure"),
        (
            "/activity-tasks/t1/fail",
            {**ACTIVITY_FENCE, "failure": {"message": "m", "kind": "odd"}},
            "failure.kind",
        ),
        ("/activity-tasks/t1/heartbeat", {**ACTIVITY_FENCE, "current": "five"}, "current"),
    ],
)
async def test_activity_validation(client, fake_engine, path, body, field):
    response = await post(client, path, body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert fake_engine.engine_calls == []


async def test_polls_pass_held_task_ids_through(client, fake_engine):
    body = {"worker_id": "w", "task_queue": "q", "held_task_ids": ["t1", "t2"], "timeout_seconds": 0}
    await post(client, "/workflow-tasks/poll", body)
    assert fake_engine.called("poll_workflow_task")[0][1]["held_task_ids"] == ["t1", "t2"]
    await post(client, "/activity-tasks/poll", {**body, "held_task_ids": []})
    assert fake_engine.called("poll_activity_task")[0][1]["held_task_ids"] == []
    await post(client, "/activity-tasks/poll", {**body, "held_task_ids": None})
    assert "held_task_ids" not in fake_engine.called("poll_activity_task")[1][1]


async def test_held_task_ids_must_be_a_list_of_strings(client, fake_engine):
    body = {"worker_id": "w", "task_queue": "q", "held_task_ids": [1]}
    response = await post(client, "/workflow-tasks/poll", body)
    assert response.status_code == 422
    assert fake_engine.called("poll_workflow_task") == []


async def test_heartbeat_passes_the_stop_notice(client, fake_engine):
    response = await post(client, "/heartbeat", {"worker_id": "w", "stopping": True})
    assert response.status_code == 200
    assert fake_engine.called("heartbeat_worker")[0][1]["stopping"] is True
