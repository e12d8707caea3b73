"""``WorkflowHandle``: a workflow id bound to a client, with handle-style methods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..protocol.wire import RunHistoryPage
    from ._client import Client
    from ._results import WorkflowCommandResult, WorkflowExecution, WorkflowRunList


class WorkflowHandle:
    """A started (or known) workflow. Every method forwards to the client that made it.

    Attributes:
        workflow_id: The workflow (instance) id.
        run_id: The run the handle was created for, when known. Results follow the workflow's
            current run, so a continued-as-new workflow still yields its final result.
        workflow_type: The workflow type, or ``""`` when unknown.
        raw: The server's whole start answer for a handle from ``start_workflow`` (``outcome``,
            ``business_key`` ...); ``{}`` for a handle made from a known id.
    """

    def __init__(
        self,
        client: Client,
        workflow_id: str,
        run_id: str | None = None,
        workflow_type: str = "",
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        self._client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type
        self.raw: dict[str, Any] = dict(raw or {})

    def __repr__(self) -> str:
        return (
            f"WorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r}, "
            f"workflow_type={self.workflow_type!r})"
        )

    async def result(self, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        """Wait for the workflow to finish and return its decoded output (see ``Client.get_result``)."""
        return await self._client.get_result(self, poll_interval=poll_interval, timeout=timeout)

    async def describe(self) -> WorkflowExecution:
        """Describe the workflow's current run."""
        return await self._client.describe_workflow(self.workflow_id)

    async def list_runs(self) -> WorkflowRunList:
        """List every run of this workflow id."""
        return await self._client.list_workflow_runs(self.workflow_id)

    async def get_history(
        self, *, page_size: int | None = None, next_page_token: str | None = None
    ) -> RunHistoryPage:
        """Read one page of this run's history (needs ``run_id``)."""
        if not self.run_id:
            raise ValueError("this handle has no run_id; describe() the workflow first")
        return await self._client.get_history(
            self.workflow_id, self.run_id, page_size=page_size, next_page_token=next_page_token
        )

    async def signal(
        self, name: str, args: list[Any] | None = None, *, request_id: str | None = None
    ) -> None:
        """Send signal ``name`` with positional ``args``."""
        await self._client.signal_workflow(self.workflow_id, name, args, request_id=request_id)

    async def query(self, name: str, args: list[Any] | None = None) -> Any:
        """Run query ``name`` and return its decoded result."""
        return await self._client.query_workflow(self.workflow_id, name, args)

    async def update(
        self,
        name: str,
        args: list[Any] | None = None,
        *,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> Any:
        """Send update ``name`` and return its decoded result (``None`` until it completed)."""
        return await self._client.update_workflow(
            self.workflow_id,
            name,
            args,
            wait_for=wait_for,
            wait_timeout_seconds=wait_timeout_seconds,
            request_id=request_id,
        )

    async def cancel(self, reason: str | None = None) -> None:
        """Cancel the workflow."""
        await self._client.cancel_workflow(self.workflow_id, reason)

    async def terminate(self, reason: str | None = None) -> None:
        """Terminate the workflow."""
        await self._client.terminate_workflow(self.workflow_id, reason)

    async def pause(self, reason: str | None = None) -> WorkflowCommandResult:
        """Pause the workflow (see :meth:`Client.pause_workflow`)."""
        return await self._client.pause_workflow(self.workflow_id, reason)

    async def resume(self) -> WorkflowCommandResult:
        """Resume the paused workflow (see :meth:`Client.resume_workflow`)."""
        return await self._client.resume_workflow(self.workflow_id)
