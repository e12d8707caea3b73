"""The worker against a server that goes away and comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.retry_policy import TransportRetryPolicy
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app


class SwitchableTransport(httpx.AsyncBaseTransport):
    """An ASGI transport whose app can be swapped, or removed to simulate an outage.

    Its events tell the test what the worker has done: registered with a server, or had a
    request (any, or an activity completion) refused while the server was down.
    """

    def __init__(self) -> None:
        self.inner: httpx.ASGITransport | None = None
        self.registered = asyncio.Event()
        self.refused = asyncio.Event()
        self.refused_completion = asyncio.Event()

    def serve(self, app: Any | None) -> None:
        self.inner = httpx.ASGITransport(app=app) if app is not None else None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.inner is None:
            self.refused.set()
            if path.startswith("/api/worker/activity-tasks/") and path.endswith("/complete"):
                self.refused_completion.set()
            raise httpx.ConnectError("connection refused (server down)", request=request)
        response = await self.inner.handle_async_request(request)
        if path == "/api/worker/register" and response.status_code < 300:
            self.registered.set()
        return response


gate = asyncio.Event()
started = asyncio.Event()


@activity.defn(name="gated")
async def gated(value: str) -> str:
    started.set()
    await gate.wait()
    return value.upper()


@workflow.defn(name="gated-flow")
class GatedFlow:
    def run(self, ctx: Any, value: str) -> Any:
        return (yield ctx.schedule_activity("gated", [value]))


def _client(transport: SwitchableTransport) -> Client:
    fast = TransportRetryPolicy(max_attempts=2, initial_backoff_seconds=0.01, max_backoff_seconds=0.02)
    return Client("http://testserver", token=TOKEN, transport=transport, retry_policy=fast)


def _worker(client: Client) -> Worker:
    worker = Worker(
        client, task_queue="resilience", workflows=[GatedFlow], activities=[gated], poll_timeout=1.0
    )
    worker.poll_error_backoff = 0.01
    worker.poll_error_backoff_max = 0.05
    worker.report_retry_backoff = 0.05
    return worker


async def test_activity_completed_during_an_outage_is_delivered_after_restart(tmp_path: Path) -> None:
    gate.clear()
    started.clear()
    settings = e2e_settings(f"sqlite:///{tmp_path / 'restart.sqlite3'}")
    transport = SwitchableTransport()
    async with _client(transport) as client:
        worker = _worker(client)
        runner: asyncio.Task[None] | None = None
        async with running_app(settings) as first:
            transport.serve(first)
            handle = await client.start_workflow(
                workflow_type="gated-flow", task_queue="resilience", workflow_id="restart-1", input=["hi"]
            )
            runner = asyncio.create_task(worker.run())
            await asyncio.wait_for(started.wait(), 10)
            transport.serve(None)
        # The server is down: the activity finishes and cannot report yet.
        gate.set()
        await asyncio.wait_for(transport.refused_completion.wait(), 10)
        async with running_app(settings) as second:
            transport.serve(second)
            try:
                assert await handle.result(timeout=10.0, poll_interval=0.05) == "HI"
            finally:
                await worker.stop()
                await runner


async def test_worker_registers_again_with_a_server_that_forgot_it(tmp_path: Path) -> None:
    gate.set()
    transport = SwitchableTransport()
    async with _client(transport) as client:
        worker = _worker(client)
        worker.heartbeat_interval = 3600  # re-registration must not wait for the heartbeat
        async with running_app(e2e_settings(f"sqlite:///{tmp_path / 'a.sqlite3'}")) as first:
            transport.serve(first)
            runner = asyncio.create_task(worker.run())
            await asyncio.wait_for(transport.registered.wait(), 10)
            transport.serve(None)
        await asyncio.wait_for(transport.refused.wait(), 10)  # the worker has met the outage
        transport.registered.clear()
        # A fresh database: the new server has never heard of this worker.
        async with running_app(e2e_settings(f"sqlite:///{tmp_path / 'b.sqlite3'}")) as second:
            transport.serve(second)
            try:
                handle = await client.start_workflow(
                    workflow_type="gated-flow", task_queue="resilience", workflow_id="forgot-1", input=["x"]
                )
                assert await handle.result(timeout=10.0, poll_interval=0.05) == "X"
                assert transport.registered.is_set()  # it registered again with the new server
            finally:
                await worker.stop()
                await runner
