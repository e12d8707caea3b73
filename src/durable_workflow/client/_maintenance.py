"""Admin-only system maintenance: repair, retention and activity-timeout passes, operator metrics.

Each method needs a token with the admin role (the server answers 403 otherwise, raised as
:class:`~durable_workflow.errors.Forbidden`), acts on the client's namespace, and returns
the server's JSON report as a typed dict (the shapes of :mod:`durable_workflow.protocol.maintenance`).
A pass with nothing to do returns zero counters, so the passes are safe to call from cron.
A pass in which some item failed is answered 207: the report is returned all the same, its
failure lists (or ``failed`` count and ``error`` results) say which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from ..protocol import routes
from ..protocol.maintenance import (
    ActivityTimeoutPassResult,
    ActivityTimeoutStatus,
    OperatorMetrics,
    RepairPassResult,
    RepairStatus,
    RetentionPassResult,
    RetentionStatus,
)
from ._base import BaseClient


def _filters(**values: Any) -> dict[str, Any]:
    """Only the filters the caller gave (an empty list or string is no filter)."""
    body: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, (list, tuple, str)) and not value):
            continue
        body[key] = list(value) if isinstance(value, (list, tuple)) else value
    return body


class MaintenanceMixin(BaseClient):
    """Admin-only system maintenance methods of :class:`durable_workflow.Client`."""

    async def repair_status(self) -> RepairStatus:
        """The repair policy and the runs whose work is lost or stuck now (``dw system:repair-status``).

        Returns:
            ``{"policy": {...}, "candidates": {...}}``: existing-task candidates (a lease that
            ran out, a ready task nobody claimed within ``redispatch_after_seconds``) and
            missing-task candidates (an open run with no task and nothing to wake it), per
            task queue in ``candidates["scopes"]``.
        """
        data = await self._request_object("GET", routes.SYSTEM_REPAIR)
        return cast(RepairStatus, data)

    async def repair_pass(
        self, run_ids: Sequence[str] | None = None, instance_id: str | None = None
    ) -> RepairPassResult:
        """Run one task-repair sweep over the namespace (``dw system:repair-pass``).

        Args:
            run_ids: Only these workflow runs (at most 100).
            instance_id: Only the runs of this workflow instance.

        Returns:
            The sweep's report: ``repaired_existing_tasks``, ``repaired_missing_tasks``,
            ``dispatched_tasks``, the ``selected_*`` counts and the failure lists.
        """
        body = _filters(run_ids=run_ids, instance_id=instance_id)
        data = await self._request_object("POST", routes.SYSTEM_REPAIR_PASS, body=body)
        return cast(RepairPassResult, data)

    async def retention_status(self) -> RetentionStatus:
        """The namespace's retention window, its cutoff and the closed runs older than it
        (up to the server's scan limit) (``dw system:retention-status``)."""
        data = await self._request_object("GET", routes.SYSTEM_RETENTION)
        return cast(RetentionStatus, data)

    async def retention_pass(
        self, run_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> RetentionPassResult:
        """Prune closed runs older than the namespace's retention window (``dw system:retention-pass``).

        Args:
            run_ids: Only these runs (at most 100); open or unexpired ones are skipped.
            limit: At most this many runs in this pass (the server caps it at 100).

        Returns:
            ``processed``, ``pruned``, ``skipped``, ``failed`` and one result per run.
        """
        body = _filters(run_ids=run_ids, limit=limit)
        data = await self._request_object("POST", routes.SYSTEM_RETENTION_PASS, body=body)
        return cast(RetentionPassResult, data)

    async def activity_timeout_status(self) -> ActivityTimeoutStatus:
        """Activity executions already past a deadline, up to the server's scan limit
        (``dw system:activity-timeout-status``)."""
        data = await self._request_object("GET", routes.SYSTEM_ACTIVITY_TIMEOUTS)
        return cast(ActivityTimeoutStatus, data)

    async def activity_timeout_pass(
        self, execution_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> ActivityTimeoutPassResult:
        """Enforce passed start-to-close and schedule-to-close (and the other) activity deadlines now
        (``dw system:activity-timeout-pass``).

        Args:
            execution_ids: Only these activity executions (at most 100).
            limit: At most this many executions in this pass (the server caps it at 100).

        Returns:
            ``processed``, ``enforced``, ``skipped``, ``failed`` and one result per execution.
        """
        body = _filters(execution_ids=execution_ids, limit=limit)
        data = await self._request_object("POST", routes.SYSTEM_ACTIVITY_TIMEOUTS_PASS, body=body)
        return cast(ActivityTimeoutPassResult, data)

    async def operator_metrics(self) -> OperatorMetrics:
        """A snapshot of the namespace for operators: runs, tasks, backlog, repair, workers,
        schedules, activities and the backend (``dw system:operator-metrics``)."""
        data = await self._request_object("GET", routes.SYSTEM_OPERATOR_METRICS)
        return cast(OperatorMetrics, data)
