"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from durable_workflow.protocol.maintenance import (
    ActivityTimeoutPassResult,
    ActivityTimeoutStatus,
    RepairPassResult,
    RepairStatus,
    RetentionPassResult,
    RetentionStatus,
)

from .counters import ServerMetricsSnapshot
from .metrics import OperatorMetricsBody, SystemMetricsBody


class MaintenanceAPI(Protocol):
    """System maintenance passes: repair, retention, activity timeouts; the server's metrics.

    Each is scoped to one namespace, safe to repeat (nothing to do answers zero counters and
    writes nothing), and acts on each selected item in its own transaction.
    """

    async def repair_status(self, namespace: str) -> RepairStatus:
        """The repair policy and the runs whose work is lost or stuck now."""
        ...

    async def repair_pass(
        self, namespace: str, *, run_ids: Sequence[str] | None = None, instance_id: str | None = None
    ) -> RepairPassResult:
        """Repair the oldest candidates (optionally only ``run_ids`` / the runs of ``instance_id``)."""
        ...

    async def retention_status(self, namespace: str, *, limit: int) -> RetentionStatus:
        """The retention window, its cutoff and the oldest ``limit`` expired closed runs."""
        ...

    async def retention_pass(
        self, namespace: str, *, run_ids: Sequence[str] | None = None, limit: int
    ) -> RetentionPassResult:
        """Prune the named runs or the oldest ``limit`` expired ones, with everything they own."""
        ...

    async def activity_timeout_status(self, namespace: str, *, limit: int) -> ActivityTimeoutStatus:
        """Open activity executions with a deadline already passed (at most ``limit`` tasks scanned)."""
        ...

    async def activity_timeout_pass(
        self, namespace: str, *, execution_ids: Sequence[str] | None = None, limit: int
    ) -> ActivityTimeoutPassResult:
        """Enforce the passed deadlines of the named executions or of the expired ones."""
        ...

    async def server_metrics(self) -> ServerMetricsSnapshot:
        """This process's counters and, counted now, the ready tasks per namespace, queue and kind."""
        ...

    async def system_metrics(self, namespace: str) -> SystemMetricsBody:
        """``GET /system/metrics``: workflow-task failure streaks and projection drift (none here)."""
        ...

    async def operator_metrics(self, namespace: str) -> OperatorMetricsBody:
        """``GET /system/operator-metrics``: the namespace's runs, tasks, backlog, workers and limits."""
        ...
