"""Long polls through ``embedded()``'s client (the SDK's ASGI sender) behave as over a socket.

A parked poll is answered as soon as work arrives; a poll whose caller is cancelled, or whose
client deadline passes, is a worker that hung up: the server lets the poll go (it leases nothing
for it, or hands back what it claimed while being let go), so the next poll gets the task at
once rather than after the 300 s lease; a task leased in the instant the caller left is handed
back. Errors
are the server's envelopes, as typed SDK exceptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import durable_workflow_server
from durable_workflow import Client
from durable_workflow.errors import TransportError, WorkflowNotFound
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow_server import Settings
from tests.helpers.e2e_env import e2e_settings

QUEUE = "embedded-polls"
# The server holds an empty poll this long; far below the 300 s workflow-task lease, so a task
# leased for a poll nobody listens to would not come back within a test.
HOLD = 5.0
WITHIN = 20.0


@asynccontextmanager
async def embedded(database_url: str, **options: Any) -> AsyncIterator[Client]:
    settings = e2e_settings(database_url, long_poll_timeout=HOLD)
    async with durable_workflow_server.embedded(database_url, settings=settings, **options) as client:
        for worker_id in ("w1", "w2"):
            await client.register_worker(worker_id=worker_id, task_queue=QUEUE)
        yield client


async def poll(client: Client, worker_id: str, timeout: float | None = None) -> dict[str, Any] | None:
    task = await client.poll_workflow_task(worker_id=worker_id, task_queue=QUEUE, timeout=timeout)
    return dict(task) if task is not None else None


async def start(client: Client, workflow_id: str) -> None:
    await client.start_workflow(workflow_type="polled", task_queue=QUEUE, workflow_id=workflow_id)


async def test_a_parked_poll_is_answered_when_a_workflow_starts(database_url: str) -> None:
    async with embedded(database_url) as client:
        parked = asyncio.create_task(poll(client, "w1"))
        await asyncio.sleep(0)
        assert not parked.done()
        await start(client, "polls-1")
        task = await asyncio.wait_for(parked, WITHIN)
    assert task is not None and task["workflow_id"] == "polls-1" and task["lease_owner"] == "w1"


async def parked_then_left(client: Client, leave: Callable[[asyncio.Task[Any]], Awaitable[None]]) -> None:
    """Park a poll of w1 on the server, let its caller leave, then start a workflow."""
    parked = asyncio.create_task(poll(client, "w1", timeout=0.3))
    await leave(parked)
    assert parked.done()
    await start(client, "polls-left")


async def test_a_cancelled_poll_leases_nothing_for_its_caller(database_url: str) -> None:
    async def cancel(parked: asyncio.Task[Any]) -> None:
        await asyncio.sleep(0.05)  # parked on the server by now: nothing else happens meanwhile
        parked.cancel()
        with pytest.raises(asyncio.CancelledError):
            await parked

    async with embedded(database_url) as client:
        await parked_then_left(client, cancel)
        # Had the abandoned poll stayed on the server, it would hold the task leased to w1 for
        # 300 s. It may still claim it while it is let go (as over a socket, the hang-up takes a
        # few loop turns to reach it): then it hands it back, and w2 gets attempt 2.
        task = await asyncio.wait_for(poll(client, "w2"), WITHIN)
    assert task is not None and task["lease_owner"] == "w2" and task["workflow_task_attempt"] in (1, 2)


async def test_a_poll_past_its_client_deadline_is_let_go(database_url: str) -> None:
    async def time_out(parked: asyncio.Task[Any]) -> None:
        with pytest.raises(TransportError, match="ReadTimeout"):
            await parked

    once = TransportRetryPolicy(max_attempts=1)
    async with embedded(database_url, retry_policy=once) as client:
        await parked_then_left(client, time_out)
        task = await asyncio.wait_for(poll(client, "w2"), WITHIN)
    assert task is not None and task["lease_owner"] == "w2" and task["workflow_task_attempt"] in (1, 2)


async def test_a_task_leased_as_the_caller_leaves_is_handed_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's claim commits a lease for w1 in the very step w1's caller is cancelled: the
    server's disconnect handling (the path a socket hang-up takes) hands it back."""
    from durable_workflow_server.engine.service import Engine

    callers: list[asyncio.Task[Any]] = []
    original = Engine.poll_workflow_task

    async def leases_as_the_caller_leaves(self: Engine, namespace: str, **kwargs: Any) -> Any:
        task = await original(self, namespace, **kwargs)
        if kwargs.get("worker_id") == "w1" and task is not None:
            callers[0].cancel()
            for _ in range(3):  # the cancellation reaches the sender, which hangs up
                await asyncio.sleep(0)
        return task

    monkeypatch.setattr(Engine, "poll_workflow_task", leases_as_the_caller_leaves)
    async with embedded(database_url) as client:
        await start(client, "polls-race")
        callers.append(asyncio.create_task(poll(client, "w1")))
        with pytest.raises(asyncio.CancelledError):
            await callers[0]
        task = await asyncio.wait_for(poll(client, "w2", timeout=WITHIN), WITHIN)
    assert task is not None and task["lease_owner"] == "w2" and task["workflow_task_attempt"] == 2


async def test_errors_are_the_servers_envelopes(database_url: str) -> None:
    async with embedded(database_url) as client:
        with pytest.raises(WorkflowNotFound):
            await client.describe_workflow("no-such-workflow")


def test_embedded_uses_the_asgi_sender() -> None:
    from durable_workflow.client._http_asgi import AsgiSender

    async def check() -> None:
        async with durable_workflow_server.embedded(settings=Settings(database_url="unused")) as client:
            assert isinstance(client._sender, AsgiSender)

    asyncio.run(check())
