"""Workflow methods: request shapes, decoding, and get_result across history pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client, WorkflowExecution
from durable_workflow.errors import (
    PayloadError,
    WorkflowCancelled,
    WorkflowFailed,
    WorkflowNotFound,
    WorkflowTerminated,
)
from durable_workflow.protocol import codec


async def test_start_workflow_body_and_handle(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(
        201,
        {"workflow_id": "greeting-1", "run_id": "r1", "workflow_type": "greeter", "outcome": "started_new"},
    )
    client = make_client(token="dev-token")
    handle = await client.start_workflow(
        workflow_type="greeter", task_queue="default", workflow_id="greeting-1", input=["world"]
    )
    req = fake.last
    assert (req.method, req.url.path) == ("POST", "/api/workflows")
    assert fake.body_of(req) == {
        "workflow_id": "greeting-1",
        "workflow_type": "greeter",
        "task_queue": "default",
        "input": {"codec": "avro", "blob": "ABJbIndvcmxkIl0C"},
    }
    assert (handle.workflow_id, handle.run_id, handle.workflow_type) == ("greeting-1", "r1", "greeter")


async def test_start_workflow_optional_fields_and_generated_id(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    fake.reply(201, {"workflow_type": "t"})
    client = make_client()
    handle = await client.start_workflow(
        workflow_type="t",
        task_queue="q",
        business_key="bk",
        memo={"a": 1},
        search_attributes={"S": "x"},
        duplicate_policy="fail",
        execution_timeout_seconds=60,
        run_timeout_seconds=30,
    )
    body = fake.body_of(fake.last)
    assert body["workflow_id"].startswith("wf-") and handle.workflow_id == body["workflow_id"]
    assert handle.run_id is None
    assert codec.decode_envelope(body["input"]) == []
    assert {
        k: body[k]
        for k in (
            "business_key",
            "memo",
            "search_attributes",
            "duplicate_policy",
            "execution_timeout_seconds",
            "run_timeout_seconds",
        )
    } == {
        "business_key": "bk",
        "memo": {"a": 1},
        "search_attributes": {"S": "x"},
        "duplicate_policy": "fail",
        "execution_timeout_seconds": 60,
        "run_timeout_seconds": 30,
    }


async def test_start_workflow_rejects_non_list_input(make_client: Callable[..., Client]) -> None:
    client = make_client()
    with pytest.raises(TypeError):
        await client.start_workflow(workflow_type="t", task_queue="q", input="abc")


async def test_start_workflow_unencodable_input_is_a_payload_error(
    make_client: Callable[..., Client],
) -> None:
    client = make_client()
    with pytest.raises(PayloadError):
        await client.start_workflow(workflow_type="t", task_queue="q", input=[object()])


async def test_describe_decodes_envelopes(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(
        200,
        {
            "workflow_id": "wf",
            "run_id": "r",
            "workflow_type": "t",
            "status": "completed",
            "namespace": "default",
            "task_queue": "q",
            "payload_codec": "avro",
            "input": ["ignored"],
            "output": "ignored",
            "input_envelope": codec.envelope(["world"]),
            "output_envelope": {"codec": "avro", "blob": codec.encode_value_v1({"n": 1})},
            "memo": [],
            "search_attributes": {"k": "v"},
            "is_terminal": True,
            "run_number": 1,
        },
    )
    client = make_client()
    ex = await client.describe_workflow("wf")
    assert isinstance(ex, WorkflowExecution)
    assert (ex.workflow_id, ex.run_id, ex.workflow_type, ex.status) == ("wf", "r", "t", "completed")
    assert ex.input == ["world"] and ex.output == {"n": 1}
    assert ex.memo == {} and ex.search_attributes == {"k": "v"}
    assert ex.is_terminal is True and ex.run_number == 1
    assert ex.raw["task_queue"] == "q"


async def test_describe_uses_plain_fields_without_envelopes(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    fake.reply(
        200,
        {
            "workflow_id": "wf",
            "status": "running",
            "input": [1],
            "output": None,
            "input_envelope": None,
            "output_envelope": None,
        },
    )
    client = make_client()
    ex = await client.describe_workflow("wf")
    assert ex.input == [1] and ex.output is None and ex.run_id is None


async def test_describe_bad_envelope_without_plain_value_raises(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    fake.reply(
        200, {"workflow_id": "wf", "status": "running", "input_envelope": {"codec": "avro", "blob": "!!"}}
    )
    client = make_client()
    with pytest.raises(PayloadError):
        await client.describe_workflow("wf")


async def test_list_workflows_params_and_rows(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(
        200,
        {
            "workflows": [
                {"workflow_id": "a", "run_id": "1", "workflow_type": "t", "status": "running"},
                {"workflow_id": "b", "run_id": "2", "workflow_type": "t", "status": "failed"},
            ],
            "next_page_token": "NTA=",
        },
    )
    client = make_client()
    page = await client.list_workflows(
        workflow_type="t", status="running", page_size=2, next_page_token="MA=="
    )
    assert dict(fake.last.url.params) == {
        "workflow_type": "t",
        "status": "running",
        "page_size": "2",
        "next_page_token": "MA==",
    }
    assert [w.workflow_id for w in page] == ["a", "b"] and len(page) == 2
    assert page.next_page_token == "NTA="


async def test_runs_and_run_describe(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(
        200,
        {
            "run_count": 2,
            "runs": [
                {"run_id": "r1", "status": "completed", "run_number": 1},
                {"run_id": "r2", "status": "running", "run_number": 2},
            ],
        },
    )
    fake.reply(
        200,
        {
            "workflow_id": "wf",
            "run_id": "r2",
            "status": "running",
            "is_current_run": True,
            "input_envelope": codec.envelope([5]),
        },
    )
    client = make_client()
    runs = await client.list_workflow_runs("wf")
    assert fake.last.url.path == "/api/workflows/wf/runs"
    assert runs.workflow_id == "wf" and runs.run_count == 2
    assert [(r.workflow_id, r.run_id, r.run_number) for r in runs] == [("wf", "r1", 1), ("wf", "r2", 2)]
    run = await client.describe_workflow_run("wf", "r2")
    assert fake.last.url.path == "/api/workflows/wf/runs/r2"
    assert run.is_current_run is True and run.input == [5]


async def test_history_and_export_paths(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.get_history("wf", "r", page_size=500, next_page_token="Mw==")
    assert fake.last.url.path == "/api/workflows/wf/runs/r/history"
    assert dict(fake.last.url.params) == {"page_size": "500", "next_page_token": "Mw=="}
    await client.export_history("wf", "r")
    assert fake.last.url.path == "/api/workflows/wf/runs/r/history/export"


async def test_signal_query_update_cancel_terminate(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.signal_workflow("wf", "go", request_id="req-1")
    assert fake.body_of(fake.last) == {"request_id": "req-1"}
    fake.reply(200, {"result": {"plain": True}, "result_envelope": codec.envelope({"decoded": 1})})
    assert await client.query_workflow("wf", "status", [1]) == {"decoded": 1}
    assert codec.decode_envelope(fake.body_of(fake.last)["input"]) == [1]
    fake.reply(200, {"result": 7, "result_envelope": None})
    assert await client.update_workflow("wf", "bump", wait_for="completed", wait_timeout_seconds=5) == 7
    assert fake.body_of(fake.last) == {"wait_for": "completed", "wait_timeout_seconds": 5}
    fake.reply(202, {"update_status": "accepted"})
    assert await client.update_workflow("wf", "bump") is None
    await client.cancel_workflow("wf", "stop")
    assert (fake.last.url.path, fake.body_of(fake.last)) == ("/api/workflows/wf/cancel", {"reason": "stop"})
    await client.terminate_workflow("wf")
    assert (fake.last.url.path, fake.body_of(fake.last)) == ("/api/workflows/wf/terminate", {})


async def test_repair_and_archive(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(200, {"outcome": "repair_not_needed", "command_status": "accepted", "command_id": "c1"})
    client = make_client()
    res = await client.repair_workflow("wf")
    assert (res.workflow_id, res.outcome, res.command_id) == ("wf", "repair_not_needed", "c1")
    await client.archive_workflow("wf", reason="old")
    assert (fake.last.url.path, fake.body_of(fake.last)) == ("/api/workflows/wf/archive", {"reason": "old"})


# --------------------------------------------------------------------------- get_result


def _event(seq: int, kind: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "sequence": seq,
        "event_type": kind,
        "timestamp": "2026-01-01T00:00:00Z",
        "payload": payload or {},
    }


def history_server(
    statuses: list[str], events: list[dict[str, Any]], page: int
) -> Callable[[httpx.Request], httpx.Response]:
    """Describe answers walk through ``statuses``; history is served ``page`` events at a time."""
    describes = iter(statuses)
    last_status = statuses[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/workflows/wf":
            status = next(describes, last_status)
            return httpx.Response(
                200,
                json={
                    "workflow_id": "wf",
                    "run_id": "r2",
                    "workflow_type": "t",
                    "status": status,
                    "payload_codec": "avro",
                },
            )
        assert path == "/api/workflows/wf/runs/r2/history"
        token = request.url.params.get("next_page_token")
        start = int(token) if token else 0
        chunk = events[start : start + page]
        nxt = str(start + page) if start + page < len(events) else None
        return httpx.Response(
            200, json={"workflow_id": "wf", "run_id": "r2", "events": chunk, "next_page_token": nxt}
        )

    return handler


async def test_get_result_follows_every_history_page(fake: Any, make_client: Callable[..., Client]) -> None:
    events = [_event(i, "ActivityCompleted") for i in range(1, 250)]
    events.append(
        _event(
            250,
            "WorkflowCompleted",
            {"output": codec.encode({"greeting": "Hello, world!"}), "payload_codec": "avro"},
        )
    )
    fake.handler = history_server(["pending", "running", "completed"], events, page=100)
    client = make_client()
    handle = client.get_workflow_handle("wf", run_id="r1")
    assert await handle.result(poll_interval=0, timeout=5) == {"greeting": "Hello, world!"}
    history_calls = [r for r in fake.requests if r.url.path.endswith("/history")]
    assert [r.url.params.get("next_page_token") for r in history_calls] == [None, "100", "200"]
    assert sum(1 for r in fake.requests if r.url.path == "/api/workflows/wf") == 3


async def test_get_result_decodes_value_v1_output_with_run_codec(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    events = [
        _event(1, "WorkflowStarted"),
        _event(2, "WorkflowCompleted", {"output": codec.encode_value_v1([1, 2])}),
    ]
    fake.handler = history_server(["completed"], events, page=100)
    client = make_client()
    assert await client.get_result(client.get_workflow_handle("wf"), poll_interval=0) == [1, 2]


async def test_get_result_failed(fake: Any, make_client: Callable[..., Client]) -> None:
    events = [
        _event(1, "WorkflowStarted"),
        _event(2, "WorkflowFailed", {"message": "boom", "exception_class": "ValueError"}),
    ]
    fake.handler = history_server(["failed"], events, page=1)
    client = make_client()
    with pytest.raises(WorkflowFailed) as info:
        await client.get_result(client.get_workflow_handle("wf"), poll_interval=0)
    assert (info.value.message, info.value.exception_type) == ("boom", "ValueError")
    assert info.value.workflow_id == "wf" and info.value.run_id == "r2"


@pytest.mark.parametrize(
    ("status", "kind", "exc"),
    [
        ("cancelled", "WorkflowCancelled", WorkflowCancelled),
        ("terminated", "WorkflowTerminated", WorkflowTerminated),
    ],
)
async def test_get_result_cancelled_and_terminated(
    fake: Any, make_client: Callable[..., Client], status: str, kind: str, exc: type[BaseException]
) -> None:
    fake.handler = history_server([status], [_event(1, kind, {"reason": "ops"})], page=10)
    client = make_client()
    with pytest.raises(exc) as info:
        await client.get_result(client.get_workflow_handle("wf"), poll_interval=0)
    assert getattr(info.value, "reason", None) == "ops"


async def test_get_result_timed_out_run_is_a_failure(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.handler = history_server(["failed"], [_event(1, "WorkflowTimedOut", {})], page=10)
    client = make_client()
    with pytest.raises(WorkflowFailed) as info:
        await client.get_result(client.get_workflow_handle("wf"), poll_interval=0)
    assert info.value.exception_type == "WorkflowTimedOut"


async def test_completed_run_with_its_output_envelope_needs_no_history(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    describes = iter(["running", "completed"])

    def handler(request: httpx.Request) -> httpx.Response:
        assert not request.url.path.endswith("/history"), "the describe answer already had the output"
        status = next(describes)
        body: dict[str, Any] = {"workflow_id": "wf", "run_id": "r", "workflow_type": "t", "status": status}
        if status == "completed":
            body["output_envelope"] = codec.envelope({"greeting": "hi"})
            body["output"] = "a plain value the envelope overrides"
        return httpx.Response(200, json=body)

    fake.handler = handler
    client = make_client()
    assert await client.get_result(client.get_workflow_handle("wf"), poll_interval=0) == {"greeting": "hi"}
    assert [r.url.path for r in fake.requests] == ["/api/workflows/wf", "/api/workflows/wf"]


async def test_get_result_falls_back_to_describe_output(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/history"):
            return httpx.Response(200, json={"events": [], "next_page_token": None})
        return httpx.Response(
            200,
            json={
                "workflow_id": "wf",
                "run_id": "r",
                "status": "completed",
                "output_envelope": codec.envelope("done"),
            },
        )

    fake.handler = handler
    client = make_client()
    assert await client.get_result(client.get_workflow_handle("wf"), poll_interval=0) == "done"


async def test_get_result_waits_past_a_run_closed_as_continued(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    answers = iter(
        [
            {"run_id": "r1", "status": "completed", "closed_reason": "continued"},
            {
                "run_id": "r2",
                "status": "completed",
                "closed_reason": "completed",
                "output_envelope": codec.envelope(3),
            },
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/workflows/wf"
        return httpx.Response(200, json={"workflow_id": "wf", "workflow_type": "t", **next(answers)})

    fake.handler = handler
    client = make_client()
    assert await client.get_result(client.get_workflow_handle("wf", run_id="r1"), poll_interval=0) == 3
    assert len(fake.requests) == 2


async def test_get_result_times_out(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.handler = history_server(["running"], [], page=10)
    client = make_client()
    with pytest.raises(TimeoutError):
        await client.get_result(client.get_workflow_handle("wf"), poll_interval=0.001, timeout=0.02)


async def test_get_result_refuses_a_repeating_page_token(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/history"):
            return httpx.Response(200, json={"events": [], "next_page_token": "same"})
        return httpx.Response(200, json={"workflow_id": "wf", "run_id": "r", "status": "completed"})

    fake.handler = handler
    client = make_client()
    with pytest.raises(Exception, match="repeated page token"):
        await client.get_result(client.get_workflow_handle("wf"), poll_interval=0)


async def test_handle_methods_forward(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    handle = client.get_workflow_handle("wf", run_id="r", workflow_type="t")
    assert "wf" in repr(handle)
    fake.reply(200, {"workflow_id": "wf", "status": "running"})
    assert (await handle.describe()).status == "running"
    await handle.signal("go", [1])
    assert fake.last.url.path == "/api/workflows/wf/signal/go"
    fake.reply(200, {"result": "ok"})
    assert await handle.query("q") == "ok"
    fake.reply(200, {"result": 3})
    assert await handle.update("u", [2], wait_for="completed") == 3
    await handle.cancel("why")
    await handle.terminate()
    assert fake.last.url.path == "/api/workflows/wf/terminate"
    fake.reply(200, {"events": [], "next_page_token": None})
    assert (await handle.get_history())["events"] == []
    fake.reply(200, {"runs": []})
    assert len(await handle.list_runs()) == 0
    with pytest.raises(ValueError):
        await client.get_workflow_handle("x").get_history()


async def test_not_found_on_describe(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(404, {"reason": "instance_not_found", "message": "Workflow not found.", "workflow_id": "nope"})
    client = make_client()
    with pytest.raises(WorkflowNotFound):
        await client.describe_workflow("nope")
    assert json.loads(fake.last.content or b"null") is None  # GET sends no body
