"""``WorkerPlaneClient``: what a ``Worker`` needs from its client.

:class:`durable_workflow.Client` implements it (checked statically in ``_worker.py``); the
worker's unit tests implement it with an in-memory fake that is type-checked against it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .._external_payloads import PayloadResolver
from ..client._results import WorkflowExecution
from ..metrics import MetricsRecorder
from ..protocol.wire import (
    ActivityHeartbeatResponse,
    ActivityTask,
    CommandBody,
    HistoryPage,
    QueryTask,
    RegisterWorkerResponse,
    TaskOutcomeResponse,
    WorkerHeartbeatResponse,
    WorkflowTask,
    WorkflowTaskHeartbeatResponse,
)


class WorkerPlaneClient(Protocol):
    """The calls a worker makes: discovery, registration, polls and task outcomes."""

    @property
    def metrics(self) -> MetricsRecorder:
        """Where the worker records poll and task metrics unless it is given its own recorder.

        Required: a ``Worker`` built without ``metrics=`` records into this one (the ``Client``
        has a no-op recorder unless it was given one), so a client must always provide it.
        """

    @property
    def payload_resolver(self) -> PayloadResolver | None:
        """What resolves external-storage references in tasks (``None``: the client has no driver).

        The worker's task parsers fetch and verify referenced payloads through it, so a changed
        stored object fails that task instead of the poll.
        """

    async def get_cluster_info(self) -> dict[str, Any]:
        """The server's manifest (checked for compatibility before registering)."""

    async def describe_workflow(self, workflow_id: str) -> WorkflowExecution:
        """The workflow's current run (``Worker.run_until`` waits for a terminal status)."""

    async def register_worker(
        self,
        *,
        worker_id: str,
        task_queue: str,
        runtime: str = ...,
        sdk_version: str | None = ...,
        build_id: str | None = ...,
        supported_workflow_types: Sequence[str] | None = ...,
        supported_activity_types: Sequence[str] | None = ...,
        workflow_definition_fingerprints: Mapping[str, str] | None = ...,
        max_concurrent_workflow_tasks: int | None = ...,
        max_concurrent_activity_tasks: int | None = ...,
        capabilities: Sequence[str] | None = ...,
        task_slots: Mapping[str, Any] | None = ...,
        process_metrics: Mapping[str, Any] | None = ...,
    ) -> RegisterWorkerResponse:
        """Register (or re-register) the worker."""

    async def heartbeat_worker(
        self,
        *,
        worker_id: str,
        task_slots: Mapping[str, Any] | None = ...,
        process_metrics: Mapping[str, Any] | None = ...,
        stopping: bool = ...,
    ) -> WorkerHeartbeatResponse:
        """Report liveness and free slots; ``stopping``: the stop notice (release my leases)."""

    async def poll_workflow_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None = ...,
        poll_request_id: str | None = ...,
        timeout: float | None = ...,
        held_task_ids: Sequence[str] | None = ...,
        hand_back_grace_seconds: float | None = ...,
    ) -> WorkflowTask | None:
        """Long-poll for a workflow task; ``None`` when the hold time passed empty."""

    async def heartbeat_workflow_task(
        self, *, task_id: str, lease_owner: str, workflow_task_attempt: int
    ) -> WorkflowTaskHeartbeatResponse:
        """Renew the lease of a workflow task that is still being processed."""

    async def workflow_task_history(
        self, *, task_id: str, next_history_page_token: str, lease_owner: str, workflow_task_attempt: int
    ) -> HistoryPage:
        """The next history page of a leased workflow task."""

    async def complete_workflow_task(
        self,
        *,
        task_id: str,
        lease_owner: str,
        workflow_task_attempt: int,
        commands: Sequence[CommandBody],
        eager_activity_slots: int | None = ...,
    ) -> TaskOutcomeResponse:
        """Submit a workflow task's commands (``eager_activity_slots``: see ``_eager.py``).

        When the server advertises sticky workflow tasks and the worker keeps the run's replay,
        the worker also passes ``sticky=True`` (only then, so a plane client without the
        argument keeps working with servers that do not advertise it; ``Client`` takes it).
        """

    async def fail_workflow_task(
        self,
        *,
        task_id: str,
        lease_owner: str,
        workflow_task_attempt: int,
        message: str,
        failure_type: str | None = ...,
        stack_trace: str | None = ...,
    ) -> TaskOutcomeResponse:
        """Report that a workflow task could not be processed."""

    async def poll_activity_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None = ...,
        poll_request_id: str | None = ...,
        timeout: float | None = ...,
        held_task_ids: Sequence[str] | None = ...,
        hand_back_grace_seconds: float | None = ...,
    ) -> ActivityTask | None:
        """Long-poll for an activity task; ``None`` when the hold time passed empty."""

    async def complete_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        result: Any,
        codec: str = ...,
        activity_name: str | None = ...,
        eager_workflow_task: bool = ...,
    ) -> TaskOutcomeResponse:
        """Report an activity attempt's result (``eager_workflow_task``: see ``_eager.py``)."""

    async def fail_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        message: str,
        failure_type: str | None = ...,
        stack_trace: str | None = ...,
        non_retryable: bool = ...,
        details: Any = ...,
        kind: str | None = ...,
        timeout_type: str | None = ...,
        cancelled: bool | None = ...,
    ) -> TaskOutcomeResponse:
        """Report a failed activity attempt."""

    async def heartbeat_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        details: Mapping[str, Any] | None = ...,
        message: str | None = ...,
        current: float | None = ...,
        total: float | None = ...,
        unit: str | None = ...,
    ) -> ActivityHeartbeatResponse:
        """Record activity progress and renew its lease."""

    async def poll_query_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        poll_request_id: str | None = ...,
        timeout: float | None = ...,
    ) -> QueryTask | None:
        """Long-poll for a query task; ``None`` when the hold time passed empty."""

    async def complete_query_task(
        self,
        *,
        query_task_id: str,
        lease_owner: str,
        query_task_attempt: int,
        result: Any,
        codec: str = ...,
        workflow_id: str | None = ...,
        run_id: str | None = ...,
        query_name: str | None = ...,
    ) -> TaskOutcomeResponse:
        """Answer a query task with its (plain) result."""

    async def fail_query_task(
        self,
        *,
        query_task_id: str,
        lease_owner: str,
        query_task_attempt: int,
        message: str,
        reason: str | None = ...,
        failure_type: str | None = ...,
        stack_trace: str | None = ...,
    ) -> TaskOutcomeResponse:
        """Refuse a query task; ``reason`` reaches the caller."""
