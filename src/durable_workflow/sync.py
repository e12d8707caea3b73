"""Synchronous wrapper of the async :class:`durable_workflow.Client`.

For scripts and notebooks::

    from durable_workflow.sync import Client

    with Client("http://localhost:8080", token="secret") as client:
        handle = client.start_workflow(workflow_type="greeter", task_queue="default", input=["world"])
        print(handle.result(timeout=10.0))

Every async client method is available under the same name and signature, returning the result
instead of an awaitable (the methods are explicit and typed: see ``_sync_methods.py``). The
calls run on a private event loop in a background thread, so the wrapper also works where an
event loop is already running (e.g. Jupyter).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from ._sync_methods import ClientMethods, WorkflowHandleMethods
from .client import Client as AsyncClient
from .client import WorkflowHandle as AsyncWorkflowHandle
from .metrics import MetricsRecorder

__all__ = ["Client", "WorkflowHandle"]

T = TypeVar("T")


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="durable-workflow-sync", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("the sync client cannot be called from its own event loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class WorkflowHandle(WorkflowHandleMethods):
    """Blocking counterpart of :class:`durable_workflow.client.WorkflowHandle`."""

    def __init__(self, runner: _LoopThread, handle: AsyncWorkflowHandle) -> None:
        self._runner = runner
        self._target = handle
        self.workflow_id = handle.workflow_id
        self.run_id = handle.run_id
        self.workflow_type = handle.workflow_type

    @property
    def async_handle(self) -> AsyncWorkflowHandle:
        """The wrapped async handle (its methods must run on the wrapper's loop)."""
        return self._target

    def _wrap_handle(self, handle: AsyncWorkflowHandle) -> WorkflowHandle:
        return WorkflowHandle(self._runner, handle)

    def __repr__(self) -> str:
        return f"sync.{self._target!r}"


class Client(ClientMethods):
    """Blocking client; same constructor arguments as :class:`durable_workflow.Client`.

    Call :meth:`close` (or use ``with``) to release the connection pool and the loop thread.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        runner = _LoopThread()
        try:
            client = AsyncClient(base_url, **kwargs)
        except BaseException:
            runner.stop()
            raise
        self._runner = runner
        self._target = client

    @property
    def async_client(self) -> AsyncClient:
        """The wrapped async client (its methods must run on the wrapper's loop)."""
        return self._target

    @property
    def base_url(self) -> str:
        """The server origin, as given."""
        return self._target.base_url

    @property
    def namespace(self) -> str:
        """The namespace every call is made in."""
        return self._target.namespace

    @property
    def metrics(self) -> MetricsRecorder:
        """The recorder of request metrics."""
        return self._target.metrics

    def _wrap_handle(self, handle: AsyncWorkflowHandle) -> WorkflowHandle:
        return WorkflowHandle(self._runner, handle)

    def close(self) -> None:
        """Close the connection pool and stop the background loop. Safe to call twice."""
        if not self._runner.loop.is_closed():
            self._runner.run(self._target.aclose())
            self._runner.stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
