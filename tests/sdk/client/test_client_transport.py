"""Client transport: URLs, headers, tokens, retries, metrics, version checks, payload sizes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client
from durable_workflow.errors import PayloadSizeWarning, PayloadTooLarge, ServerError, TransportError
from durable_workflow.metrics import CLIENT_REQUEST_DURATION_SECONDS, CLIENT_REQUESTS, InMemoryMetrics
from durable_workflow.retry_policy import TransportRetryPolicy

CONTROL = "X-Durable-Workflow-Control-Plane-Version"
WORKER = "X-Durable-Workflow-Protocol-Version"


async def test_control_call_headers_and_api_prefix(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client(token="tok", namespace="orders")
    await client.describe_workflow("wf-1")
    req = fake.last
    assert req.method == "GET"
    assert str(req.url) == "http://dw.test/api/workflows/wf-1"
    assert req.headers["Authorization"] == "Bearer tok"
    assert req.headers["X-Namespace"] == "orders"
    assert req.headers[CONTROL] == "2"
    assert WORKER not in req.headers
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Accept"] == "application/json"


async def test_worker_call_headers(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client(token="tok")
    await client.heartbeat_worker(worker_id="w1")
    req = fake.last
    assert req.url.path == "/api/worker/heartbeat"
    assert req.headers[WORKER] == "1.1"
    assert CONTROL not in req.headers
    assert req.headers["X-Namespace"] == "default"


async def test_base_url_path_and_trailing_slash_are_kept(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    client = make_client(base_url="http://dw.test/prefix/")
    await client.health()
    assert str(fake.last.url) == "http://dw.test/prefix/api/health"


@pytest.mark.parametrize(
    ("tokens", "control", "worker"),
    [
        ({"token": "t"}, "t", "t"),
        ({"control_token": "c", "worker_token": "w"}, "c", "w"),
        ({"token": "t", "control_token": "c"}, "c", "t"),
        ({"token": "t", "worker_token": "w"}, "t", "w"),
        ({"worker_token": "w"}, "w", "w"),
        ({"control_token": "c"}, "c", "c"),
    ],
)
async def test_token_precedence_per_plane(
    fake: Any, make_client: Callable[..., Client], tokens: dict[str, str], control: str, worker: str
) -> None:
    client = make_client(**tokens)
    await client.health()
    assert fake.last.headers["Authorization"] == f"Bearer {control}"
    await client.heartbeat_worker(worker_id="w1")
    assert fake.last.headers["Authorization"] == f"Bearer {worker}"


async def test_no_token_sends_no_authorization(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.health()
    assert "Authorization" not in fake.last.headers


async def test_ids_are_percent_encoded_in_paths(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client()
    await client.signal_workflow("a/b c", "sig:x")
    assert fake.last.url.raw_path == b"/api/workflows/a%2Fb%20c/signal/sig:x"


async def test_context_manager_closes_pool(fake: Any) -> None:
    async with Client("http://dw.test", transport=httpx.MockTransport(fake)) as client:
        await client.health()
    assert client._http.is_closed


# --------------------------------------------------------------------------- retries


async def test_retries_5xx_then_succeeds_with_backoff(
    fake: Any, make_client: Callable[..., Client], sleeps: Any
) -> None:
    fake.reply(503, {"status": "degraded"}).reply(502).reply(200, {"status": "serving"})
    client = make_client()
    assert await client.health() == {"status": "serving"}
    assert len(fake.requests) == 3
    # random() == 0.5 means no jitter: 0.1 then 0.2
    assert sleeps.delays == pytest.approx([0.1, 0.2])


async def test_retries_429_and_gives_up_with_server_error(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    for _ in range(3):
        fake.reply(429, {"reason": "query_task_queue_full", "message": "busy"})
    client = make_client()
    with pytest.raises(ServerError) as info:
        await client.health()
    assert info.value.status_code == 429
    assert info.value.reason == "query_task_queue_full"
    assert len(fake.requests) == 3


async def test_4xx_is_not_retried(fake: Any, make_client: Callable[..., Client], sleeps: Any) -> None:
    fake.reply(404, {"reason": "instance_not_found", "message": "nope"})
    client = make_client()
    with pytest.raises(ServerError):
        await client.describe_workflow("missing")
    assert len(fake.requests) == 1
    assert sleeps.delays == []


async def test_connect_errors_are_retried_then_raise_transport_error(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    for _ in range(3):
        fake.fail(httpx.ConnectError("refused"))
    client = make_client()
    with pytest.raises(TransportError, match="after 3 attempt"):
        await client.health()
    assert len(fake.requests) == 3


async def test_timeout_then_success_resends_same_body(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.fail(httpx.ReadTimeout("slow")).reply(200, {"task": None})
    client = make_client()
    assert await client.poll_workflow_task(worker_id="w", task_queue="q", poll_request_id="p-1") is None
    bodies = [fake.body_of(r) for r in fake.requests]
    assert bodies[0] == bodies[1] == {"worker_id": "w", "task_queue": "q", "poll_request_id": "p-1"}


def test_retry_policy_backoff_is_capped_and_jittered() -> None:
    lo = TransportRetryPolicy(random=lambda: 0.0)
    hi = TransportRetryPolicy(random=lambda: 0.999999)
    mid = TransportRetryPolicy(random=lambda: 0.5)
    assert mid.delay(0) == pytest.approx(0.1)
    assert mid.delay(3) == pytest.approx(0.8)
    assert mid.delay(10) == pytest.approx(5.0)
    assert lo.delay(0) == pytest.approx(0.075)
    assert hi.delay(10) == pytest.approx(6.25, rel=1e-4)
    assert mid.should_retry_status(500) and mid.should_retry_status(429)
    assert not mid.should_retry_status(409)
    with pytest.raises(ValueError):
        TransportRetryPolicy(max_attempts=0)


async def test_single_attempt_policy_does_not_retry(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(500, {"message": "boom"})
    client = make_client(retry_policy=TransportRetryPolicy(max_attempts=1))
    with pytest.raises(ServerError) as info:
        await client.health()
    assert info.value.status_code == 500
    assert len(fake.requests) == 1


# --------------------------------------------------------------------------- metrics


async def test_metrics_tags_use_route_template(fake: Any, make_client: Callable[..., Client]) -> None:
    metrics = InMemoryMetrics()
    fake.reply(503).reply(200, {"workflow_id": "wf-9", "status": "running"})
    client = make_client(metrics=metrics)
    await client.describe_workflow("wf-9")
    tags = metrics.tag_sets(CLIENT_REQUESTS)
    assert {
        "method": "GET",
        "route": "/workflows/{workflow_id}",
        "plane": "control",
        "status_code": "503",
        "outcome": "http_error",
    } in tags
    assert {
        "method": "GET",
        "route": "/workflows/{workflow_id}",
        "plane": "control",
        "status_code": "200",
        "outcome": "success",
    } in tags
    assert metrics.counter(CLIENT_REQUESTS) == 2
    assert len(metrics.observations(CLIENT_REQUEST_DURATION_SECONDS, {"outcome": "success"})) == 1
    assert all(v >= 0 for v in metrics.observations(CLIENT_REQUEST_DURATION_SECONDS))


async def test_metrics_record_transport_failures_and_worker_plane(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    metrics = InMemoryMetrics()
    fake.fail(httpx.ConnectError("down")).reply(200, {"task": None})
    client = make_client(metrics=metrics)
    await client.poll_activity_task(worker_id="w", task_queue="q")
    assert metrics.counter(CLIENT_REQUESTS, {"outcome": "transport_error", "status_code": ""}) == 1
    assert (
        metrics.counter(
            CLIENT_REQUESTS, {"plane": "worker", "route": "/worker/activity-tasks/poll", "outcome": "success"}
        )
        == 1
    )


async def test_broken_recorder_does_not_break_requests(fake: Any, make_client: Callable[..., Client]) -> None:
    class Broken:
        def increment(self, name: str, value: float = 1.0, tags: Any = None) -> None:
            raise RuntimeError("exporter down")

        def record(self, name: str, value: float, tags: Any = None) -> None:
            raise RuntimeError("exporter down")

    client = make_client(metrics=Broken())
    assert await client.health() == {}


# --------------------------------------------------------------------------- versions


async def test_mismatched_control_plane_version_is_refused(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    fake.reply(200, {"workflow_id": "wf"}, headers={CONTROL: "3"})
    client = make_client()
    with pytest.raises(ServerError) as info:
        await client.describe_workflow("wf")
    assert info.value.reason == "unsupported_control_plane_version"


async def test_other_worker_major_is_refused_but_newer_minor_accepted(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    fake.reply(200, {"task": None}, headers={WORKER: "1.15"}).reply(
        200, {"task": None}, headers={WORKER: "2.0"}
    )
    client = make_client()
    assert await client.poll_query_task(worker_id="w", task_queue="q") is None
    with pytest.raises(ServerError) as info:
        await client.poll_query_task(worker_id="w", task_queue="q")
    assert info.value.reason == "unsupported_protocol_version"


async def test_poll_timeout_follows_advertised_hold_time(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    client = make_client()
    assert client.poll_timeout(None) == 35.0
    assert client.poll_timeout(3.0) == 3.0
    fake.reply(200, {"worker_protocol": {"version": "1.1", "server_capabilities": {"long_poll_timeout": 50}}})
    await client.get_cluster_info()
    assert client.poll_timeout(None) == 55.0
    fake.reply(200, {"task": None, "server_capabilities": {"long_poll_timeout": 10}})
    await client.poll_workflow_task(worker_id="w", task_queue="q")
    assert client.poll_timeout(None) == 35.0


async def test_poll_uses_long_read_timeout(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client(timeout=5.0)
    await client.poll_workflow_task(worker_id="w", task_queue="q")
    assert fake.last.extensions["timeout"]["read"] == 35.0
    await client.health()
    assert fake.last.extensions["timeout"]["read"] == 5.0


async def test_non_json_success_body_is_a_server_error(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.queue.append(httpx.Response(200, content=b"<html>"))
    client = make_client()
    with pytest.raises(ServerError, match="non-JSON"):
        await client.health()


# --------------------------------------------------------------------------- payload sizes


async def test_payload_over_threshold_warns(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client(payload_size_limit_bytes=1000, payload_size_warning_threshold_percent=50)
    with pytest.warns(PayloadSizeWarning, match="payload limit"):
        await client.signal_workflow("wf", "sig", ["x" * 500])
    assert fake.last.url.path == "/api/workflows/wf/signal/sig"


async def test_payload_warnings_can_be_disabled(fake: Any, make_client: Callable[..., Client]) -> None:
    client = make_client(payload_size_limit_bytes=1000, payload_size_warnings=False)
    await client.signal_workflow("wf", "sig", ["x" * 700])  # would warn; warnings are errors here
    assert len(fake.requests) == 1


async def test_payload_over_limit_raises_before_sending(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    client = make_client(payload_size_limit_bytes=100)
    with pytest.raises(PayloadTooLarge) as info:
        await client.start_workflow(workflow_type="t", task_queue="q", input=["x" * 200])
    assert info.value.limit_bytes == 100 and info.value.size_bytes > 100
    assert fake.requests == []


def test_invalid_payload_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Client("http://x", payload_size_limit_bytes=0)
    with pytest.raises(ValueError):
        Client("http://x", payload_size_warning_threshold_percent=0)


async def test_a_redirect_is_an_error_not_an_empty_success(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    # e.g. a proxy sending http:// to https://: nothing was started, so say so.
    fake.queue.append(httpx.Response(301, headers={"location": "https://wf.example.com/api/workflows"}))
    client = make_client()
    with pytest.raises(ServerError, match=r"redirected \(301\) to https://wf\.example\.com") as info:
        await client.start_workflow(workflow_type="greeter", task_queue="default", input=["x"])
    assert info.value.status_code == 301
    assert len(fake.requests) == 1


async def test_a_base_url_without_scheme_fails_at_once_and_names_the_url(sleeps: Any) -> None:
    client = Client("localhost:8080", retry_policy=TransportRetryPolicy(sleep=sleeps))
    try:
        with pytest.raises(TransportError, match=r"localhost:8080/api/cluster/info") as info:
            await client.get_cluster_info()
    finally:
        await client.aclose()
    assert "http://" in str(info.value)
    assert sleeps.delays == []  # a configuration error is not retried


async def test_an_unreachable_server_is_a_transport_error_naming_it(sleeps: Any) -> None:
    client = Client("http://127.0.0.1:9", retry_policy=TransportRetryPolicy(max_attempts=2, sleep=sleeps))
    try:
        with pytest.raises(TransportError, match=r"GET http://127.0.0.1:9/api/health failed after 2"):
            await client.health()
    finally:
        await client.aclose()
    assert len(sleeps.delays) == 1
