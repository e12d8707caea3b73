"""The workers running in this process beside a ``Client``, for the eager first workflow task.

A ``Worker`` whose server advertises ``eager_start_workflow_task`` adds itself here for its task
queue (``durable_workflow.worker._eager``); ``Client.start_workflow`` then asks the server to
lease the new run's first workflow task to one of them, but only to one that has a free
workflow slot right now, reserved before the request goes out and given back when the answer
brings no task. Nothing else in the client uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class TaskReservation(Protocol):
    """A workflow slot a worker reserved for the task a request may bring back."""

    def take(self, raws: Iterable[Mapping[str, Any]]) -> None:
        """Run the returned task(s) on the reserved slot."""

    def close(self) -> None:
        """Give back the slot if no task came for it."""


class LocalWorker(Protocol):
    """What a worker offers the client that starts workflows on its queue."""

    @property
    def worker_id(self) -> str:
        """The id the server leases the task to."""

    def runs(self, workflow_type: str) -> bool:
        """The worker has this workflow type registered."""

    async def reserve_workflow_slot(self) -> TaskReservation | None:
        """A free workflow slot, reserved without waiting; ``None`` when every slot is busy."""


class LocalWorkers:
    """The in-process workers of one client, by task queue."""

    def __init__(self) -> None:
        self._by_queue: dict[str, list[LocalWorker]] = {}

    def add(self, task_queue: str, worker: LocalWorker) -> None:
        self._by_queue.setdefault(task_queue, []).append(worker)

    def remove(self, task_queue: str, worker: LocalWorker) -> None:
        workers = self._by_queue.get(task_queue, [])
        if worker in workers:
            workers.remove(worker)
        if not workers:
            self._by_queue.pop(task_queue, None)

    async def reserve(self, task_queue: str, workflow_type: str) -> tuple[str, TaskReservation] | None:
        """``(worker_id, reservation)`` of a worker that can take this run's first task now."""
        for worker in self._by_queue.get(task_queue, ()):
            if not worker.runs(workflow_type):
                continue
            reservation = await worker.reserve_workflow_slot()
            if reservation is not None:
                return worker.worker_id, reservation
        return None


def local_workers(client: object) -> LocalWorkers:
    """The registry kept on ``client`` (created at first use)."""
    registry = getattr(client, "_local_workers", None)
    if not isinstance(registry, LocalWorkers):
        registry = LocalWorkers()
        client._local_workers = registry  # type: ignore[attr-defined]
    return registry
