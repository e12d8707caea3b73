"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol

from .shapes import (
    BuildIdRolloutBody,
    BuildIdRolloutStateBody,
    TaskQueueDescriptionBody,
    TaskQueueListBody,
    WorkerDeregisteredBody,
    WorkerDescriptionBody,
    WorkerListBody,
)


class TaskQueueAPI(Protocol):
    """Task queues, build-id cohorts and the worker registry's operator view."""

    async def list_task_queues(self, namespace: str) -> TaskQueueListBody:
        """Every queue of the namespace (tasks ever queued or workers registered) with its facts."""
        ...

    async def describe_task_queue(self, namespace: str, task_queue: str) -> TaskQueueDescriptionBody:
        """One queue's pollers, stats, current leases, repair and admission facts (empty if unknown)."""
        ...

    async def list_task_queue_build_ids(self, namespace: str, task_queue: str) -> BuildIdRolloutBody:
        """The queue's build-id cohorts, from registrations and recorded intents, in rollout order."""
        ...

    async def drain_task_queue_build_id(
        self, namespace: str, task_queue: str, build_id: str | None
    ) -> BuildIdRolloutStateBody:
        """Stop the cohort claiming new tasks (its in-flight leases finish); idempotent."""
        ...

    async def resume_task_queue_build_id(
        self, namespace: str, task_queue: str, build_id: str | None
    ) -> BuildIdRolloutStateBody:
        """Let a drained cohort claim again; idempotent."""
        ...

    async def promote_task_queue_build_id(
        self, namespace: str, task_queue: str, build_id: str | None
    ) -> BuildIdRolloutStateBody:
        """Pin runs created from now on on the queue to the cohort; idempotent."""
        ...

    async def list_workers(
        self, namespace: str, *, task_queue: str | None = None, status: str | None = None
    ) -> WorkerListBody:
        """Registered workers, most recent heartbeat first (``status`` matches the reported status)."""
        ...

    async def describe_worker(self, namespace: str, worker_id: str) -> WorkerDescriptionBody:
        """One registration with its admission (``worker_not_found`` when absent)."""
        ...

    async def deregister_worker(self, namespace: str, worker_id: str) -> WorkerDeregisteredBody:
        """Remove a registration (``already_absent`` when there is none); its leases run on."""
        ...
