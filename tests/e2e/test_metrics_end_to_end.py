"""The six documented metrics are recorded when a real workflow runs (docs: "Metrics")."""

from __future__ import annotations

from typing import Any

import httpx

from durable_workflow import Client, InMemoryMetrics, Worker
from tests.e2e.test_quickstart_in_process import GreeterWorkflow, greet
from tests.helpers.e2e_env import TOKEN

DOCUMENTED = {
    "durable_workflow_client_requests": {"method", "route", "plane", "status_code", "outcome"},
    "durable_workflow_client_request_duration_seconds": {
        "method",
        "route",
        "plane",
        "status_code",
        "outcome",
    },
    "durable_workflow_worker_polls": {"task_kind", "task_queue", "outcome"},
    "durable_workflow_worker_poll_duration_seconds": {"task_kind", "task_queue", "outcome"},
    "durable_workflow_worker_tasks": {"task_kind", "task_queue", "outcome"},
    "durable_workflow_worker_task_duration_seconds": {"task_kind", "task_queue", "outcome"},
}


async def test_client_and_worker_record_the_documented_metrics(app: Any) -> None:
    metrics = InMemoryMetrics()
    transport = httpx.ASGITransport(app=app)
    async with Client("http://testserver", token=TOKEN, metrics=metrics, transport=transport) as client:
        handle = await client.start_workflow(
            workflow_type="greeter", task_queue="metrics-q", workflow_id="metrics-1", input=["world"]
        )
        worker = Worker(client, task_queue="metrics-q", workflows=[GreeterWorkflow], activities=[greet])
        await worker.run_until(workflow_id="metrics-1", timeout=30.0)
        assert await handle.result(timeout=10.0) == {"greeting": "Hello, world!", "length": 5}

    for name, tag_names in DOCUMENTED.items():
        tag_sets = metrics.tag_sets(name)
        assert tag_sets, f"{name} was never recorded"
        assert all(set(tags) == tag_names for tags in tag_sets), (name, tag_sets)
    task_kinds = {tags["task_kind"] for tags in metrics.tag_sets("durable_workflow_worker_tasks")}
    assert task_kinds == {"workflow", "activity"}
    assert {tags["outcome"] for tags in metrics.tag_sets("durable_workflow_worker_tasks")} == {"completed"}
    planes = {tags["plane"] for tags in metrics.tag_sets("durable_workflow_client_requests")}
    assert planes == {"control", "worker"}
    routes = {tags["route"] for tags in metrics.tag_sets("durable_workflow_client_requests")}
    assert "/workflows/{workflow_id}" in routes  # templates, not concrete ids
    assert not any("metrics-1" in route for route in routes)
