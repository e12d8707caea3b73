"""Worker-plane methods: exact bodies and response handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from durable_workflow.client import Client
from durable_workflow.errors import PayloadError
from durable_workflow.protocol import codec


async def test_register_worker_full_body(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(201, {"worker_id": "w1", "registered": True})
    client = make_client(worker_token="wt")
    out = await client.register_worker(
        worker_id="w1",
        task_queue="default",
        supported_workflow_types=["greeter"],
        supported_activity_types=["greet"],
        workflow_definition_fingerprints={"greeter": "sha256:ab"},
        max_concurrent_workflow_tasks=10,
        max_concurrent_activity_tasks=10,
        capabilities=["query_tasks"],
        task_slots={"workflow_available": 10},
        process_metrics={"process_id": 1},
    )
    assert out["registered"] is True
    req = fake.last
    assert (req.url.path, req.headers["Authorization"]) == ("/api/worker/register", "Bearer wt")
    body = fake.body_of(req)
    assert body.pop("sdk_version").startswith("durable-workflow-python/")
    assert body == {
        "worker_id": "w1",
        "task_queue": "default",
        "runtime": "python",
        "supported_workflow_types": ["greeter"],
        "supported_activity_types": ["greet"],
        "workflow_definition_fingerprints": {"greeter": "sha256:ab"},
        "max_concurrent_workflow_tasks": 10,
        "max_concurrent_activity_tasks": 10,
        "capabilities": ["query_tasks"],
        "task_slots": {"workflow_available": 10},
        "process_metrics": {"process_id": 1},
    }


async def test_poll_returns_task_or_none(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    fake.reply(200, {"task": None, "protocol_version": "1.1"})
    assert await client.poll_workflow_task(worker_id="w", task_queue="q") is None
    fake.reply(200, {"task": {"task_id": "t1", "workflow_task_attempt": 1}})
    task = await client.poll_workflow_task(
        worker_id="w", task_queue="q", build_id="b1", poll_request_id="p", history_page_size=50, timeout=1.0
    )
    assert task == {"task_id": "t1", "workflow_task_attempt": 1}
    assert fake.body_of(fake.last) == {
        "worker_id": "w",
        "task_queue": "q",
        "build_id": "b1",
        "poll_request_id": "p",
        "history_page_size": 50,
    }
    assert fake.last.extensions["timeout"]["read"] == 1.0
    fake.reply(200, {})  # a body without "task" is "no task"
    assert await client.poll_activity_task(worker_id="w", task_queue="q") is None


async def test_workflow_task_calls(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.workflow_task_history(
        task_id="t", next_history_page_token="Mw==", lease_owner="w", workflow_task_attempt=2
    )
    assert fake.last.url.path == "/api/worker/workflow-tasks/t/history"
    assert fake.body_of(fake.last) == {
        "next_history_page_token": "Mw==",
        "lease_owner": "w",
        "workflow_task_attempt": 2,
    }
    commands = [{"type": "complete_workflow", "result": codec.envelope(1)}]
    await client.complete_workflow_task(
        task_id="t", lease_owner="w", workflow_task_attempt=2, commands=commands
    )
    assert fake.body_of(fake.last) == {"lease_owner": "w", "workflow_task_attempt": 2, "commands": commands}
    await client.fail_workflow_task(task_id="t", lease_owner="w", workflow_task_attempt=2, message="nd")
    assert fake.body_of(fake.last)["failure"] == {"message": "nd"}
    await client.heartbeat_workflow_task(task_id="t", lease_owner="w", workflow_task_attempt=2)
    assert fake.last.url.path == "/api/worker/workflow-tasks/t/heartbeat"


async def test_activity_calls(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.complete_activity_task(
        task_id="a", activity_attempt_id="at", lease_owner="w", result={"greeting": "Hello"}
    )
    body = fake.body_of(fake.last)
    assert body["result"]["codec"] == "avro"
    assert codec.decode_envelope(body["result"]) == {"greeting": "Hello"}
    await client.fail_activity_task(
        task_id="a",
        activity_attempt_id="at",
        lease_owner="w",
        message="boom",
        failure_type="ValueError",
        stack_trace="tb",
        details={"k": 1},
        kind="timeout",
        timeout_type="heartbeat",
        cancelled=False,
    )
    failure = fake.body_of(fake.last)["failure"]
    assert codec.decode_envelope(failure.pop("details")) == {"k": 1}
    assert failure == {
        "message": "boom",
        "type": "ValueError",
        "stack_trace": "tb",
        "kind": "timeout",
        "timeout_type": "heartbeat",
        "cancelled": False,
        "non_retryable": False,
    }
    fake.reply(200, {"cancel_requested": True})
    out = await client.heartbeat_activity_task(
        task_id="a",
        activity_attempt_id="at",
        lease_owner="w",
        message="half",
        current=5,
        total=10,
        unit="rows",
    )
    assert out["cancel_requested"] is True
    assert fake.body_of(fake.last) == {
        "activity_attempt_id": "at",
        "lease_owner": "w",
        "message": "half",
        "current": 5,
        "total": 10,
        "unit": "rows",
    }
    with pytest.raises(PayloadError):
        await client.complete_activity_task(
            task_id="a", activity_attempt_id="at", lease_owner="w", result=1, codec="json"
        )


async def test_query_task_calls(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.complete_query_task(query_task_id="q", lease_owner="w", query_task_attempt=1, result=[1])
    body = fake.body_of(fake.last)
    assert body["result"] == [1] and codec.decode_envelope(body["result_envelope"]) == [1]
    await client.fail_query_task(
        query_task_id="q",
        lease_owner="w",
        query_task_attempt=1,
        message="no",
        reason="rejected_unknown_query",
    )
    assert fake.body_of(fake.last)["failure"] == {"message": "no", "reason": "rejected_unknown_query"}
    assert fake.last.url.path == "/api/worker/query-tasks/q/fail"


async def test_heartbeat_worker_body(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.heartbeat_worker(worker_id="w", task_slots={"activity_available": 2})
    assert fake.body_of(fake.last) == {"worker_id": "w", "task_slots": {"activity_available": 2}}


async def test_polls_carry_held_task_ids_only_when_given(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    client = make_client()
    fake.reply(200, {"task": None})
    await client.poll_workflow_task(worker_id="w", task_queue="q", held_task_ids=("t1", "t2"))
    assert fake.body_of(fake.last) == {"worker_id": "w", "task_queue": "q", "held_task_ids": ["t1", "t2"]}
    fake.reply(200, {"task": None})
    await client.poll_activity_task(worker_id="w", task_queue="q", held_task_ids=[])
    assert fake.body_of(fake.last) == {"worker_id": "w", "task_queue": "q", "held_task_ids": []}
    fake.reply(200, {"task": None})
    await client.poll_activity_task(worker_id="w", task_queue="q")
    assert "held_task_ids" not in fake.body_of(fake.last)


async def test_heartbeat_worker_stop_notice(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.heartbeat_worker(worker_id="w", stopping=True)
    assert fake.body_of(fake.last) == {"worker_id": "w", "stopping": True}
