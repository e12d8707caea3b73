"""The ``Engine`` mixin implementing :class:`.api.TaskQueueAPI`.

Reads run in one snapshot each (a queue's facts agree with each other); every change is one
transaction. A first drain, resume or promote of a cohort inserts its row: two racing first
writes make one fail on the primary key, and it is retried once (it then finds the row).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from sqlalchemy.exc import IntegrityError

from ...store.rows import TaskQueueBuildIdRow, WorkerRow
from ..core import EngineCore
from ..namespaces import rows as namespace_rows
from ..transaction import Tx
from ..workers import rows as worker_rows
from ..workers import views as worker_views
from ..workflow_tasks import sticky as workflow_task_sticky
from . import cohorts, rows, views
from .shapes import (
    BuildIdRolloutBody,
    BuildIdRolloutStateBody,
    TaskQueueDescriptionBody,
    TaskQueueListBody,
    WorkerDeregisteredBody,
    WorkerDescriptionBody,
    WorkerListBody,
)

_CohortChange = Callable[[Tx, str, str, str | None], Awaitable[BuildIdRolloutStateBody]]


class TaskQueueCommands(EngineCore):
    """Task queues, build-id cohorts and the worker registry's operator view."""

    @property
    def _stale_after(self) -> float:
        return self.settings.worker_stale_after_seconds

    # ------------------------------------------------------------------ task queues
    async def list_task_queues(self, namespace: str) -> TaskQueueListBody:
        async with self._snapshot() as tx:
            names = await views.queue_names(tx, namespace)
            return {
                "namespace": namespace,
                "task_queues": [
                    await views.summary(tx, namespace, name, self._stale_after) for name in names
                ],
            }

    async def describe_task_queue(self, namespace: str, task_queue: str) -> TaskQueueDescriptionBody:
        async with self._snapshot() as tx:
            return await views.describe(tx, namespace, task_queue, self._stale_after)

    # ------------------------------------------------------------------ build-id cohorts
    async def list_task_queue_build_ids(self, namespace: str, task_queue: str) -> BuildIdRolloutBody:
        params = {"b_namespace": namespace, "b_queue": task_queue}
        async with self._snapshot() as tx:
            workers = cast(list[WorkerRow], await tx.all(worker_rows.WORKERS_ON_QUEUE, params))
            intents = cast(list[TaskQueueBuildIdRow], await tx.all(rows.COHORTS_OF_QUEUE, params))
            return {
                "namespace": namespace,
                "task_queue": task_queue,
                "stale_after_seconds": max(1, int(self._stale_after)),
                "build_ids": cohorts.cohorts(workers, intents, tx.now, self._stale_after),
            }

    async def _change_cohort(
        self, change: _CohortChange, namespace: str, task_queue: str, build_id: str | None
    ) -> BuildIdRolloutStateBody:
        for attempt in range(2):
            try:
                async for txn in self._tx():
                    async with txn as tx:
                        # Still there when the cohort row is written (the HTTP check may be stale).
                        await namespace_rows.require(tx, namespace)
                        return await change(tx, namespace, task_queue, build_id)
            except IntegrityError:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def drain_task_queue_build_id(
        self, namespace: str, task_queue: str, build_id: str | None
    ) -> BuildIdRolloutStateBody:
        return await self._change_cohort(cohorts.drain, namespace, task_queue, build_id)

    async def resume_task_queue_build_id(
        self, namespace: str, task_queue: str, build_id: str | None
    ) -> BuildIdRolloutStateBody:
        return await self._change_cohort(cohorts.resume, namespace, task_queue, build_id)

    async def promote_task_queue_build_id(
        self, namespace: str, task_queue: str, build_id: str | None
    ) -> BuildIdRolloutStateBody:
        return await self._change_cohort(cohorts.promote, namespace, task_queue, build_id)

    # ------------------------------------------------------------------ workers
    async def list_workers(
        self, namespace: str, *, task_queue: str | None = None, status: str | None = None
    ) -> WorkerListBody:
        async with self._read() as tx:
            return await worker_views.list_workers(
                tx, namespace, task_queue=task_queue, status=status, stale_after=self._stale_after
            )

    async def describe_worker(self, namespace: str, worker_id: str) -> WorkerDescriptionBody:
        async with self._snapshot() as tx:
            return await worker_views.describe_worker(
                tx, namespace, worker_id, self._stale_after, self.settings.worker_heartbeat_interval_seconds
            )

    async def deregister_worker(self, namespace: str, worker_id: str) -> WorkerDeregisteredBody:
        async for txn in self._tx():
            async with txn as tx:
                # A deregistered worker polls no more: the runs it kept are anyone's at once.
                await workflow_task_sticky.end_for_worker(tx, namespace, worker_id)
                return await worker_views.deregister_worker(tx, namespace, worker_id)
        raise AssertionError("unreachable: every attempt returns or raises")
