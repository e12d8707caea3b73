"""PostgreSQL failing under load: a real server process, a real SDK worker, the database cut away.

Two faults, each mid-load: every session of the test database terminated
(``pg_terminate_backend``, three times), and the whole cluster restarted (``pg_ctlcluster …
restart``, which needs root and is skipped with its reason otherwise). Afterwards: every workflow
completed with its result, every activity step ran exactly once, the server answered no 500 and
logged no traceback, and (restart) the requests that met the outage were answered
``503 database_unavailable``. The restart test waits until PostgreSQL accepts connections again
before it ends, so the tests after it (pytest runs serially) find it up.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import DurableWorkflowError
from tests.helpers import postgres_control as pg
from tests.helpers.dbmatrix import POSTGRES_ENV, fresh_postgres_url
from tests.helpers.server_process import ServerProcess, free_port

if not os.environ.get(POSTGRES_ENV):
    pytest.skip(f"PostgreSQL failure tests need {POSTGRES_ENV}", allow_module_level=True)

pytestmark = pytest.mark.smoke

QUEUE = "pgfail"
WORKFLOWS = 30
START_RATE = 10.0  # workflows per second
executions: Counter[tuple[int, int]] = Counter()


@activity.defn(name="pgfail-step")
async def step(n: int, k: int) -> int:
    executions[(n, k)] += 1
    return n * 10 + k


@workflow.defn(name="pgfail-steps")
class Steps:
    def run(self, ctx: Any, n: int) -> Any:
        first = yield ctx.schedule_activity("pgfail-step", [n, 1])
        yield ctx.sleep(1)
        second = yield ctx.schedule_activity("pgfail-step", [n, 2])
        return [first, second]


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    return fresh_postgres_url(request)


@pytest.fixture
async def server(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ServerProcess]:
    # Short leases: a task whose poll answer was lost in the outage comes back within seconds.
    monkeypatch.setenv("DW_WORKFLOW_TASK_LEASE_SECONDS", "5")
    monkeypatch.setenv("DW_ACTIVITY_TASK_LEASE_SECONDS", "10")
    process = ServerProcess(free_port(), None, database_url=database_url)
    offset = process.log.stat().st_size if process.log.exists() else 0
    process.start()
    process.log_offset = offset  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        process.stop()


def _server_log(server: ServerProcess) -> str:
    return server.log.read_bytes()[getattr(server, "log_offset", 0) :].decode("utf-8", "replace")


async def _start_all(client: Client, started: asyncio.Event) -> list[Any]:
    """Start ``WORKFLOWS`` at ``START_RATE``; a start the outage refused is sent again."""
    handles: list[Any] = []
    for n in range(WORKFLOWS):
        while True:
            try:
                handles.append(
                    await client.start_workflow(
                        workflow_type="pgfail-steps",
                        task_queue=QUEUE,
                        workflow_id=f"pgfail-{n}",
                        input=[n],
                        duplicate_policy="use-existing",
                    )
                )
                break
            except DurableWorkflowError:
                await asyncio.sleep(0.2)
        if n == WORKFLOWS // 3:
            started.set()  # a third is in flight: time for the fault
        await asyncio.sleep(1 / START_RATE)
    return handles


async def _probe(server: ServerProcess, statuses: Counter[int], stop: asyncio.Event) -> None:
    """Describe a workflow every 50 ms without client retries: what did the server answer?"""
    headers = {"Authorization": f"Bearer {server.token}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
        while not stop.is_set():
            try:
                statuses[(await http.get("/api/workflows/pgfail-0")).status_code] += 1
            except httpx.HTTPError:
                statuses[0] += 1  # no answer at all
            await asyncio.sleep(0.05)


def _request_statuses(server: ServerProcess) -> Counter[str]:
    """The server's own request counts by status (``/metrics``)."""
    text = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {server.token}"}).text
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("durable_workflow_server_requests_total{"):
            status = re.search(r'status="(\d+)"', line)
            if status:
                counts[status.group(1)] += int(float(line.rsplit(" ", 1)[1]))
    return counts


async def _run_load_with_fault(
    server: ServerProcess, fault: Callable[[], Awaitable[None]]
) -> tuple[list[Any], Counter[int]]:
    executions.clear()
    statuses: Counter[int] = Counter()
    async with Client(server.url, token=server.token) as client:
        worker = Worker(
            client,
            task_queue=QUEUE,
            workflows=[Steps],
            activities=[step],
            poll_timeout=2.0,
            max_concurrent_activity_tasks=20,
        )
        running = asyncio.create_task(worker.run())
        third_started, stop_probe = asyncio.Event(), asyncio.Event()
        starting = asyncio.create_task(_start_all(client, third_started))
        await asyncio.wait_for(third_started.wait(), 30)
        probing = asyncio.create_task(_probe(server, statuses, stop_probe))
        try:
            await fault()
        finally:
            await asyncio.sleep(0.5)  # a few probes after the database is back
            stop_probe.set()
            await probing
        handles = await asyncio.wait_for(starting, 60)
        results = [await handle.result(timeout=60.0) for handle in handles]
        await worker.stop()
        await asyncio.wait_for(running, 30)
    return results, statuses


def _assert_nothing_lost_or_doubled(results: list[Any]) -> None:
    assert results == [[n * 10 + 1, n * 10 + 2] for n in range(WORKFLOWS)]
    assert executions == Counter({(n, k): 1 for n in range(WORKFLOWS) for k in (1, 2)})


def _assert_no_server_error(server: ServerProcess) -> Counter[str]:
    counts = _request_statuses(server)
    assert counts["500"] == 0, counts
    log = _server_log(server)
    assert "Traceback" not in log, log[-4000:]
    return counts


async def test_terminated_backends_mid_load_lose_nothing(server: ServerProcess, database_url: str) -> None:
    database = urlsplit(database_url).path.lstrip("/")

    async def terminate_three_times() -> None:
        for _ in range(3):
            assert await pg.terminate_backends(database_url, database) > 0
            await asyncio.sleep(0.7)

    results, statuses = await _run_load_with_fault(server, terminate_three_times)
    _assert_nothing_lost_or_doubled(results)
    _assert_no_server_error(server)
    assert set(statuses) <= {200, 503}, statuses


async def test_a_postgres_restart_mid_load_is_503_then_recovers(
    server: ServerProcess, database_url: str
) -> None:
    reason = pg.restart_unavailable_reason(database_url)
    if reason is not None:
        pytest.skip(f"cannot restart PostgreSQL here: {reason}")
    took: list[float] = []

    async def restart() -> None:
        try:
            took.append(await asyncio.to_thread(pg.restart, database_url))
        finally:
            pg.ensure_running(database_url)
            await pg.wait_accepting(database_url, timeout=60)

    started = time.monotonic()
    results, statuses = await _run_load_with_fault(server, restart)
    _assert_nothing_lost_or_doubled(results)
    counts = _assert_no_server_error(server)
    assert statuses[503] > 0 and set(statuses) <= {200, 503}, statuses
    assert int(counts["503"]) >= statuses[503]
    print(
        f"restart took {took[0]:.2f}s; probe answers {dict(statuses)}; in {time.monotonic() - started:.1f}s"
    )
