"""Commands on a workflow's run: cancel, terminate, repair, archive, pause, resume.

The same commands the server serves in ``http/run_commands.py`` and ``http/pausing.py``: each
is one ``POST`` on the instance route (or the run route, given a ``run_id``) with an optional
``reason``.
"""

from __future__ import annotations

from typing import Any

from ..protocol import routes
from ._base import BaseClient
from ._results import WorkflowCommandResult


class RunCommandsMixin(BaseClient):
    """Run commands of :class:`durable_workflow.Client`; the base of ``WorkflowsMixin``, for handles."""

    async def cancel_workflow(
        self, workflow_id: str, reason: str | None = None, *, run_id: str | None = None
    ) -> WorkflowCommandResult:
        """Cancel the workflow's current run (or ``run_id``, which must be the open run).

        Returns:
            The command result (``outcome``, ``command_status``, ``command_id``).

        Raises:
            WorkflowNotFound: No workflow with this id.
        """
        route = routes.WORKFLOW_CANCEL if run_id is None else routes.WORKFLOW_RUN_CANCEL
        data = await self._command(route, workflow_id, "cancel", reason, run_id=run_id)
        return WorkflowCommandResult.from_dict(data, workflow_id=workflow_id)

    async def terminate_workflow(
        self, workflow_id: str, reason: str | None = None, *, run_id: str | None = None
    ) -> WorkflowCommandResult:
        """Terminate the workflow's current run (or ``run_id``) at once.

        Returns:
            The command result (``outcome``, ``command_status``, ``command_id``).

        Raises:
            WorkflowNotFound: No workflow with this id.
        """
        route = routes.WORKFLOW_TERMINATE if run_id is None else routes.WORKFLOW_RUN_TERMINATE
        data = await self._command(route, workflow_id, "terminate", reason, run_id=run_id)
        return WorkflowCommandResult.from_dict(data, workflow_id=workflow_id)

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
        self,
        route: str,
        workflow_id: str,
        operation: str,
        reason: str | None = None,
        *,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        params = {"workflow_id": workflow_id}
        if run_id is not None:
            params["run_id"] = run_id
        return await self._request_object(
            "POST",
            route,
            path_params=params,
            body={} if reason is None else {"reason": reason},
            operation=operation,
        )
