"""The golden conversation's refusals: transport, routing and field errors of every class."""

from __future__ import annotations

from typing import Any

from .recorder import ADMIN_TOKEN, OPERATOR_TOKEN, WORKER_TOKEN, Recorder, control, worker


async def transport_errors(rec: Recorder) -> None:
    good = {"workflow_type": "greeter", "workflow_id": "never"}
    await rec.send(
        "malformed json", "POST", "/api/workflows", headers=control(), content=b'{"workflow_type": '
    )
    await rec.send(
        "invalid utf-8", "POST", "/api/workflows", headers=control(), content=b'{"workflow_type": "\xff"}'
    )
    await rec.send("body not an object", "POST", "/api/workflows", headers=control(), json_body=["greeter"])
    await rec.send("body a string", "POST", "/api/workflows", headers=control(), content=b'"greeter"')
    await rec.send("empty body", "POST", "/api/workflows", headers=control(), content=b"")
    await rec.send(
        "missing control-plane version",
        "POST",
        "/api/workflows",
        headers=control(**{"X-Durable-Workflow-Control-Plane-Version": ""}),
        json_body=good,
    )
    await rec.send(
        "unsupported control-plane version",
        "POST",
        "/api/workflows",
        headers=control(**{"X-Durable-Workflow-Control-Plane-Version": "1"}),
        json_body=good,
    )
    await rec.send(
        "missing worker protocol version",
        "POST",
        "/api/worker/register",
        headers=worker(**{"X-Durable-Workflow-Protocol-Version": ""}),
        json_body={"task_queue": "q", "runtime": "python"},
    )
    await rec.send(
        "unsupported worker protocol version",
        "POST",
        "/api/worker/register",
        headers=worker(**{"X-Durable-Workflow-Protocol-Version": "2.0"}),
        json_body={"task_queue": "q", "runtime": "python"},
    )
    await rec.send(
        "newer minor worker protocol version",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(**{"X-Durable-Workflow-Protocol-Version": "1.0"}),
        json_body={"worker_id": "w1"},
    )
    await rec.send(
        "control plane without a token", "POST", "/api/workflows", headers=control(token=None), json_body=good
    )
    await rec.send(
        "control plane with a wrong token", "GET", "/api/workflows", headers=control(token="wrong")
    )
    await rec.send(
        "control plane basic auth",
        "GET",
        "/api/workflows",
        headers=control(token=None, Authorization="Basic abc"),
    )
    await rec.send(
        "worker plane without a token",
        "POST",
        "/api/worker/register",
        headers=worker(token=None),
        json_body={},
    )
    await rec.send(
        "worker token on the control plane", "GET", "/api/workflows/wf-1", headers=control(token=WORKER_TOKEN)
    )
    await rec.send(
        "operator token on the worker plane",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(token=OPERATOR_TOKEN),
        json_body={"worker_id": "w1"},
    )
    await rec.send(
        "admin token on the worker plane",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(token=ADMIN_TOKEN),
        json_body={"worker_id": "w1"},
    )
    await rec.send(
        "unknown namespace (control)", "GET", "/api/workflows", headers=control(**{"X-Namespace": "Nope"})
    )
    await rec.send(
        "unknown namespace by query", "GET", "/api/workflows/wf-1?namespace=nope", headers=control()
    )
    await rec.send(
        "unknown namespace (worker)",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(**{"X-Namespace": "nope"}),
        json_body={"worker_id": "w1"},
    )
    await rec.send(
        "oversized body",
        "POST",
        "/api/workflows",
        headers=control(),
        json_body={**good, "memo": {"x": "y" * 70_000}},
    )
    await rec.send(
        "oversized declared length",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(**{"Content-Length": "999999"}),
        content=b"{}" + b" " * 999_997,
    )
    await rec.send(
        "unsupported media type",
        "POST",
        "/api/workflows",
        headers=control(**{"Content-Type": "text/plain"}),
        content=b"workflow_type=greeter",
    )
    await rec.send(
        "missing media type",
        "POST",
        "/api/worker/heartbeat",
        headers={k: v for k, v in worker().items() if k != "Content-Type"},
        content=b'{"worker_id":"w1"}',
    )
    await rec.send(
        "vendor json media type",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(**{"Content-Type": "application/vnd.dw+json; charset=utf-8"}),
        content=b'{"worker_id":"w1"}',
    )
    await rec.send(
        "unsupported codec",
        "POST",
        "/api/workflows",
        headers=control(),
        json_body={**good, "input": {"codec": "json", "blob": "[]"}},
    )
    await rec.send(
        "guards order: 413 before 401",
        "POST",
        "/api/workflows",
        headers=control(token=None),
        json_body={"memo": "y" * 70_000},
    )
    await rec.send(
        "guards order: 415 before 401",
        "POST",
        "/api/workflows",
        headers=control(token=None, **{"Content-Type": "text/plain"}),
        content=b"x",
    )
    await rec.send(
        "guards order: 400 json before 401",
        "POST",
        "/api/workflows",
        headers=control(token=None),
        content=b"{",
    )
    await rec.send(
        "guards order: 401 before version",
        "POST",
        "/api/workflows",
        headers=control(token=None, **{"X-Durable-Workflow-Control-Plane-Version": ""}),
        json_body=good,
    )
    await rec.send(
        "guards order: 403 before version",
        "GET",
        "/api/workflows",
        headers=control(token=WORKER_TOKEN, **{"X-Durable-Workflow-Control-Plane-Version": "9"}),
    )
    await rec.send(
        "guards order: version before namespace",
        "GET",
        "/api/workflows",
        headers=control(**{"X-Durable-Workflow-Control-Plane-Version": "9", "X-Namespace": "nope"}),
    )
    await rec.send(
        "guards order: namespace before 422",
        "POST",
        "/api/workflows",
        headers=control(**{"X-Namespace": "nope"}),
        json_body={},
    )


