"""The synchronous client wrapper."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import inspect
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from durable_workflow import sync
from durable_workflow.errors import WorkflowNotFound
from durable_workflow.protocol import codec
from durable_workflow.sync import Client, WorkflowHandle


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/workflows" and request.method == "POST":
        return httpx.Response(201, json={"workflow_id": "sync-1", "run_id": "r1", "workflow_type": "greeter"})
    if path == "/api/workflows/sync-1":
        return httpx.Response(200, json={"workflow_id": "sync-1", "run_id": "r1", "status": "completed"})
    if path == "/api/workflows/sync-1/runs/r1/history":
        event = {"event_type": "WorkflowCompleted", "payload": {"output": codec.encode("hi")}}
        return httpx.Response(200, json={"events": [event], "next_page_token": None})
    return httpx.Response(404, json={"reason": "instance_not_found", "message": "no"})


def test_sync_client_round_trip() -> None:
    with Client("http://dw.test", token="t", transport=httpx.MockTransport(handler)) as client:
        handle = client.start_workflow(workflow_type="greeter", task_queue="default", input=["world"])
        assert isinstance(handle, WorkflowHandle)
        assert (handle.workflow_id, handle.run_id) == ("sync-1", "r1")
        assert client.describe_workflow("sync-1").status == "completed"
        assert handle.result(poll_interval=0, timeout=1) == "hi"
        assert client.get_workflow_handle("sync-1").describe().run_id == "r1"
        assert "start_workflow" in dir(client)
        assert (client.base_url, client.namespace) == (client.async_client.base_url, "default")
        assert client.metrics is client.async_client.metrics
        with pytest.raises(WorkflowNotFound):
            client.describe_workflow("other")
    client.close()  # idempotent


def test_sync_client_works_inside_a_running_loop() -> None:
    async def inside() -> Any:
        client = Client("http://dw.test", transport=httpx.MockTransport(handler))
        try:
            return client.describe_workflow("sync-1").status
        finally:
            client.close()

    assert asyncio.run(inside()) == "completed"


def test_sync_client_bad_arguments_do_not_leak_threads() -> None:
    with pytest.raises(ValueError):
        Client("http://dw.test", payload_size_limit_bytes=0)


def _generator() -> ModuleType:
    """``scripts/gen_sync_client.py``, loaded from its path (scripts/ is not a package)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "gen_sync_client.py"
    spec = importlib.util.spec_from_file_location("gen_sync_client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _rendered() -> dict[str, str]:
    """Every generated file (rendering runs ruff on each, so once per session)."""
    rendered: dict[str, str] = _generator().render()
    return rendered


def test_the_generated_blocking_surface_matches_the_async_client() -> None:
    generator = _generator()
    # Every file of the package: a stale one, a missing one and one no longer generated all fail.
    assert generator.differences(generator.TARGET_DIR, _rendered()) == [], (
        "durable_workflow/_sync/ is stale: run .venv/bin/python scripts/gen_sync_client.py --write"
    )


def test_write_brings_the_package_in_line_and_removes_what_is_no_longer_generated(tmp_path: Path) -> None:
    generator = _generator()
    generator.write(tmp_path, _rendered())
    assert generator.differences(tmp_path, _rendered()) == []
    (tmp_path / "_base.py").write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "_handles.py").unlink()
    (tmp_path / "_retired.py").write_text("", encoding="utf-8")
    assert generator.differences(tmp_path, _rendered()) == [
        "stale: _base.py",
        "missing: _handles.py",
        "no longer generated: _retired.py",
    ]
    generator.write(tmp_path, _rendered())
    assert generator.differences(tmp_path, _rendered()) == []
    assert not (tmp_path / "_retired.py").exists()


def test_every_generated_module_stays_small() -> None:
    # The project's module-size rule; a part of the async client that outgrows it wants splitting.
    sizes = {name: source.count("\n") for name, source in _rendered().items()}
    assert max(sizes.values()) < 500, sizes


# Public names of the async client that the sync one deliberately lacks: its close() is the
# blocking aclose().
NOT_ON_THE_SYNC_CLIENT = {"aclose"}


def test_every_public_attribute_of_the_async_client_is_on_the_sync_one() -> None:
    transport = httpx.MockTransport(handler)
    with Client("http://dw.test", timeout=7.5, payload_size_warnings=False, transport=transport) as client:
        async_client = client.async_client
        public = {name for name in dir(async_client) if not name.startswith("_")}
        # The attributes set in __init__ are part of it, not only the methods.
        assert {"timeout", "retry_policy", "payload_size_limit_bytes", "server_long_poll_timeout"} <= public
        missing = sorted(public - NOT_ON_THE_SYNC_CLIENT - set(dir(client)))
        assert missing == []
        for name in sorted(public - NOT_ON_THE_SYNC_CLIENT):
            value = getattr(async_client, name)
            if not callable(value):
                assert getattr(client, name) is value, name
        assert (client.timeout, client.payload_size_warnings) == (7.5, False)
        assert client.poll_timeout(None) == async_client.poll_timeout(None)


