"""The engine's facade: what the HTTP layer may call.

``http/`` validates request *shapes* (pydantic → 422), resolves auth and the namespace,
normalises caller payloads to ``{codec, blob}`` envelopes, and then calls one of these methods.
The engine checks *semantics*, writes history in one transaction per change, and returns typed
bodies already in wire shape (``TypedDict``s of ``durable_workflow.protocol.wire``, or of
:mod:`.shapes` where the protocol has none yet), without the ``control_plane`` block or the
worker-plane ``protocol_version`` / ``server_capabilities`` envelope, which ``http/`` adds.
Refusals are raised as :class:`~durable_workflow_server.engine.errors.DomainError`.

All timestamps in returned bodies are RFC 3339 UTC strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from durable_workflow.protocol.wire import ActivityTask, Envelope, HistoryPage

from .bridge.api import BridgeAPI
from .external_storage.api import ExternalStorageAPI
from .maintenance.api import MaintenanceAPI
from .namespaces.api import NamespaceAPI
from .queries.shapes import QueryFailure, QueryResultBody, QueryTaskBody, QueryTaskOutcomeResponse
from .runs.close_wait import CloseWaitAPI
from .runs.diagnostic_shapes import DebugWorkflowBody
from .schedules.api import ScheduleAPI
from .search_attributes.api import SearchAttributeAPI
from .shapes import (
    ActivityHeartbeatResponse,
    ActivityOutcomeResponse,
    ControlHistoryPage,
    DescribeWorkflowBody,
    HistoryExportBundle,
    ListRunsResponse,
    ListWorkflowsResponse,
    ReadinessChecks,
    RegisterWorkerResponse,
    StartWorkflowBody,
    WorkerFleet,
    WorkerHeartbeatResponse,
    WorkflowCountsBody,
    WorkflowTaskBody,
    WorkflowTaskCompletedResponse,
    WorkflowTaskFailedResponse,
    WorkflowTaskHeartbeatResponse,
)
from .signals.receiving import SignalRequest, SignalResultBody
from .targets import ArchiveResultBody, CommandResultBody, RepairResultBody
from .task_queues.api import TaskQueueAPI
from .updates.shapes import UpdateResultBody

DuplicatePolicy = Literal["fail", "use-existing"]


@dataclass(frozen=True)
class StartWorkflowRequest:
    """A validated ``POST /workflows`` body.

    The HTTP layer has checked every field's shape: ``workflow_type`` is not empty, ``input`` is
    an envelope ``{"codec", "blob"}`` of a codec the server reads, and ``duplicate_policy`` is one
    of the two policies. The engine checks only what needs the database.
    """

    workflow_type: str
    input: Mapping[str, str]  # {"codec": "avro", "blob": "..."}
    workflow_id: str | None = None
    task_queue: str | None = None
    business_key: str | None = None
    memo: dict[str, Any] | None = None
    search_attributes: dict[str, Any] | None = None
    duplicate_policy: DuplicatePolicy = "fail"
    execution_timeout_seconds: int | None = None
    run_timeout_seconds: int | None = None
    request_id: str | None = None
    # Eager first workflow task: lease the new run's first task to this worker (registered and
    # live, on the run's queue) and answer it in ``eager_workflow_task`` (see docs/protocol.md).
    eager_worker_id: str | None = None


@dataclass(frozen=True)
class RegisterWorkerRequest:
    """A validated ``POST /worker/register`` body."""

    task_queue: str
    runtime: str
    worker_id: str | None = None
    sdk_version: str | None = None
    build_id: str | None = None
    supported_workflow_types: list[str] = field(default_factory=list)
    workflow_definition_fingerprints: dict[str, str] = field(default_factory=dict)
    supported_activity_types: list[str] = field(default_factory=list)
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_activity_tasks: int | None = None
    capabilities: list[str] = field(default_factory=list)
    task_slots: dict[str, Any] | None = None
    process_metrics: dict[str, Any] | None = None


@dataclass(frozen=True)
class UpdateRequest:
    """A validated ``POST /workflows/{id}/update/{name}`` body (the name checked by ``http/``).

    ``arguments`` is the caller's ``input`` as an envelope (``[]`` when none was sent);
    ``wait_timeout_seconds`` bounds a ``wait_for="completed"`` wait (the settings' default when
    ``None``).
    """

    workflow_id: str
    update_name: str
    arguments: Envelope
    run_id: str | None = None
    request_id: str | None = None
    wait_for: Literal["accepted", "completed"] = "accepted"
    wait_timeout_seconds: int | None = None


class EngineAPI(
    NamespaceAPI,
    ExternalStorageAPI,
    ScheduleAPI,
    SearchAttributeAPI,
    TaskQueueAPI,
    MaintenanceAPI,
    BridgeAPI,
    CloseWaitAPI,
    Protocol,
):
    """Everything ``http/`` needs from the engine. Implemented by ``engine.service.Engine``."""

    # ----------------------------------------------------------------- lifecycle / system
    async def open(self) -> None:
        """Connect, apply migrations, ensure namespace ``default`` exists, start the timer loop."""

    async def close(self) -> None:
        """Stop background loops, wake and release waiting polls, dispose the database engine."""

    def long_polls_waiting(self) -> int:
        """How many long polls (task polls, history follows, query and update waits) are parked now."""

    def stop_polling(self) -> None:
        """The server is shutting down: answer every parked long poll now, and new ones at once.

        Each poll answers as if it had timed out (an empty poll result, a history page without
        new events, a query or update wait that timed out). Called by the socket server when a
        shutdown begins, before it waits for in-flight requests, so that parked polls do not
        hold the shutdown until its grace period ends; ``close`` still runs after them.
        """

    async def database_ok(self) -> bool:
        """A cheap ``SELECT 1`` for ``/api/health``."""

    async def readiness_checks(self) -> ReadinessChecks:
        """``database``, ``migrations``, ``default_namespace`` checks for ``/api/ready``.

        The ``auth`` and ``cache`` checks are added by ``http/``.
        """

    async def namespace_exists(self, name: str) -> bool: ...

    async def worker_fleet(self, namespace: str) -> WorkerFleet:
        """``worker_fleet`` block of ``/api/cluster/info`` (see docs/protocol.md)."""

    # ----------------------------------------------------------------- control plane: workflows
    async def start_workflow(self, namespace: str, request: StartWorkflowRequest) -> StartWorkflowBody:
        """Start a run (see docs/protocol.md).

        Returns the start body (``workflow_id, run_id, workflow_type, namespace, status,
        business_key, payload_codec, outcome, command_status``) with ``outcome`` ``started_new``
        (http answers 201) or ``returned_existing_active`` (200). A duplicate raises
        ``DomainError("duplicate_not_allowed", ..., outcome="rejected_duplicate", ...)``.
        """

    async def describe_workflow(self, namespace: str, workflow_id: str) -> DescribeWorkflowBody:
        """Current run of the instance; ``instance_not_found`` when unknown."""

    async def describe_run(self, namespace: str, workflow_id: str, run_id: str) -> DescribeWorkflowBody:
        """A specific run; ``run_not_found`` when unknown."""

    async def debug_workflow(
        self, namespace: str, workflow_id: str, *, include_last_event_payload: bool = False
    ) -> DebugWorkflowBody:
        """The debug view of the instance's current run (one snapshot, nothing written);
        ``instance_not_found`` when unknown. See :mod:`.runs.diagnostics`."""

    async def debug_run(
        self, namespace: str, workflow_id: str, run_id: str, *, include_last_event_payload: bool = False
    ) -> DebugWorkflowBody:
        """The debug view of a specific run; ``run_not_found`` when unknown."""

    async def list_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None,
        status: str | None,
        query: str | None,
        page_size: int,
        next_page_token: str | None,
        task_queue: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        closed_after: datetime | None = None,
        closed_before: datetime | None = None,
    ) -> ListWorkflowsResponse:
        """``{workflows, workflow_count, next_page_token}``, newest first, in keyset pages.

        ``query`` is a visibility query (``Priority >= 3 AND Tags IN ('a')``, see
        ``search_attributes/query.py``) or, holding none of its operators, a substring of the
        workflow id or business key. Time windows are half-open: ``after <= t < before``. A bad
        query is ``ValidationFailed`` on ``query``.
        """

    async def count_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None = None,
        query: str | None = None,
        task_queue: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        closed_after: datetime | None = None,
        closed_before: datetime | None = None,
        limit: int | None = None,
    ) -> WorkflowCountsBody:
        """How many runs ``list_workflows`` would list under these filters, in all and per status
        bucket (``{workflow_count, by_status: {running, completed, failed}, at_least}``), in one
        statement. The filters mean what they mean there (a bad ``query`` is
        ``ValidationFailed``). ``limit``: count at most that many runs of each status, so the
        read is bounded; a bucket where some status had more is listed in ``at_least`` (its
        count, and so ``workflow_count``, is then a lower bound)."""

    async def list_runs(self, namespace: str, workflow_id: str) -> ListRunsResponse:
        """``{workflow_id, run_count, runs}``."""

    async def history_page(
        self,
        namespace: str,
        workflow_id: str,
        run_id: str,
        *,
        page_size: int,
        next_page_token: str | None,
        wait_new_event: bool,
    ) -> ControlHistoryPage:
        """``{workflow_id, run_id, events, next_page_token}``."""

    async def export_history(self, namespace: str, workflow_id: str, run_id: str) -> HistoryExportBundle:
        """The history export bundle with its integrity checksum."""

    # ----------------------------------------------------------------- control plane: run commands
    async def cancel_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> CommandResultBody:
        """Cancel the current run at once (outcome ``cancelled``; see docs/protocol.md).

        ``instance_not_found`` when unknown, ``historical_run_command_rejected`` when ``run_id``
        is not the current run, ``run_not_active`` when the run is closed.
        """

    async def terminate_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> CommandResultBody:
        """Terminate the current run at once (outcome ``terminated``); refusals as cancel."""

    async def repair_workflow(
        self, namespace: str, workflow_id: str, *, run_id: str | None = None, request_id: str | None = None
    ) -> RepairResultBody:
        """Re-dispatch lost work: ``repair_dispatched`` or ``repair_not_needed``; refusals as cancel."""

    async def archive_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> ArchiveResultBody:
        """Archive a closed run: ``archived`` or ``archive_not_needed``; ``run_not_closed`` when open."""

    async def signal_workflow(self, namespace: str, request: SignalRequest) -> SignalResultBody:
        """Record a signal (``SignalReceived``) and queue a workflow task for the run.

        The command result has ``outcome: signal_received``; a retried ``request_id`` answers the
        first attempt's result and records nothing. Refusals: ``instance_not_found``,
        ``historical_run_command_rejected``, ``run_not_active``.
        """

    async def pause_workflow(
        self, namespace: str, workflow_id: str, *, reason: str | None = None, request_id: str | None = None
    ) -> CommandResultBody:
        """Pause the current run: ``paused`` (``WorkflowPaused``) or ``already_paused``.

        Refusals: ``instance_not_found``, ``run_not_active``.
        """

    async def resume_workflow(
        self, namespace: str, workflow_id: str, *, request_id: str | None = None
    ) -> CommandResultBody:
        """Resume the current run: ``resumed`` (``WorkflowResumed``) or ``not_paused``.

        Refusals: ``instance_not_found``, ``run_not_active``.
        """

    # ----------------------------------------------------------------- worker plane
    async def register_worker(self, namespace: str, request: RegisterWorkerRequest) -> RegisterWorkerResponse:
        """``{worker_id, registered: true}`` (see docs/protocol.md)."""

    async def heartbeat_worker(
        self,
        namespace: str,
        worker_id: str,
        *,
        task_slots: dict[str, Any] | None = None,
        process_metrics: dict[str, Any] | None = None,
        stopping: bool = False,
    ) -> WorkerHeartbeatResponse:
        """``{worker_id, acknowledged: true}``; ``worker_not_registered`` when unknown.

        ``stopping``: the worker's stop notice; every lease it still holds is released now.
        """

    async def poll_workflow_task(
        self,
        namespace: str,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None,
        poll_request_id: str | None,
        history_page_size: int | None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
    ) -> WorkflowTaskBody | None:
        """Long-poll and lease a workflow task; ``None`` when the poll times out.

        ``held_task_ids`` (the workflow tasks the worker runs now): every other workflow task
        leased to ``worker_id`` is handed back first, except the one this ``poll_request_id``
        already leased and, with ``hand_back_grace_seconds``, those leased or renewed less than
        that long ago. ``None``: nothing is handed back.
        """

    async def release_workflow_task(
        self, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
    ) -> bool:
        """Hand a leased workflow task back at once (its poller hung up before receiving it).

        Fenced by ``lease_owner`` + ``workflow_task_attempt``: only that exact lease is released,
        the task goes back to ``ready`` and the next claim is attempt + 1. ``False`` when the lease
        no longer holds (completed, expired, re-leased) and nothing changed.
        """

    async def workflow_task_history(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        next_history_page_token: str,
        history_page_size: int | None,
    ) -> HistoryPage:
        """Next history page of a leased task."""

    async def heartbeat_workflow_task(
        self, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
    ) -> WorkflowTaskHeartbeatResponse:
        """Renew a workflow-task lease."""

    async def complete_workflow_task(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        commands: list[dict[str, Any]],
        eager_activity_slots: int | None = None,
        sticky: bool = False,
    ) -> WorkflowTaskCompletedResponse:
        """Apply commands (see docs/protocol.md). Fenced by owner + attempt; re-sent steps dedupe.

        ``eager_activity_slots``: up to that many of the activities scheduled on the worker's
        queue are leased to it and answered in ``eager_activity_tasks`` (``None``: key absent).
        ``sticky``: the worker keeps the run's replay (the sticky workflow-task extension).
        """

    async def fail_workflow_task(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        failure: dict[str, Any],
    ) -> WorkflowTaskFailedResponse:
        """Record a task (not workflow) failure; the task is redelivered later."""

    async def poll_activity_task(
        self,
        namespace: str,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
    ) -> ActivityTask | None:
        """Long-poll and lease an activity attempt; ``None`` on timeout.

        ``held_task_ids`` (the activity tasks the worker runs now): every other activity task
        leased to ``worker_id`` is handed back first (its attempt ends ``expired``). ``None``:
        nothing is handed back.
        """

    async def release_activity_task(
        self, namespace: str, task_id: str, *, activity_attempt_id: str, lease_owner: str
    ) -> bool:
        """Hand a leased activity attempt back at once (its poller hung up before receiving it).

        Fenced by ``activity_attempt_id`` + ``lease_owner``: the attempt closes as ``expired``, the
        task goes back to ``ready`` and the next claim is a new attempt. ``False`` when that attempt
        is no longer the current lease and nothing changed.
        """

    async def complete_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        result: Any,
        eager_workflow_task: bool = False,
        history_page_size: int | None = None,
    ) -> ActivityOutcomeResponse:
        """Record an attempt's success; fenced by attempt id + owner.

        ``eager_workflow_task``: the workflow task this completion queued is leased to the worker
        and answered in ``eager_workflow_task`` (``null`` when none could be handed).
        """

    async def fail_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        failure: dict[str, Any],
    ) -> ActivityOutcomeResponse:
        """Record an attempt's failure; retries per the snapshotted policy."""

    async def heartbeat_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        progress: dict[str, Any],
    ) -> ActivityHeartbeatResponse:
        """Renew the attempt lease; tells the worker ``cancel_requested``."""

    # ----------------------------------------------------------------- queries (see queries/)
    async def query_workflow(
        self,
        namespace: str,
        workflow_id: str,
        query_name: str,
        *,
        run_id: str | None = None,
        arguments: Envelope | None = None,
    ) -> QueryResultBody:
        """Answer a query through a live worker of the run's queue (see docs/protocol.md, "Queries").

        Refusals: ``instance_not_found``, ``historical_run_command_rejected``,
        ``query_worker_unavailable`` (no live worker), ``query_worker_timeout`` (no answer in
        time), and the worker's own refusal as a :class:`~.errors.WorkerRefusal`.
        """

    async def poll_query_task(
        self, namespace: str, *, worker_id: str, task_queue: str, timeout: float | None = None
    ) -> QueryTaskBody | None:
        """Long-poll and lease a query task; ``None`` when the poll times out."""

    async def release_query_task(
        self, namespace: str, query_task_id: str, *, lease_owner: str, query_task_attempt: int
    ) -> bool:
        """Hand a leased query task back at once (its poller hung up); fenced by owner + attempt."""

    async def complete_query_task(
        self,
        namespace: str,
        query_task_id: str,
        *,
        lease_owner: str,
        query_task_attempt: int,
        result: Any,
        result_envelope: Envelope | None,
    ) -> QueryTaskOutcomeResponse:
        """Deliver a query's result to its caller; fenced by owner + attempt."""

    async def fail_query_task(
        self,
        namespace: str,
        query_task_id: str,
        *,
        lease_owner: str,
        query_task_attempt: int,
        failure: QueryFailure,
    ) -> QueryTaskOutcomeResponse:
        """Deliver a worker's refusal of a query to its caller; fenced by owner + attempt."""

    # ----------------------------------------------------------------- updates (see updates/)
    async def update_workflow(self, namespace: str, request: UpdateRequest) -> UpdateResultBody:
        """Validate (through a live worker that can), accept and optionally await an update.

        Answers the command result with ``update_status`` ``accepted`` (also when a completed
        wait timed out: ``wait_timed_out``), ``completed`` (``result``, ``result_envelope``) or
        ``failed`` (``failure_message``). Refusals: ``instance_not_found``,
        ``historical_run_command_rejected``, ``run_not_active``, ``update_rejected`` (the
        validator refused; nothing recorded), ``unknown_update`` (the worker knows no such
        update; nothing recorded).
        """
