"""The server's own metrics after real traffic: ``GET /metrics`` (Prometheus text) and the admin
``GET /system/metrics`` / ``GET /system/operator-metrics``, through the real app with a real
Worker; the SDK's PrometheusMetrics with a private registry over the same traffic.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import prometheus_client

from durable_workflow import Client, PrometheusMetrics, Worker, activity, metrics, workflow
from tests.helpers.e2e_env import e2e_settings, running_app

ADMIN, OPERATOR, WORKER = "admin-secret", "operator-secret", "worker-secret"
HEADERS = {"X-Durable-Workflow-Control-Plane-Version": "2"}


@activity.defn(name="metrics_greet")
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn(name="metrics_greeter")
class Greeter:
    def run(self, ctx: Any, name: str) -> Any:
        return (yield ctx.schedule_activity("metrics_greet", [name]))


@asynccontextmanager
async def _app(database_url: str, **overrides: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    settings = e2e_settings(
        database_url, admin_token=ADMIN, operator_token=OPERATOR, worker_token=WORKER, **overrides
    )
    async with running_app(settings) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            yield app, http


def _samples(text: str) -> dict[str, float]:
    """``name{labels}`` → value, for every sample line of a Prometheus text page."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            found[series] = float(value)
    return found


async def _run_one(app: Any, recorder: Any = None) -> None:
    transport = httpx.ASGITransport(app=app)
    async with Client("http://testserver", token=WORKER, control_token=ADMIN, transport=transport,
                      metrics=recorder) as client:  # fmt: skip
        worker = Worker(
            client, task_queue="metrics-q", workflows=[Greeter], activities=[greet], metrics=recorder
        )
        running = asyncio.create_task(worker.run())
        try:
            handle = await client.start_workflow(
                workflow_type="metrics_greeter", task_queue="metrics-q", workflow_id="wf-m", input=["Ada"]
            )
            assert await handle.result(timeout=20.0) == "Hello, Ada!"
        finally:
            await worker.stop()
            await asyncio.wait_for(running, 20)


async def test_metrics_endpoint_counts_real_traffic_and_queue_depth(database_url: str) -> None:
    async with _app(database_url) as (app, http):
        await _run_one(app)
        # Two runs wait on a queue nobody serves: the depth is counted at scrape time.
        for workflow_id in ("idle-1", "idle-2"):
            body = {"workflow_type": "metrics_greeter", "task_queue": "idle-q", "workflow_id": workflow_id}
            started = await http.post(
                "/api/workflows", json=body, headers={**HEADERS, "Authorization": f"Bearer {ADMIN}"}
            )
            assert started.status_code == 201
        await http.get("/api/no-such-route", headers={"Authorization": f"Bearer {ADMIN}"})

        page = await http.get("/metrics", headers={"Authorization": f"Bearer {OPERATOR}"})
        assert page.status_code == 200 and page.headers["content-type"].startswith(
            "text/plain; version=0.0.4"
        )
        assert "# TYPE durable_workflow_server_requests_total counter" in page.text
        samples = _samples(page.text)
        requests = "durable_workflow_server_requests_total"
        assert samples[f'{requests}{{method="POST",route="/api/workflows",status="201"}}'] == 3
        assert samples[f'{requests}{{method="POST",route="/api/worker/register",status="201"}}'] >= 1
        polls = [k for k in samples if 'route="/api/worker/workflow-tasks/poll"' in k]
        assert polls and all(re.search(r'status="\d{3}"', k) for k in polls)
        assert samples[f'{requests}{{method="GET",route="unmatched",status="404"}}'] == 1
        depth = "durable_workflow_server_task_queue_depth"
        assert samples[f'{depth}{{kind="workflow",namespace="default",task_queue="idle-q"}}'] == 2
        assert not any('task_queue="metrics-q"' in k and k.startswith(depth) for k in samples)

        # The scrape itself is counted from the next one on; the credential rules.
        again = _samples((await http.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})).text)
        assert again[f'{requests}{{method="GET",route="/metrics",status="200"}}'] == 1
        assert (await http.get("/metrics")).status_code == 401
        refused = await http.get("/metrics", headers={"Authorization": f"Bearer {WORKER}"})
        assert (refused.status_code, refused.json()["reason"]) == (403, "forbidden")


async def test_metrics_endpoint_can_be_public(database_url: str) -> None:
    async with _app(database_url, metrics_public=True) as (_, http):
        page = await http.get("/metrics")
        assert page.status_code == 200
        assert "# TYPE durable_workflow_server_task_queue_depth gauge" in page.text


async def test_system_metrics_and_operator_metrics_are_admin_reports(database_url: str) -> None:
    async with _app(database_url) as (app, http):
        await _run_one(app)
        admin = {**HEADERS, "Authorization": f"Bearer {ADMIN}"}
        body = (await http.get("/api/system/metrics", headers=admin)).json()
        assert body["namespace"] == "default" and body["generated_at"].endswith("+00:00")
        failures = body["metrics"]["dw_workflow_task_consecutive_failures"]
        assert (failures["max_consecutive_failures"], failures["failed_task_count"]) == (0, 0)
        assert failures["by_workflow_type"] == [] and failures["workflow_type_limit"] == 20
        drift = body["metrics"]["dw_projection_drift_total"]
        assert (drift["total"], drift["scope"], drift["by_table"]) == (0, "server", [])

        report = (await http.get("/api/system/operator-metrics", headers=admin)).json()
        operator = report["operator_metrics"]
        assert report["namespace"] == "default"
        assert operator["runs"]["by_status"] == {"completed": 1} and operator["runs"]["open"] == 0
        assert operator["activities"]["by_status"] == {"completed": 1}
        assert operator["history"]["events"] > 0
        assert operator["workers"]["registered"] == 1
        assert operator["repair"]["total_candidates"] == 0
        assert operator["repair_policy"]["scan_limit"] == 100
        assert operator["backend"]["counters"] == "per_process"
        for path in ("/api/system/metrics", "/api/system/operator-metrics"):
            refused = await http.get(path, headers={**HEADERS, "Authorization": f"Bearer {OPERATOR}"})
            assert refused.status_code == 403


