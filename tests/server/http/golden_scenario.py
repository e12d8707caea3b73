"""A recorded conversation with the real server: every route of today, success and every 4xx class.

``run_scenario`` drives a real app (real engine, real database file, an injected clock) through
a fixed list of requests and returns one normalised record per response: status, the headers
that matter, and the body text exactly as sent. Only values that are truly random are
normalised: generated ULIDs (run, task, attempt and worker ids) become ``<id:N>`` in order of
first appearance, so identity between responses is still checked, and the export checksum,
which covers those ids, becomes ``<sha256>``.

The golden file (tests/fixtures/golden/http_responses.json) was recorded against the HTTP layer
before it was rewritten; the rewrite must answer byte-equal. Re-record only for an intended
change: ``DW_RECORD_GOLDEN=1 .venv/bin/pytest tests/server/http/test_golden_responses.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from durable_workflow.protocol import codec
from durable_workflow_server import Settings, create_app

GOLDEN_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "golden" / "http_responses.json"

WORKER_TOKEN, OPERATOR_TOKEN, ADMIN_TOKEN = "golden-worker", "golden-operator", "golden-admin"
KEPT_HEADERS = (
    "content-type",
    "content-encoding",
    "x-durable-workflow-control-plane-version",
    "x-durable-workflow-protocol-version",
    "location",
    "allow",
)
_ULID = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}(?![0-9A-Za-z])")
_SHA256 = re.compile(r'"(checksum|sha256|integrity[a-z_]*)":"[0-9a-f]{64}"')


class StepClock:
    """The server's only clock: starts at a fixed instant and moves one second per request."""

    def __init__(self) -> None:
        self.current = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.current

    def tick(self) -> None:
        self.current += timedelta(seconds=1)


def golden_settings(database_url: str, clock: Callable[[], datetime]) -> Settings:
    return Settings(
        database_url=database_url,
        worker_token=WORKER_TOKEN,
        operator_token=OPERATOR_TOKEN,
        admin_token=ADMIN_TOKEN,
        max_payload_bytes=65_536,
        max_memo_bytes=1_024,
        long_poll_timeout=0.2,
        # Nothing is due during the conversation: the background loop must not move state
        # between requests, so it is set to wake rarely and the clock never reaches a deadline.
        timer_loop_interval=3600.0,
        poll_reprobe_interval=0.05,
        workflow_task_retry_delay_seconds=0.0,
        clock=clock,
    )