async def routing_errors(rec: Recorder) -> None:
    await rec.send("unknown api route", "GET", "/api/nope", headers=control())
    await rec.send("unknown route outside the api", "GET", "/nope")
    await rec.send("unknown worker route", "POST", "/api/worker/nope", headers=worker(), json_body={})
    await rec.send("worker plane root", "GET", "/api/worker")
    await rec.send(
        "unknown route wins over auth",
        "POST",
        "/api/workflows/wf-1/nope",
        headers=control(token=None),
        content=b"{",
    )
    await rec.send(
        "signal to a closed run", "POST", "/api/workflows/wf-1/signal/go", headers=control(), json_body={}
    )
    await rec.send("cancel of a closed run", "POST", "/api/workflows/wf-1/cancel", headers=control())
    await rec.send("405 on the workflows collection", "DELETE", "/api/workflows", headers=control())
    await rec.send(
        "405 wins over auth", "PUT", "/api/workflows/wf-1", headers=control(token=None), content=b"{"
    )
    await rec.send("405 on health", "POST", "/api/health", json_body={})
    await rec.send("405 on a worker route", "GET", "/api/worker/register", headers=worker())
    await rec.send("HEAD on health", "HEAD", "/api/health")
    await rec.send("trailing slash redirect", "GET", "/api/workflows/", headers=control())
    await rec.send(
        "trailing slash redirect (worker)", "POST", "/api/worker/register/", headers=worker(), json_body={}
    )
    await rec.send("percent-encoded id", "GET", "/api/workflows/wf%2D1", headers=control())
    await rec.send("id with a dot", "GET", "/api/workflows/a.b", headers=control())