async def test_sdk_prometheus_metrics_record_the_six_documented_metrics(database_url: str) -> None:
    registry = prometheus_client.CollectorRegistry()
    recorder = PrometheusMetrics(registry=registry)
    async with _app(database_url) as (app, _):
        await _run_one(app, recorder)
    documented = {
        metrics.CLIENT_REQUESTS: ("method", "route", "plane", "status_code", "outcome"),
        metrics.CLIENT_REQUEST_DURATION_SECONDS: ("method", "route", "plane", "status_code", "outcome"),
        metrics.WORKER_POLLS: ("task_kind", "task_queue", "outcome"),
        metrics.WORKER_POLL_DURATION_SECONDS: ("task_kind", "task_queue", "outcome"),
        metrics.WORKER_TASKS: ("task_kind", "task_queue", "outcome"),
        metrics.WORKER_TASK_DURATION_SECONDS: ("task_kind", "task_queue", "outcome"),
    }
    families = {family.name: family for family in registry.collect()}
    for name, tags in documented.items():
        histogram = name.endswith("_seconds")
        family = families[name]
        assert family.type == ("histogram" if histogram else "counter"), name
        samples = [s for s in family.samples if s.name == (f"{name}_count" if histogram else f"{name}_total")]
        assert samples, name
        assert all(set(s.labels) == set(tags) for s in samples), name
    start = {
        "method": "POST",
        "route": "/workflows",
        "plane": "control",
        "status_code": "201",
        "outcome": "success",
    }
    assert registry.get_sample_value("durable_workflow_client_requests_total", start) == 1.0
    done = {"task_kind": "activity", "task_queue": "metrics-q"}
    assert any(
        s.labels.items() >= done.items() and s.value >= 1 for s in families[metrics.WORKER_TASKS].samples
    )


def test_the_docs_prometheus_example_runs_as_written() -> None:
    # The product docs' Metrics example, as written (the global registry; no call is made).
    from durable_workflow import Client, PrometheusMetrics

    metrics = PrometheusMetrics()
    client = Client("http://localhost:8080", token="secret", metrics=metrics)
    assert client.metrics is metrics
    asyncio.run(client.aclose())


async def test_schedule_fires_are_counted_and_a_namespace_bound_scraper_sees_its_own_series(
    database_url: str,
) -> None:
    from durable_workflow import ScheduleAction, ScheduleSpec
    from durable_workflow_server.settings import parse_namespace_tokens

    billing_operator = "billing-operator-secret"
    tokens = parse_namespace_tokens(f"billing:operator:{billing_operator}")
    async with _app(database_url, namespace_tokens=tokens) as (app, http):
        transport = httpx.ASGITransport(app=app)
        async with Client("http://testserver", token=ADMIN, transport=transport) as admin:
            await admin.create_namespace("billing")
        for namespace in ("default", "billing"):
            async with Client(
                "http://testserver", token=ADMIN, namespace=namespace, transport=transport
            ) as client:
                handle = await client.create_schedule(
                    schedule_id="nightly",
                    spec=ScheduleSpec(cron_expressions=["0 3 * * *"]),
                    action=ScheduleAction(workflow_type="metrics_greeter", task_queue="idle-q"),
                )
                await handle.trigger()

        fires = "durable_workflow_server_schedule_fires_total"
        everything = _samples((await http.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})).text)
        assert everything[f'{fires}{{namespace="billing",outcome="started"}}'] == 1
        assert everything[f'{fires}{{namespace="default",outcome="started"}}'] == 1

        page = await http.get("/metrics", headers={"Authorization": f"Bearer {billing_operator}"})
        assert page.status_code == 200
        own = _samples(page.text)
        assert own[f'{fires}{{namespace="billing",outcome="started"}}'] == 1
        depth = "durable_workflow_server_task_queue_depth"
        assert own[f'{depth}{{kind="workflow",namespace="billing",task_queue="idle-q"}}'] == 1
        assert not any('namespace="default"' in series for series in own)
        assert any(series.startswith("durable_workflow_server_requests_total") for series in own)


async def test_sql_statements_are_counted_and_a_scrape_shows_in_the_next_one(database_url: str) -> None:
    async with _app(database_url, metrics_public=True) as (app, http):
        statements = "durable_workflow_server_sql_statements_total"
        first = await http.get("/metrics")
        assert f"# TYPE {statements} counter" in first.text
        before = _samples(first.text)[statements]
        await _run_one(app)
        after = _samples((await http.get("/metrics")).text)[statements]
        # A workflow's requests ran statements, and so did the first scrape (its queue depth).
        assert after > before > 0
