"""Running ``dw`` in tests: the click app through ``CliRunner`` with a transport injected through
the CLI's one seam (``Runtime``), recording transports, and the real server on its own loop.

The CLI runs its own event loop per command (``asyncio.run``), so the in-process server cannot
share a loop with it: :func:`server_thread` runs the app (and, optionally, the real SDK worker)
on a loop in a background thread, and :class:`LoopBridge` is an httpx transport that hands each
request to that loop's ASGI transport. No sockets are involved.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from click.testing import CliRunner, Result

from durable_workflow_cli.cli import dw
from durable_workflow_cli.runtime import Runtime

T = TypeVar("T")
# Variables a developer's shell may set that would change what the CLI resolves.
CLEARED_ENV = (
    "DURABLE_WORKFLOW_SERVER_URL",
    "DURABLE_WORKFLOW_NAMESPACE",
    "DURABLE_WORKFLOW_AUTH_TOKEN",
    "DURABLE_WORKFLOW_TLS_VERIFY",
    "DW_ENV",
    "NO_COLOR",
)


def compatible_cluster_info(**overrides: Any) -> dict[str, Any]:
    """A ``/cluster/info`` body the preflight accepts."""
    info: dict[str, Any] = {
        "server_id": "test-server",
        "version": "0.1.0",
        "default_namespace": "default",
        "control_plane": {
            "version": "2",
            "header": "X-Durable-Workflow-Control-Plane-Version",
            "request_contract": {
                "schema": "durable-workflow.v2.control-plane-request.contract",
                "version": 1,
                "operations": {},
            },
        },
        "worker_protocol": {"version": "1.1"},
        "client_compatibility": {"clients": {"cli": {"supported_versions": ">=0.1,<1.0"}}},
    }
    info.update(overrides)
    return info


@dataclass
class Recorder:
    """A fake server: answers ``/cluster/info`` with a compatible body, everything else with
    ``answer(request)``, and records every request but the preflight's."""

    answer: Callable[[httpx.Request], httpx.Response]
    cluster_info: dict[str, Any] = field(default_factory=compatible_cluster_info)
    requests: list[httpx.Request] = field(default_factory=list)
    preflights: int = 0

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/api/cluster/info":
                self.preflights += 1
                return httpx.Response(
                    200, json=self.cluster_info, headers={"X-Durable-Workflow-Control-Plane-Version": "2"}
                )
            self.requests.append(request)
            return self.answer(request)

        return httpx.MockTransport(handler)


def invoke(
    args: list[str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    config_home: Path | None = None,
    env: Mapping[str, str] | None = None,
    runtime: Runtime | None = None,
    input: str | None = None,
) -> Result:
    """Run ``dw args`` in process; stdout and stderr are kept apart (``result.stdout/stderr``)."""
    values: dict[str, str | None] = dict.fromkeys(CLEARED_ENV)
    if config_home is not None:
        values["DW_CONFIG_HOME"] = str(config_home)
    values.update(env or {})
    obj = runtime or Runtime(transport=transport, poll_interval=0.01)
    if runtime is not None and transport is not None:
        obj.transport = transport
    return CliRunner().invoke(dw, args, obj=obj, env=values, input=input, catch_exceptions=False)


def one_document(result: Result) -> Any:
    """stdout parsed as exactly one JSON document."""
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got {result.stdout!r}"
    return json.loads(lines[0])


def validate_published(document: Any, command: str, *, jsonl: bool = False) -> None:
    """Check ``document`` against the schema ``dw`` itself publishes for ``command`` (``dw
    schema:show``), when it publishes one; the commands it does not yet are listed by the
    conformance tier's schema test."""
    from jsonschema import Draft202012Validator

    from durable_workflow_cli import schemas

    found = schemas.records().get(command) if jsonl else (schemas.outputs().get(command) or (None, None))[1]
    if found is None:
        return
    errors = sorted(Draft202012Validator(schemas.rendered(found)).iter_errors(document), key=str)
    assert not errors, f"{command} output does not match dw's own {found.name} schema: {errors[0]}"


def validate_output(document: Any, command: str, *, jsonl: bool = False) -> None:
    """Check ``document`` against ``dw``'s own published schema of ``command`` and, where the
    contract data is, against the contract's.

    The contract's schemas belong to the shared contract data (never copied here): without it
    there is nothing to check against, and the conformance tier says so in its one skip line.
    """
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from tests.helpers.contract import contract_dir

    validate_published(document, command, jsonl=jsonl)

    folder = contract_dir() / "cli-output-schemas"
    if not folder.is_dir():
        return
    schemas = [json.loads(p.read_text()) for p in folder.glob("*.schema.json")]
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["jsonl_commands" if jsonl else "commands"][command]
    schema = json.loads((folder / Path(entry["schema"]).name).read_text())
    errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(document), key=str)
    assert not errors, f"{command} output does not match {entry['schema']}: {errors[0]}"


