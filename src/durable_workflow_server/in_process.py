"""In-process mode: the server's app and engine in this process, reached without a socket.

``async with embedded("sqlite:///app.db") as client:`` opens the database (applying migrations),
starts the engine's background loop (timers, lease expiry, schedules, retention) and yields a
``durable_workflow.Client`` whose requests go straight to the app (``Client(asgi_app=app)``: the
SDK's ASGI sender builds each request's scope and collects the answer, no httpx and no HTTP
bytes), so
``Worker(client, ...)`` and ``client.start_workflow(...)`` behave exactly as against
``dw server:start`` on the same database.

Auth: nothing listens on a network, so only code holding the yielded client can reach the app.
The app still runs its normal guard chain, with a fresh random token (``secrets``) that only this
client carries: no "trusted transport" special case exists to be reached some other way.

This is the one server module that imports the SDK's client (an exception the import contract
in ``pyproject.toml`` names); ``import durable_workflow_server`` does not load it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp

from durable_workflow.client import Client

from .app import ServerStartError, create_app
from .settings import Settings

__all__ = ["IN_MEMORY", "embedded"]

#: The in-memory SQLite database: nothing survives the block.
IN_MEMORY = "sqlite:///:memory:"
# Spellings of an in-memory database accepted besides IN_MEMORY.
_MEMORY_ALIASES = frozenset({"sqlite://", "sqlite://:memory:", ":memory:", "memory"})
# Where the client believes it talks to (the host is never resolved: the sender calls the app).
BASE_URL = "http://embedded.invalid"


def _database_url(url: str) -> str:
    return IN_MEMORY if url.strip() in _MEMORY_ALIASES else url


@asynccontextmanager
async def embedded(
    database_url: str = IN_MEMORY,
    *,
    settings: Settings | None = None,
    **client_options: Any,
) -> AsyncIterator[Client]:
    """Run the server in this process and yield a ready client of it; close both on exit.

    Args:
        database_url: ``sqlite:///PATH`` (a file: workflows survive the block and continue in
            the next one on the same file, or in a ``dw server:start`` on it),
            ``postgresql://...``, or an in-memory SQLite database (``IN_MEMORY``, also spelt
            ``sqlite://:memory:`` or ``sqlite://``).
        settings: The server's settings; ``Settings.from_env()`` (the ``DW_*`` variables, as
            ``dw server:start`` reads them) when omitted. Its ``database_url`` is replaced by
            ``database_url`` and its authentication by the in-process token.
        **client_options: Passed to :class:`durable_workflow.Client` (``namespace``,
            ``timeout``, ``metrics``, ``external_storage``, ...), except ``token``,
            ``transport`` and ``asgi_app``, which this sets.

    Yields:
        A :class:`durable_workflow.Client` that calls the app in this process. Stop the workers that
        use it before the block ends: the engine closes on exit.

    Raises:
        ServerStartError: The database cannot be opened.

    Example::

        async with durable_workflow_server.embedded("sqlite:///app.db") as client:
            worker = Worker(client, task_queue="q", workflows=[Greeter], activities=[greet])
            running = asyncio.create_task(worker.run())
            handle = await client.start_workflow(workflow_type="greeter", task_queue="q", input=["Ada"])
            print(await handle.result())
            await worker.stop()
            await running
    """
    for reserved in ("token", "transport", "asgi_app", "control_token", "worker_token"):
        if reserved in client_options:
            raise TypeError(f"embedded() sets the client's {reserved!r} itself")
    token = secrets.token_urlsafe(32)
    base = settings if settings is not None else Settings.from_env()
    served = dataclasses.replace(
        base,
        database_url=_database_url(database_url),
        auth_driver="token",
        auth_token=token,
        auth_backward_compatible=True,
        worker_token=None,
        operator_token=None,
        admin_token=None,
        namespace_tokens=(),
        # Nothing crosses a network: compressing an answer only to inflate it again is waste.
        compression_enabled=False,
    )
    app = create_app(served)
    async with _lifespan(app):
        client = Client(BASE_URL, token=token, asgi_app=app, **client_options)
        async with client:
            yield client


@asynccontextmanager
async def _lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Drive the app's ASGI lifespan (the client's ASGI sender only sends requests): open, then
    close the engine."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: MutableMapping[str, Any]) -> None:
        await outbox.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}

    async def run() -> None:
        await app(scope, receive, send)

    task = asyncio.create_task(run(), name="dw-embedded-lifespan")
    try:
        await inbox.put({"type": "lifespan.startup"})
        await _expect(outbox, task, "startup")
    except BaseException:
        await _stop(task)
        raise
    try:
        yield
    finally:
        # Also when the block raised: the engine closes (its loop stops, the database is released).
        try:
            await inbox.put({"type": "lifespan.shutdown"})
            await _expect(outbox, task, "shutdown")
        finally:
            await _stop(task)


async def _stop(task: asyncio.Task[None]) -> None:
    if not task.done():
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _expect(
    outbox: asyncio.Queue[MutableMapping[str, Any]], task: asyncio.Task[None], phase: str
) -> None:
    getting = asyncio.ensure_future(outbox.get())
    await asyncio.wait({getting, task}, return_when=asyncio.FIRST_COMPLETED)
    if not getting.done():
        getting.cancel()
        error = task.exception() if not task.cancelled() else None
        raise ServerStartError(f"embedded server {phase} failed: {error}") from error
    message = getting.result()
    if message["type"] == f"lifespan.{phase}.failed":
        # Starlette re-raises the failure from the app call after reporting it.
        error = (await asyncio.gather(task, return_exceptions=True))[0]
        cause = error if isinstance(error, BaseException) else None
        raise ServerStartError(
            f"embedded server {phase} failed: {message.get('message') or cause}"
        ) from cause