@dataclass
class Recorder:
    """Sends requests, records normalised responses, and keeps the id → placeholder map."""

    http: httpx.AsyncClient
    clock: StepClock
    records: list[dict[str, Any]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    def _normalise(self, text: str) -> str:
        def placeholder(match: re.Match[str]) -> str:
            value = match.group(0)
            if not any(ch.isdigit() for ch in value) or not any(ch.isalpha() for ch in value):
                return value  # a word or a number of 26 characters, not an id
            return self.ids.setdefault(value.lower(), f"<id:{len(self.ids) + 1}>")

        text = _ULID.sub(placeholder, text)
        return _SHA256.sub(lambda m: f'"{m.group(1)}":"<sha256>"', text)

    async def send(
        self,
        label: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        self.clock.tick()
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if content is not None:
            kwargs["content"] = content
        elif json_body is not None:
            kwargs["json"] = json_body
        response = await self.http.request(method, path, **kwargs)
        kept: dict[str, str] = {}
        for name in KEPT_HEADERS:
            value = response.headers.get(name)
            if value is None:
                continue
            if name == "allow":
                # Starlette joins a set of methods: the order is the set's, not a contract.
                value = ", ".join(sorted(part.strip() for part in value.split(",")))
            kept[name] = self._normalise(value)
        self.records.append(
            {
                "label": label,
                "request": f"{method} {self._normalise(path)}",
                "status": response.status_code,
                "headers": kept,
                "body": self._normalise(response.text),
            }
        )
        return response


def control(token: str | None = OPERATOR_TOKEN, **extra: str) -> dict[str, str]:
    headers = {"X-Durable-Workflow-Control-Plane-Version": "2", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


def worker(token: str | None = WORKER_TOKEN, **extra: str) -> dict[str, str]:
    headers = {"X-Durable-Workflow-Protocol-Version": "1.1", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


@asynccontextmanager
async def golden_client(database_url: str) -> AsyncIterator[Recorder]:
    clock = StepClock()
    app = create_app(golden_settings(database_url, clock))
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Recorder(http, clock)


START = {
    "workflow_id": "wf-1",
    "workflow_type": "greeter",
    "task_queue": "q",
    "input": ["world"],
    "business_key": "order-7",
    "memo": {"note": "hello", "nested": {"n": 1}},
    "search_attributes": {"Customer": "acme", "Tags": ["a", "b"]},
}
FENCE_KEYS = ("lease_owner", "workflow_task_attempt")


async def run_scenario(database_url: str) -> list[dict[str, Any]]:
    """Drive the whole conversation and return the normalised records."""
    async with golden_client(database_url) as rec:
        await _system(rec)
        await _control_plane_successes(rec)
        await _worker_plane(rec)
        await _reads_after_progress(rec)
        await _transport_errors(rec)
        await _routing_errors(rec)
        await _start_field_errors(rec)
        await _query_field_errors(rec)
        await _worker_field_errors(rec)
        return rec.records


# ---------------------------------------------------------------------- system routes


async def _system(rec: Recorder) -> None:
    await rec.send("health", "GET", "/api/health")
    await rec.send("ready", "GET", "/api/ready")
    await rec.send("cluster info (operator)", "GET", "/api/cluster/info", headers=control())
    await rec.send(
        "cluster info (worker, plain)",
        "GET",
        "/api/cluster/info",
        headers={"Authorization": "Bearer golden-worker"},
    )
    await rec.send("cluster info without a token", "GET", "/api/cluster/info")
    await rec.send(
        "cluster info with a wrong token",
        "GET",
        "/api/cluster/info",
        headers={"Authorization": "Bearer nope"},
    )
    await rec.send(
        "cluster info ignores an unknown namespace",
        "GET",
        "/api/cluster/info",
        headers=control(**{"X-Namespace": "nope"}),
    )


# ---------------------------------------------------------------------- control plane


async def _control_plane_successes(rec: Recorder) -> None:
    await rec.send("start", "POST", "/api/workflows", headers=control(), json_body=START)
    await rec.send("start duplicate refused", "POST", "/api/workflows", headers=control(), json_body=START)
    await rec.send(
        "start use-existing",
        "POST",
        "/api/workflows",
        headers=control(),
        json_body={**START, "duplicate_policy": "use-existing"},
    )
    await rec.send(
        "start with a generated id and an avro envelope",
        "POST",
        "/api/workflows",
        headers=control(token=ADMIN_TOKEN),
        json_body={"workflow_type": "greeter", "task_queue": "q2", "input": codec.envelope(["typed"])},
    )
    await rec.send(
        "start with timeouts",
        "POST",
        "/api/workflows",
        headers=control(),
        json_body={
            "workflow_id": "wf-timeouts",
            "workflow_type": "other",
            "task_queue": "elsewhere",
            "execution_timeout_seconds": 86400,
            "run_timeout_seconds": "3600",
        },
    )
    await rec.send("list", "GET", "/api/workflows", headers=control())
    first = await rec.send(
        "list page 1", "GET", "/api/workflows?page_size=1&status=running", headers=control()
    )
    token = first.json().get("next_page_token")
    await rec.send(
        "list page 2",
        "GET",
        f"/api/workflows?page_size=1&status=running&next_page_token={token}",
        headers=control(),
    )
    await rec.send("list by type", "GET", "/api/workflows?workflow_type=other", headers=control())
    await rec.send("list completed (none)", "GET", "/api/workflows?status=completed", headers=control())
    await rec.send("list namespace by query", "GET", "/api/workflows?namespace=default", headers=control())
    await rec.send("describe", "GET", "/api/workflows/wf-1", headers=control())
    await rec.send("runs", "GET", "/api/workflows/wf-1/runs", headers=control())


async def _worker_plane(rec: Recorder) -> None:
    registration = {
        "worker_id": "w1",
        "task_queue": "q",
        "runtime": "python",
        "sdk_version": "0.1.0",
        "build_id": "b1",
        "supported_workflow_types": ["greeter"],
        "workflow_definition_fingerprints": {"greeter": "abc"},
        "supported_activity_types": ["act"],
        "max_concurrent_workflow_tasks": 4,
        "max_concurrent_activity_tasks": "8",
        "capabilities": ["x"],
        "task_slots": {"workflow": 4},
        "process_metrics": {"rss": 1},
    }
    await rec.send("register", "POST", "/api/worker/register", headers=worker(), json_body=registration)
    await rec.send(
        "register with a generated id",
        "POST",
        "/api/worker/register",
        headers=worker(),
        json_body={"task_queue": "q", "runtime": "python"},
    )
    await rec.send(
        "worker heartbeat",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(),
        json_body={"worker_id": "w1", "task_slots": {"workflow": 3}},
    )
    await rec.send(
        "worker heartbeat unknown worker",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(),
        json_body={"worker_id": "ghost"},
    )
    await rec.send(
        "poll unregistered worker",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "ghost", "task_queue": "q", "timeout_seconds": 0},
    )
    polled = await rec.send(
        "poll workflow task",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "history_page_size": 1, "poll_request_id": "p1"},
    )
    task = polled.json()["task"]
    task_id = task["task_id"]
    fence = {key: task[key] for key in FENCE_KEYS}
    wt = f"/api/worker/workflow-tasks/{task_id}"
    await rec.send("workflow task heartbeat", "POST", f"{wt}/heartbeat", headers=worker(), json_body=fence)
    await rec.send(
        "workflow task history page",
        "POST",
        f"{wt}/history",
        headers=worker(),
        json_body={
            **fence,
            "next_history_page_token": task.get("next_history_page_token") or "MQ==",
            "history_page_size": 1,
        },
    )
    await rec.send(
        "workflow task history bad token",
        "POST",
        f"{wt}/history",
        headers=worker(),
        json_body={**fence, "next_history_page_token": "%%%"},
    )
    await rec.send(
        "workflow task heartbeat wrong owner",
        "POST",
        f"{wt}/heartbeat",
        headers=worker(),
        json_body={**fence, "lease_owner": "someone-else"},
    )
    await rec.send(
        "workflow task heartbeat unknown task",
        "POST",
        "/api/worker/workflow-tasks/no-such-task/heartbeat",
        headers=worker(),
        json_body=fence,
    )
    await rec.send(
        "complete refused by command validation",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={**fence, "commands": [{"type": "start_timer", "delay_seconds": -1}, {"type": "nope"}]},
    )
    await rec.send(
        "complete with two terminal commands",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={
            **fence,
            "commands": [{"type": "complete_workflow"}, {"type": "fail_workflow", "message": "x"}],
        },
    )
    await rec.send(
        "complete schedules an activity",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={
            **fence,
            "commands": [
                {
                    "type": "schedule_activity",
                    "activity_type": "act",
                    "queue": "q",
                    "arguments": codec.encode(["a"]),
                    "start_to_close_timeout": 60,
                    "retry_policy": {"max_attempts": 2, "backoff_seconds": [1]},
                }
            ],
        },
    )
    await rec.send(
        "complete again after the task closed",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={**fence, "commands": [{"type": "complete_workflow"}]},
    )
    await rec.send(
        "empty workflow poll",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 0, "build_id": "b1"},
    )
    leased = await rec.send(
        "poll activity task",
        "POST",
        "/api/worker/activity-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    activity = leased.json()["task"]
    at = f"/api/worker/activity-tasks/{activity['task_id']}"
    afence = {"activity_attempt_id": activity["activity_attempt_id"], "lease_owner": activity["lease_owner"]}
    await rec.send(
        "activity heartbeat",
        "POST",
        f"{at}/heartbeat",
        headers=worker(),
        json_body={
            **afence,
            "message": "half",
            "current": 1,
            "total": 2.5,
            "unit": "steps",
            "details": {"k": "v"},
        },
    )
    await rec.send(
        "activity heartbeat wrong owner",
        "POST",
        f"{at}/heartbeat",
        headers=worker(),
        json_body={**afence, "lease_owner": "x"},
    )
    await rec.send(
        "activity complete wrong attempt",
        "POST",
        f"{at}/complete",
        headers=worker(),
        json_body={**afence, "activity_attempt_id": "nope", "result": codec.encode("r")},
    )
    await rec.send(
        "activity fail (retryable)",
        "POST",
        f"{at}/fail",
        headers=worker(),
        json_body={
            **afence,
            "failure": {"message": "boom", "type": "ValueError", "stack_trace": "t", "kind": "application"},
        },
    )
    await rec.send(
        "activity complete after its attempt failed",
        "POST",
        f"{at}/complete",
        headers=worker(),
        json_body={**afence, "result": codec.encode("r")},
    )
    await rec.send(
        "activity heartbeat unknown task",
        "POST",
        "/api/worker/activity-tasks/no-such-task/heartbeat",
        headers=worker(),
        json_body=afence,
    )
    # The retry is due after its one-second backoff; the clock moves a second per request.
    rec.clock.tick()
    retried = await rec.send(
        "poll the retry",
        "POST",
        "/api/worker/activity-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    retry = retried.json()["task"]
    if retry is not None:
        rt = f"/api/worker/activity-tasks/{retry['task_id']}"
        rfence = {"activity_attempt_id": retry["activity_attempt_id"], "lease_owner": retry["lease_owner"]}
        await rec.send(
            "activity complete",
            "POST",
            f"{rt}/complete",
            headers=worker(),
            json_body={**rfence, "result": codec.encode("r")},
        )
    second = await rec.send(
        "poll the next workflow task",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    task2 = second.json()["task"]
    if task2 is not None:
        wt2 = f"/api/worker/workflow-tasks/{task2['task_id']}"
        fence2 = {key: task2[key] for key in FENCE_KEYS}
        await rec.send(
            "workflow task fail",
            "POST",
            f"{wt2}/fail",
            headers=worker(),
            json_body={**fence2, "failure": {"message": "replay broke", "type": "RuntimeError"}},
        )
    third = await rec.send(
        "poll the redelivered workflow task",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    task3 = third.json()["task"]
    if task3 is not None:
        wt3 = f"/api/worker/workflow-tasks/{task3['task_id']}"
        fence3 = {key: task3[key] for key in FENCE_KEYS}
        await rec.send(
            "complete the workflow",
            "POST",
            f"{wt3}/complete",
            headers=worker(),
            json_body={
                **fence3,
                "commands": [
                    {"type": "record_side_effect", "result": codec.encode(7)},
                    {"type": "upsert_search_attributes", "attributes": {"Stage": "done"}},
                    {"type": "complete_workflow", "result": codec.encode("hello world")},
                ],
            },
        )


async def _reads_after_progress(rec: Recorder) -> None:
    described = await rec.send("describe completed", "GET", "/api/workflows/wf-1", headers=control())
    run_id = described.json().get("run_id")
    await rec.send("describe run", "GET", f"/api/workflows/wf-1/runs/{run_id}", headers=control())
    page = await rec.send(
        "history page 1", "GET", f"/api/workflows/wf-1/runs/{run_id}/history?page_size=2", headers=control()
    )
    token = page.json().get("next_page_token")
    await rec.send(
        "history page 2",
        "GET",
        f"/api/workflows/wf-1/runs/{run_id}/history?page_size=2&next_page_token={token}",
        headers=control(),
    )
    await rec.send(
        "history full",
        "GET",
        f"/api/workflows/wf-1/runs/{run_id}/history?wait_new_event=0",
        headers=control(),
    )
    await rec.send(
        "history bad token",
        "GET",
        f"/api/workflows/wf-1/runs/{run_id}/history?next_page_token=zz",
        headers=control(),
    )
    await rec.send(
        "history export", "GET", f"/api/workflows/wf-1/runs/{run_id}/history/export", headers=control()
    )
    await rec.send("list completed", "GET", "/api/workflows?status=completed", headers=control())
    await rec.send("describe unknown workflow", "GET", "/api/workflows/missing", headers=control())
    await rec.send("runs of unknown workflow", "GET", "/api/workflows/missing/runs", headers=control())
    await rec.send("describe unknown run", "GET", "/api/workflows/wf-1/runs/nope", headers=control())
    await rec.send(
        "history of unknown run", "GET", "/api/workflows/wf-1/runs/nope/history", headers=control()
    )
    await rec.send(
        "export of unknown run", "GET", "/api/workflows/wf-1/runs/nope/history/export", headers=control()
    )
    await rec.send("cluster info with workers", "GET", "/api/cluster/info", headers=control())


# ---------------------------------------------------------------------- errors


async def _transport_errors(rec: Recorder) -> None:
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


async def _routing_errors(rec: Recorder) -> None:
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
        "unserved signal route", "POST", "/api/workflows/wf-1/signal/go", headers=control(), json_body={}
    )
    await rec.send("unserved cancel route", "POST", "/api/workflows/wf-1/cancel", headers=control())
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


async def _start_field_errors(rec: Recorder) -> None:
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


async def _query_field_errors(rec: Recorder) -> None:
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


async def _worker_field_errors(rec: Recorder) -> None:
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


def load_golden() -> list[dict[str, Any]]:
    return json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def write_golden(records: list[dict[str, Any]]) -> None:
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_FILE.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