async def start_field_errors(rec: Recorder) -> None:
    cases: list[tuple[str, Any]] = [
        ("start: workflow_type missing", {}),
        ("start: workflow_type blank", {"workflow_type": "  "}),
        (
            "start: every field the wrong type",
            {
                "workflow_id": 1,
                "workflow_type": 2,
                "task_queue": 3,
                "business_key": [],
                "duplicate_policy": 5,
                "execution_timeout_seconds": "soon",
                "run_timeout_seconds": 1.5,
                "memo": "m",
                "search_attributes": [],
                "input": "x",
            },
        ),
        (
            "start: lengths and patterns",
            {
                "workflow_id": "bad id!",
                "workflow_type": "t" * 256,
                "task_queue": "q" * 256,
                "business_key": "b" * 256,
            },
        ),
        ("start: workflow_id too long", {"workflow_type": "t", "workflow_id": "i" * 129}),
        ("start: duplicate policy alias", {"workflow_type": "t", "duplicate_policy": "use_existing"}),
        ("start: duplicate policy unknown", {"workflow_type": "t", "duplicate_policy": "sometimes"}),
        (
            "start: unsupported fields",
            {"workflow_type": "t", "retry_policy": {}, "request_id": "r", "workflow_run_timeout": 1},
        ),
        (
            "start: timeouts below minimum",
            {"workflow_type": "t", "execution_timeout_seconds": 0, "run_timeout_seconds": -5},
        ),
        ("start: timeouts as booleans", {"workflow_type": "t", "execution_timeout_seconds": True}),
        ("start: memo too large", {"workflow_type": "t", "memo": {"m": "x" * 2000}}),
        (
            "start: search attribute keys",
            {"workflow_type": "t", "search_attributes": {"": 1, "1bad": 2, "k" * 129: 3, "Ok": "v" * 2049}},
        ),
        ("start: input object", {"workflow_type": "t", "input": {"a": 1}}),
        (
            "start: input external storage",
            {"workflow_type": "t", "input": {"codec": "avro", "external_storage": {}}},
        ),
        ("start: input blob not a string", {"workflow_type": "t", "input": {"codec": "avro", "blob": 5}}),
        (
            "start: input blob not avro",
            {"workflow_type": "t", "input": {"codec": "avro", "blob": "!!notbase64"}},
        ),
        ("start: input codec not a string", {"workflow_type": "t", "input": {"codec": 7, "blob": "x"}}),
        (
            "start: input not encodable",
            {"workflow_type": "t", "input": [{"k": {"deep": [1, "mixed", None, {"z": 1.5}]}}]},
        ),
    ]
    for label, body in cases:
        await rec.send(label, "POST", "/api/workflows", headers=control(), json_body=body)


async def query_field_errors(rec: Recorder) -> None:
    for label, query in [
        ("list: status alias", "status=cancelled"),
        ("list: status unknown", "status=sleeping"),
        ("list: page size zero and too big type", "page_size=0&workflow_type=" + "t" * 256),
        ("list: page size not a number", "page_size=ten"),
        ("list: page size too large", "page_size=201"),
        ("list: empty status and query", "status=&query="),
        ("list: bad page token", "next_page_token=%21%21"),
    ]:
        await rec.send(label, "GET", f"/api/workflows?{query}", headers=control())
    for label, query in [
        ("history: page size zero", "page_size=0"),
        ("history: page size too big", "page_size=1001"),
        ("history: wait flag junk", "wait_new_event=maybe"),
    ]:
        await rec.send(label, "GET", f"/api/workflows/wf-1/runs/x/history?{query}", headers=control())


