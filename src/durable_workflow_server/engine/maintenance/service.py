"""The ``Engine`` mixin implementing :class:`.api.MaintenanceAPI`: each method hands its module
the engine's transaction openers (one write transaction per item, a read for the scans)."""

from __future__ import annotations

from collections.abc import Sequence

from durable_workflow.protocol.maintenance import (
    ActivityTimeoutPassResult,
    ActivityTimeoutStatus,
    RepairPassResult,
    RepairStatus,
    RetentionPassResult,
    RetentionStatus,
)

from ..core import EngineCore
from . import activity_timeouts, counters, metrics, repair_pass, retention


class MaintenanceCommands(EngineCore):
    """System maintenance passes: repair, retention, activity timeouts; the server's metrics."""

    async def repair_status(self, namespace: str) -> RepairStatus:
        return await repair_pass.status(self._read, self.settings, namespace, self.store.dialect)

    async def repair_pass(
        self, namespace: str, *, run_ids: Sequence[str] | None = None, instance_id: str | None = None
    ) -> RepairPassResult:
        return await repair_pass.run_pass(
            self._tx,
            self._read,
            self.settings,
            namespace,
            self.store.dialect,
            run_ids=run_ids,
            instance_id=instance_id,
        )

    async def retention_status(self, namespace: str, *, limit: int) -> RetentionStatus:
        return await retention.status(self._read, namespace, limit)

    async def retention_pass(
        self, namespace: str, *, run_ids: Sequence[str] | None = None, limit: int
    ) -> RetentionPassResult:
        return await retention.run_pass(self._tx, self._read, namespace, run_ids=run_ids, limit=limit)

    async def activity_timeout_status(self, namespace: str, *, limit: int) -> ActivityTimeoutStatus:
        return await activity_timeouts.status(self._read, namespace, limit)

    async def activity_timeout_pass(
        self, namespace: str, *, execution_ids: Sequence[str] | None = None, limit: int
    ) -> ActivityTimeoutPassResult:
        return await activity_timeouts.run_pass(
            self._tx,
            self._read,
            namespace,
            execution_ids=execution_ids,
            limit=limit,
            liveness=self.settings.worker_liveness_timeout_seconds,
            observed_since=self.observed_since,
        )

    async def server_metrics(self) -> counters.ServerMetricsSnapshot:
        # Read before this scrape's own statements: they show in the next scrape.
        statements: counters.Sample = {
            "name": counters.SQL_STATEMENTS,
            "labels": {},
            "value": float(self.store.tally.statements),
        }
        async with self._read() as tx:
            gauges = await counters.queue_depth(tx)
        return {"counters": [*self.counters.samples(), statements], "gauges": gauges}

    async def system_metrics(self, namespace: str) -> metrics.SystemMetricsBody:
        async with self._snapshot() as tx:
            return await metrics.system_metrics(tx, namespace)

    async def operator_metrics(self, namespace: str) -> metrics.OperatorMetricsBody:
        async with self._snapshot() as tx:
            return await metrics.operator_metrics(tx, self.settings, namespace, self.store.dialect)
