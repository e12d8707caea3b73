"""Task queues, build-id cohorts and the worker registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol import routes
from ._base import BaseClient

# The result classes load with the first call that returns one (``dw`` cold start).
if TYPE_CHECKING:
    from ._task_queue_results import (
        TaskQueueBuildIdRollout,
        TaskQueueBuildIdRolloutState,
        TaskQueueDescription,
        TaskQueueList,
        WorkerDescription,
        WorkerList,
    )


class TaskQueuesMixin(BaseClient):
    """Task queues, build-id cohorts and the worker registry. methods of :class:`durable_workflow.Client`."""

    # ------------------------------------------------------------------ task queues

    async def list_task_queues(self) -> TaskQueueList:
        """List the namespace's task queues (every queue that holds tasks or registered workers)
        with their backlog, poller counts, repair facts and admission."""
        data = await self._request_object("GET", routes.TASK_QUEUES, operation="list_task_queues")
        from ._task_queue_results import TaskQueueList

        return TaskQueueList.from_dict(data)

    async def describe_task_queue(self, name: str) -> TaskQueueDescription:
        """Describe one task queue: pollers with their capacity, backlog, current leases, repair
        facts, and the admission of workflow, activity and query tasks (with the server's
        dispatch-budget facts). An unknown queue is described as empty."""
        data = await self._request_object(
            "GET", routes.TASK_QUEUE, path_params={"task_queue": name}, operation="describe_task_queue"
        )
        from ._task_queue_results import TaskQueueDescription

        return TaskQueueDescription.from_dict(data)

    # ------------------------------------------------------------------ build-id cohorts

    async def list_task_queue_build_ids(self, task_queue: str) -> TaskQueueBuildIdRollout:
        """Snapshot the queue's build-id cohorts (workers without a build id form the cohort whose
        ``build_id`` is ``None``), active cohorts first."""
        data = await self._request_object(
            "GET",
            routes.TASK_QUEUE_BUILD_IDS,
            path_params={"task_queue": task_queue},
            operation="list_task_queue_build_ids",
        )
        from ._task_queue_results import TaskQueueBuildIdRollout

        return TaskQueueBuildIdRollout.from_dict(data, task_queue=task_queue)

    async def _change_build_id(self, route: str, task_queue: str, build_id: str | None) -> dict[str, Any]:
        # ``build_id`` is always sent, ``null`` included: the server requires the key.
        return await self._request_object(
            "POST", route, path_params={"task_queue": task_queue}, body={"build_id": build_id}
        )

    async def drain_task_queue_build_id(
        self, task_queue: str, build_id: str | None
    ) -> TaskQueueBuildIdRolloutState:
        """Drain a build-id cohort: from now on it claims no new task on the queue, while the tasks
        it holds finish normally. ``build_id=None`` drains the unversioned workers. Idempotent
        (a repeated drain keeps the first ``drained_at``)."""
        data = await self._change_build_id(routes.TASK_QUEUE_BUILD_ID_DRAIN, task_queue, build_id)
        from ._task_queue_results import TaskQueueBuildIdRolloutState

        return TaskQueueBuildIdRolloutState.from_dict(data, task_queue=task_queue)

    async def resume_task_queue_build_id(
        self, task_queue: str, build_id: str | None
    ) -> TaskQueueBuildIdRolloutState:
        """Undo a drain so the cohort claims work again. ``build_id=None`` resumes the unversioned
        workers. Idempotent."""
        data = await self._change_build_id(routes.TASK_QUEUE_BUILD_ID_RESUME, task_queue, build_id)
        from ._task_queue_results import TaskQueueBuildIdRolloutState

        return TaskQueueBuildIdRolloutState.from_dict(data, task_queue=task_queue)

    async def promote_task_queue_build_id(
        self, task_queue: str, build_id: str | None
    ) -> TaskQueueBuildIdRolloutState:
        """Select the cohort for new runs of the queue: runs started from now on are run by that
        build only, runs started before keep theirs. Also resumes the cohort if it was drained.
        ``build_id=None`` promotes the unversioned workers. Idempotent."""
        data = await self._change_build_id(routes.TASK_QUEUE_BUILD_ID_PROMOTE, task_queue, build_id)
        from ._task_queue_results import TaskQueueBuildIdRolloutState

        return TaskQueueBuildIdRolloutState.from_dict(data, task_queue=task_queue)

    # ------------------------------------------------------------------ workers

    async def list_workers(self, task_queue: str | None = None, status: str | None = None) -> WorkerList:
        """List registered workers of the namespace, most recent heartbeat first.

        Args:
            task_queue: Only workers registered on this queue.
            status: Only workers in this status: ``active``, ``draining`` or ``stale``.

        Raises:
            InvalidArgument: An unknown ``status``.
        """
        params = {"task_queue": task_queue, "status": status}
        data = await self._request_object("GET", routes.WORKERS, params=params, operation="list_workers")
        from ._task_queue_results import WorkerList

        return WorkerList.from_dict(data)

    async def describe_worker(self, worker_id: str) -> WorkerDescription:
        """Describe one registered worker: runtime, SDK version, build id, declared types,
        definition fingerprints, last heartbeat and current task admission.

        Raises:
            WorkerNotFound: No worker with this id is registered in the namespace.
        """
        data = await self._request_object(
            "GET", routes.WORKER, path_params={"worker_id": worker_id}, operation="describe_worker"
        )
        from ._task_queue_results import WorkerDescription

        return WorkerDescription.from_dict(data, worker_id=worker_id)

    async def deregister_worker(self, worker_id: str) -> dict[str, Any]:
        """Remove a worker's registration (admin). Idempotent on our server: ``outcome`` is
        ``deregistered``, or ``already_absent`` when there was none. Tasks the worker holds are
        not interrupted; a worker still running registers again on its next poll or heartbeat.

        Raises:
            WorkerNotFound: A server that refuses unknown workers (the reference server) said so.
        """
        return await self._request_object(
            "DELETE", routes.WORKER, path_params={"worker_id": worker_id}, operation="deregister_worker"
        )