def test_the_constructor_has_the_async_clients_parameters() -> None:
    from durable_workflow.client import Client as AsyncClient

    blocking = inspect.signature(Client.__init__).parameters
    original = inspect.signature(AsyncClient.__init__).parameters
    assert [(p.name, p.kind, p.default, str(p.annotation)) for p in blocking.values()] == [
        (p.name, p.kind, p.default, str(p.annotation)) for p in original.values()
    ]


def _handle_pairs() -> list[tuple[type, type]]:
    """(async handle class, blocking handle class) for every handle the async client exports."""
    import durable_workflow.client as async_client

    pairs = [(getattr(async_client, name), getattr(sync, name)) for name in sync.HANDLES]
    exported = {n for n in async_client.__all__ if n.endswith("Handle")}
    assert set(sync.HANDLES) == exported and set(sync.HANDLES) <= set(sync.__all__)
    return pairs


def test_every_async_method_has_a_blocking_twin_with_the_same_parameters() -> None:
    from durable_workflow.client import Client as AsyncClient

    for async_cls, sync_cls in [(AsyncClient, Client), *_handle_pairs()]:
        for name, fn in inspect.getmembers(async_cls, inspect.isfunction):
            if name.startswith("_") or name in NOT_ON_THE_SYNC_CLIENT:
                continue
            blocking = getattr(sync_cls, name)
            assert not inspect.iscoroutinefunction(blocking), name
            assert list(inspect.signature(blocking).parameters) == list(inspect.signature(fn).parameters)


def test_handles_read_their_attributes_through_to_the_async_handle() -> None:
    with Client("http://dw.test", transport=httpx.MockTransport(handler)) as client:
        handle = client.get_workflow_handle("sync-1", run_id="r1", workflow_type="greeter")
        assert (handle.workflow_id, handle.run_id, handle.workflow_type) == ("sync-1", "r1", "greeter")
        assert handle.async_handle.workflow_id == "sync-1" and repr(handle).startswith("sync.WorkflowHandle(")
        # A sync handle passed back to the client is unwrapped to its async handle.
        assert client.get_result(handle, poll_interval=0, timeout=1) == "hi"


def test_an_async_iterator_is_iterated_on_the_loop_and_closed_when_left_early() -> None:
    runner = sync._LoopThread()
    seen: list[tuple[int, bool]] = []
    closed: list[bool] = []

    async def numbers() -> Any:
        try:
            for number in range(5):
                # Each item is produced on the runner's loop thread, never the caller's.
                seen.append((number, threading.current_thread() is runner.thread))
                yield number
        finally:
            closed.append(threading.current_thread() is runner.thread)

    try:
        assert list(runner.iterate(numbers())) == [0, 1, 2, 3, 4]
        assert all(on_loop for _, on_loop in seen) and closed == [True]
        for number in runner.iterate(numbers()):
            if number == 1:
                break
        assert closed == [True, True]  # the early exit closed the generator, on the loop
    finally:
        runner.stop()


class _FakeHandle:
    def __init__(self, client: Any, thing_id: str) -> None:
        self._client = client
        self.thing_id = thing_id

    async def things(self) -> AsyncIterator[int]:  # pragma: no cover - only its signature is read
        yield 1

    async def again(self) -> _FakeHandle:  # pragma: no cover - only its signature is read
        return self

    async def maybe(self) -> _FakeHandle | None:  # pragma: no cover - only its signature is read
        return None


def test_the_generator_maps_handles_and_async_iterators() -> None:
    generator = _generator()
    writer = generator.Writer([_FakeHandle], generator.Imports(local=["_FakeHandle"]))
    things = "\n".join(writer.method("_FakeHandle", "things", _FakeHandle.things))
    assert "-> Iterator[int]:" in things and "self._runner.iterate(self._target.things())" in things
    again = "\n".join(writer.method("_FakeHandle", "again", _FakeHandle.again))
    assert "return _FakeHandle(self._runner, self._runner.run(self._target.again()))" in again
    assert generator._attributes(_FakeHandle) == [("thing_id", "str")]
    # A handle inside another type cannot be wrapped: the generator refuses instead of leaking it.
    with pytest.raises(SystemExit, match="cannot map"):
        writer.method("_FakeHandle", "maybe", _FakeHandle.maybe)
