"""The synchronous client wrapper."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from durable_workflow.errors import WorkflowNotFound
from durable_workflow.protocol import codec
from durable_workflow.sync import Client, WorkflowHandle


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/workflows" and request.method == "POST":
        return httpx.Response(201, json={"workflow_id": "sync-1", "run_id": "r1", "workflow_type": "greeter"})
    if path == "/api/workflows/sync-1":
        return httpx.Response(200, json={"workflow_id": "sync-1", "run_id": "r1", "status": "completed"})
    if path == "/api/workflows/sync-1/runs/r1/history":
        event = {"event_type": "WorkflowCompleted", "payload": {"output": codec.encode("hi")}}
        return httpx.Response(200, json={"events": [event], "next_page_token": None})
    return httpx.Response(404, json={"reason": "instance_not_found", "message": "no"})


def test_sync_client_round_trip() -> None:
    with Client("http://dw.test", token="t", transport=httpx.MockTransport(handler)) as client:
        handle = client.start_workflow(workflow_type="greeter", task_queue="default", input=["world"])
        assert isinstance(handle, WorkflowHandle)
        assert (handle.workflow_id, handle.run_id) == ("sync-1", "r1")
        assert client.describe_workflow("sync-1").status == "completed"
        assert handle.result(poll_interval=0, timeout=1) == "hi"
        assert client.get_workflow_handle("sync-1").describe().run_id == "r1"
        assert "start_workflow" in dir(client)
        assert (client.base_url, client.namespace) == (client.async_client.base_url, "default")
        assert client.metrics is client.async_client.metrics
        with pytest.raises(WorkflowNotFound):
            client.describe_workflow("other")
    client.close()  # idempotent


def test_sync_client_works_inside_a_running_loop() -> None:
    async def inside() -> Any:
        client = Client("http://dw.test", transport=httpx.MockTransport(handler))
        try:
            return client.describe_workflow("sync-1").status
        finally:
            client.close()

    assert asyncio.run(inside()) == "completed"


def test_sync_client_bad_arguments_do_not_leak_threads() -> None:
    with pytest.raises(ValueError):
        Client("http://dw.test", payload_size_limit_bytes=0)


def test_the_generated_blocking_methods_match_the_async_client() -> None:
    from tests.sdk import sync_codegen

    assert sync_codegen.TARGET.read_text(encoding="utf-8") == sync_codegen.render(), (
        "_sync_methods.py is stale: run .venv/bin/python tests/sdk/sync_codegen.py --write"
    )


def test_every_async_method_has_a_blocking_twin_with_the_same_parameters() -> None:
    import inspect

    from durable_workflow.client import Client as AsyncClient
    from durable_workflow.client import WorkflowHandle as AsyncHandle

    for async_cls, sync_cls in ((AsyncClient, Client), (AsyncHandle, WorkflowHandle)):
        for name, fn in inspect.getmembers(async_cls, inspect.isfunction):
            if name.startswith("_") or name in ("aclose", "poll_timeout"):
                continue
            blocking = getattr(sync_cls, name)
            assert not inspect.iscoroutinefunction(blocking), name
            assert list(inspect.signature(blocking).parameters) == list(inspect.signature(fn).parameters)