class LoopBridge(httpx.AsyncBaseTransport):
    """An httpx transport that serves each request through ``inner`` on another thread's loop."""

    def __init__(self, inner: httpx.AsyncBaseTransport, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = inner
        self._loop = loop

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()

        async def serve() -> httpx.Response:
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._inner.handle_async_request(forwarded)
            body = await response.aread()  # decoded: the encoding headers no longer apply
            headers = [
                (k, v)
                for k, v in response.headers.items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx.Response(response.status_code, headers=headers, content=body)

        future = asyncio.run_coroutine_threadsafe(serve(), self._loop)
        return await asyncio.wrap_future(future)


@dataclass
class ServerThread:
    """The in-process server on its own loop; ``transport()`` is what the CLI is given."""

    app: Any
    loop: asyncio.AbstractEventLoop

    def transport(self) -> LoopBridge:
        return LoopBridge(httpx.ASGITransport(app=self.app), self.loop)

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the server's loop and wait for its value."""

        async def wrapped() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def spawn(self, coro: Awaitable[Any]) -> Future[Any]:
        """Start ``coro`` on the server's loop without waiting for it."""

        async def wrapped() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop)


@contextmanager
def server_thread(settings: Any) -> Iterator[ServerThread]:
    """Start ``create_app(settings)`` (lifespan entered) on a loop in a daemon thread."""
    from asgi_lifespan import LifespanManager

    from durable_workflow_server import create_app

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dw-cli-test-server", daemon=True)
    thread.start()
    app = create_app(settings)
    managers: list[LifespanManager] = []

    async def enter() -> None:
        # The manager finds its async library when made, so it is made on the server's loop.
        managers.append(LifespanManager(app, startup_timeout=30, shutdown_timeout=30))
        await managers[0].__aenter__()

    async def leave() -> None:
        await managers[0].__aexit__(None, None, None)

    asyncio.run_coroutine_threadsafe(enter(), loop).result(60)
    try:
        yield ServerThread(app, loop)
    finally:
        try:
            asyncio.run_coroutine_threadsafe(leave(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()


def dw_on(
    srv: ServerThread, config_home: Path, *args: str, token: str | None = None, runtime: Runtime | None = None
) -> Result:
    """``dw args`` against the in-process server ``srv``, with the e2e token unless ``token``."""
    from tests.helpers.e2e_env import TOKEN

    return invoke(
        ["--server=http://testserver", f"--token={token or TOKEN}", *args],
        transport=srv.transport(),
        config_home=config_home,
        runtime=runtime,
    )


def dw_json_on(srv: ServerThread, config_home: Path, command: str, *args: str) -> Any:
    """``dw command args --json`` against ``srv``: exit 0 and one document valid for its schema."""
    result = dw_on(srv, config_home, command, *args, "--json")
    assert result.exit_code == 0, result.output
    document = one_document(result)
    validate_output(document, command)
    return document