async def worker_field_errors(rec: Recorder) -> None:
    cases: list[tuple[str, str, Any]] = [
        ("register: empty", "/api/worker/register", {}),
        (
            "register: wrong types",
            "/api/worker/register",
            {
                "worker_id": 1,
                "task_queue": "q",
                "runtime": "cobol",
                "sdk_version": "v" * 65,
                "supported_workflow_types": "greeter",
                "workflow_definition_fingerprints": {"a": 1, "b": "x" * 256},
                "supported_activity_types": [1, "ok", "x" * 256],
                "max_concurrent_workflow_tasks": 0,
                "max_concurrent_activity_tasks": "many",
                "capabilities": [None],
                "task_slots": [],
                "process_metrics": 1,
            },
        ),
        ("worker heartbeat: empty", "/api/worker/heartbeat", {}),
        (
            "worker heartbeat: wrong types",
            "/api/worker/heartbeat",
            {"worker_id": "w" * 256, "task_slots": 1, "process_metrics": "x"},
        ),
        ("poll: empty", "/api/worker/workflow-tasks/poll", {}),
        (
            "poll: wrong types",
            "/api/worker/workflow-tasks/poll",
            {
                "worker_id": "w1",
                "task_queue": "q",
                "build_id": 1,
                "poll_request_id": [],
                "history_page_size": 0,
                "accept_history_encoding": 5,
                "timeout_seconds": "soon",
            },
        ),
        (
            "poll: page size too big",
            "/api/worker/workflow-tasks/poll",
            {"worker_id": "w1", "task_queue": "q", "history_page_size": 1001},
        ),
        (
            "activity poll: wrong types",
            "/api/worker/activity-tasks/poll",
            {"worker_id": None, "task_queue": 1, "poll_timeout_seconds": True},
        ),
        ("wt heartbeat: empty", "/api/worker/workflow-tasks/t1/heartbeat", {}),
        (
            "wt heartbeat: wrong types",
            "/api/worker/workflow-tasks/t1/heartbeat",
            {"lease_owner": 1, "workflow_task_attempt": "first"},
        ),
        (
            "wt heartbeat: attempt zero",
            "/api/worker/workflow-tasks/t1/heartbeat",
            {"lease_owner": "w", "workflow_task_attempt": 0},
        ),
        (
            "wt history: missing token",
            "/api/worker/workflow-tasks/t1/history",
            {"lease_owner": "w", "workflow_task_attempt": 1, "history_page_size": "x"},
        ),
        (
            "complete: commands missing",
            "/api/worker/workflow-tasks/t1/complete",
            {"lease_owner": "w", "workflow_task_attempt": 1},
        ),
        (
            "complete: commands empty",
            "/api/worker/workflow-tasks/t1/complete",
            {"lease_owner": "w", "workflow_task_attempt": 1, "commands": []},
        ),
        (
            "complete: commands an object",
            "/api/worker/workflow-tasks/t1/complete",
            {"lease_owner": "w", "workflow_task_attempt": 1, "commands": {"type": "x"}},
        ),
        (
            "complete: command shapes",
            "/api/worker/workflow-tasks/t1/complete",
            {"lease_owner": "w", "workflow_task_attempt": 1, "commands": [1, {}, {"type": ""}, {"type": 5}]},
        ),
        (
            "wt fail: failure missing",
            "/api/worker/workflow-tasks/t1/fail",
            {"lease_owner": "w", "workflow_task_attempt": 1},
        ),
        (
            "wt fail: failure not an object",
            "/api/worker/workflow-tasks/t1/fail",
            {"lease_owner": "w", "workflow_task_attempt": 1, "failure": "boom"},
        ),
        (
            "wt fail: failure message missing",
            "/api/worker/workflow-tasks/t1/fail",
            {"lease_owner": "w", "workflow_task_attempt": 1, "failure": {"type": 5, "stack_trace": []}},
        ),
        ("at complete: empty", "/api/worker/activity-tasks/t1/complete", {}),
        (
            "at complete: bad codec",
            "/api/worker/activity-tasks/t1/complete",
            {"activity_attempt_id": "a", "lease_owner": "w", "result": {"codec": "json", "blob": "1"}},
        ),
        (
            "at fail: failure fields",
            "/api/worker/activity-tasks/t1/fail",
            {
                "activity_attempt_id": "a",
                "lease_owner": "w",
                "failure": {
                    "message": "",
                    "type": "t" * 256,
                    "non_retryable": "yes",
                    "retryable": 1,
                    "cancelled": None,
                    "malformed_output": "no",
                    "kind": "weird",
                    "timeout_type": "forever",
                },
            },
        ),
        (
            "at heartbeat: wrong types",
            "/api/worker/activity-tasks/t1/heartbeat",
            {
                "activity_attempt_id": 1,
                "lease_owner": "w" * 256,
                "message": "m" * 1001,
                "current": "1",
                "total": True,
                "unit": "u" * 65,
                "details": [],
            },
        ),
    ]
    for label, path, body in cases:
        await rec.send(label, "POST", path, headers=worker(), json_body=body)
