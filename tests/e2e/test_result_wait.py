"""``handle.result()`` waits on the server for the run's close (``capabilities.workflow_result_wait``).

The result's client counts its requests through a transport wrapper: one waited describe
answers a result whose run closes while the wait is parked, where polling would send many.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import WorkflowTerminated
from durable_workflow.protocol.capabilities import RESULT_WAIT_HEADER
from durable_workflow_server.engine.runs.close_wait import close_key
from tests.helpers.dbmatrix import DATABASES, fresh_postgres_url
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app, sdk_client

WITHIN = 20.0
NS = "default"


@activity.defn(name="result_wait_shout")
async def shout(word: str) -> str:
    return word.upper()


@workflow.defn(name="result_wait_flow")
class ShoutFlow:
    def run(self, ctx: Any, word: str) -> Any:
        return (yield ctx.schedule_activity("result_wait_shout", [word]))


@workflow.defn(name="result_wait_relay")
class Relay:
    """Continues as new once, so the result is the second run's."""

    def run(self, ctx: Any, word: str, hops: int = 1) -> Any:
        if hops:
            return ctx.continue_as_new(word + "!", 0)
        return (yield ctx.schedule_activity("result_wait_shout", [word]))


class Counting(httpx.AsyncBaseTransport):
    """Passes requests on, recording each one; ``strip_wait`` hides the offer (as an old server)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, strip_wait: bool = False) -> None:
        self.inner = inner
        self.strip_wait = strip_wait
        self.requests: list[httpx.URL] = []
        self.answered = asyncio.Event()

    def describes(self, workflow_id: str) -> list[httpx.URL]:
        return [url for url in self.requests if url.path == f"/api/workflows/{workflow_id}"]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        response = await self.inner.handle_async_request(request)
        if self.strip_wait and RESULT_WAIT_HEADER in response.headers:
            del response.headers[RESULT_WAIT_HEADER]
        self.answered.set()
        return response


def _worker(client: Client, queue: str) -> Worker:
    return Worker(client, task_queue=queue, workflows=[ShoutFlow, Relay], activities=[shout])


async def _parked(app: Any, workflow_id: str) -> None:
    engine = app.state.engine

    async def watching() -> None:
        while not engine.waiters.watching(close_key(NS, workflow_id)):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(watching(), WITHIN)


@pytest.fixture
async def waiting_app(database_url: str) -> AsyncIterator[Any]:
    # Waits outlast the test's bounds: an answer in time came from the close's wake-up.
    async with running_app(e2e_settings(database_url, long_poll_timeout=60.0)) as app:
        yield app


async def _run_worker(app: Any, queue: str) -> tuple[Client, Worker, asyncio.Task[None]]:
    client = sdk_client(app)
    worker = _worker(client, queue)
    return client, worker, asyncio.create_task(worker.run())


async def test_one_waited_describe_answers_a_result(waiting_app: Any) -> None:
    transport = Counting(httpx.ASGITransport(app=waiting_app))
    async with Client("http://testserver", token=TOKEN, transport=transport) as client:
        handle = await client.start_workflow(
            workflow_type="result_wait_flow", task_queue="rw-1", workflow_id="rw-1", input=["hi"]
        )
        result = asyncio.create_task(handle.result(timeout=WITHIN, poll_interval=0.01))
        await _parked(waiting_app, "rw-1")
        worker_client, worker, running = await _run_worker(waiting_app, "rw-1")
        try:
            assert await asyncio.wait_for(result, WITHIN) == "HI"
        finally:
            await worker.stop()
            await running
            await worker_client.aclose()
    describes = transport.describes("rw-1")
    assert len(describes) == 1, describes
    assert 1 <= int(describes[0].params["wait_seconds"]) <= WITHIN
    # Learned from the start answer's header: nothing else was asked.
    assert [u.path for u in transport.requests] == ["/api/workflows", "/api/workflows/rw-1"]


async def test_the_result_follows_continue_as_new(waiting_app: Any) -> None:
    async with sdk_client(waiting_app) as client:
        handle = await client.start_workflow(
            workflow_type="result_wait_relay", task_queue="rw-can", workflow_id="rw-can", input=["go", 1]
        )
        result = asyncio.create_task(handle.result(timeout=WITHIN))
        await _parked(waiting_app, "rw-can")
        worker_client, worker, running = await _run_worker(waiting_app, "rw-can")
        try:
            assert await asyncio.wait_for(result, WITHIN) == "GO!"
        finally:
            await worker.stop()
            await running
            await worker_client.aclose()


async def test_a_wait_that_runs_out_is_asked_again(database_url: str) -> None:
    # The server holds a wait 0.5 s at most (e2e_settings): the client asks again each time.
    async with running_app(e2e_settings(database_url)) as app:
        transport = Counting(httpx.ASGITransport(app=app))
        async with Client("http://testserver", token=TOKEN, transport=transport) as client:
            handle = await client.start_workflow(
                workflow_type="result_wait_flow", task_queue="rw-again", workflow_id="rw-again"
            )
            result = asyncio.create_task(handle.result(timeout=WITHIN))

            async def waited_twice() -> None:
                while len(transport.describes("rw-again")) < 3:
                    transport.answered.clear()
                    await transport.answered.wait()

            await asyncio.wait_for(waited_twice(), WITHIN)
            assert not result.done()
            await client.terminate_workflow("rw-again", reason="enough")
            with pytest.raises(WorkflowTerminated):
                await asyncio.wait_for(result, WITHIN)
        assert all(u.params.get("wait_seconds") == "1" for u in transport.describes("rw-again"))


async def test_the_timeout_still_raises_on_time(waiting_app: Any) -> None:
    async with sdk_client(waiting_app) as client:
        handle = await client.start_workflow(
            workflow_type="result_wait_flow", task_queue="rw-late", workflow_id="rw-late"
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(handle.result(timeout=1.5, poll_interval=0.05), WITHIN)


async def test_without_the_capability_the_client_polls(waiting_app: Any) -> None:
    transport = Counting(httpx.ASGITransport(app=waiting_app), strip_wait=True)
    async with Client("http://testserver", token=TOKEN, transport=transport) as client:
        handle = await client.start_workflow(
            workflow_type="result_wait_flow", task_queue="rw-old", workflow_id="rw-old", input=["x"]
        )
        worker_client, worker, running = await _run_worker(waiting_app, "rw-old")
        try:
            assert await handle.result(timeout=WITHIN, poll_interval=0.01) == "X"
        finally:
            await worker.stop()
            await running
            await worker_client.aclose()
    assert transport.describes("rw-old")
    assert all("wait_seconds" not in u.params for u in transport.describes("rw-old"))


@pytest.mark.skipif("postgres" not in DATABASES, reason="needs DW_TEST_POSTGRES_URL (PostgreSQL)")
async def test_a_close_through_another_server_wakes_the_wait(request: pytest.FixtureRequest) -> None:
    url = fresh_postgres_url(request)
    # Neither app re-probes within the test: only LISTEN/NOTIFY can carry the close across.
    settings = e2e_settings(url, long_poll_timeout=60.0, poll_reprobe_interval=600.0)
    async with running_app(settings) as near, running_app(settings) as far:
        transport = Counting(httpx.ASGITransport(app=far))
        async with Client("http://testserver", token=TOKEN, transport=transport) as client:
            handle = await client.start_workflow(
                workflow_type="result_wait_flow", task_queue="rw-far", workflow_id="rw-far", input=["far"]
            )
            result = asyncio.create_task(handle.result(timeout=WITHIN))
            await _parked(far, "rw-far")
            worker_client, worker, running = await _run_worker(near, "rw-far")
            try:
                assert await asyncio.wait_for(result, WITHIN) == "FAR"
            finally:
                await worker.stop()
                await running
                await worker_client.aclose()
        assert len(transport.describes("rw-far")) == 1
