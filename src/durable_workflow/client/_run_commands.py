"""Commands on a workflow's current run: cancel, terminate, repair, archive, pause, resume.

The same commands the server serves in ``http/run_commands.py`` and ``http/pausing.py``: each
is one ``POST`` on the instance route with an optional ``reason``.
"""

from __future__ import annotations

from typing import Any

from ..protocol import routes
from ._base import BaseClient
from ._results import WorkflowCommandResult


class RunCommandsMixin(BaseClient):
    """Run commands of :class:`durable_workflow.Client`; the base of ``WorkflowsMixin``, for handles."""

    async def cancel_workflow(self, workflow_id: str, reason: str | None = None) -> None:
        """Cancel the workflow's current run.

        Raises:
            WorkflowNotFound: No workflow with this id.
        """
        await self._command(routes.WORKFLOW_CANCEL, workflow_id, "cancel", reason)

    async def terminate_workflow(self, workflow_id: str, reason: str | None = None) -> None:
        """Terminate the workflow's current run at once.

        Raises:
            WorkflowNotFound: No workflow with this id.
        """
        await self._command(routes.WORKFLOW_TERMINATE, workflow_id, "terminate", reason)

    async def repair_workflow(self, workflow_id: str) -> WorkflowCommandResult:
        """Ask the server to re-dispatch lost work for the workflow's current run.

        Raises:
            WorkflowNotFound: No workflow with this id.
        """
        data = await self._command(routes.WORKFLOW_REPAIR, workflow_id, "repair")
        return WorkflowCommandResult.from_dict(data, workflow_id=workflow_id)

    async def archive_workflow(self, workflow_id: str, reason: str | None = None) -> WorkflowCommandResult:
        """Archive a closed workflow.

        Raises:
            WorkflowNotFound: No workflow with this id.
        """
        data = await self._command(routes.WORKFLOW_ARCHIVE, workflow_id, "archive", reason)
        return WorkflowCommandResult.from_dict(data, workflow_id=workflow_id)

    async def pause_workflow(self, workflow_id: str, reason: str | None = None) -> WorkflowCommandResult:
        """Pause the workflow's current run: it gets no new workflow tasks or activity dispatches.

        Work already handed to a worker finishes and is recorded; signals and updates sent while
        the run is paused are recorded and delivered once it resumes. An extension of the
        contract: servers that serve it say ``capabilities.workflow_pause: true`` in cluster-info.

        Returns:
            The command result; ``outcome`` is ``"paused"``, or ``"already_paused"`` when the run
            was paused already (nothing changes then).

        Raises:
            WorkflowNotFound: No workflow with this id.
            ServerError: The run is closed (``reason == "run_not_active"``).
        """
        data = await self._command(routes.WORKFLOW_PAUSE, workflow_id, "pause", reason)
        return WorkflowCommandResult.from_dict(data, workflow_id=workflow_id)

    async def resume_workflow(self, workflow_id: str) -> WorkflowCommandResult:
        """Resume a paused workflow: its held workflow and activity tasks are dispatched again.

        Returns:
            The command result; ``outcome`` is ``"resumed"``, or ``"not_paused"`` when the run
            was not paused (nothing changes then).

        Raises:
            WorkflowNotFound: No workflow with this id.
            ServerError: The run is closed (``reason == "run_not_active"``).
        """
        data = await self._command(routes.WORKFLOW_RESUME, workflow_id, "resume")
        return WorkflowCommandResult.from_dict(data, workflow_id=workflow_id)

    async def _command(
        self, route: str, workflow_id: str, operation: str, reason: str | None = None
    ) -> dict[str, Any]:
        return await self._request_object(
            "POST",
            route,
            path_params={"workflow_id": workflow_id},
            body={} if reason is None else {"reason": reason},
            operation=operation,
        )
