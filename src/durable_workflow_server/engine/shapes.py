"""The typed bodies ``EngineAPI`` returns, for the answers ``durable_workflow.protocol.wire`` lacks.

Where ``protocol.wire`` already has the shape, the engine returns that type directly
(``HistoryPage``, ``HistoryEvent``, ``ActivityTask``). Where the wire type exists but the server
sends keys it does not name, the server shape here *extends* it, so mypy still checks every key
the two share against the protocol's type. See docs/protocol.md for what each field means.

The types in ``protocol.wire`` say what *any* server of the contract may send, for a client
to read tolerantly (every key optional). The types here say exactly what *this* server sends, so
a test can hold every engine answer to its type key for key
(``tests/server/engine/test_engine_answer_shapes.py``). Bringing the two together, so that the
protocol types become exact and these extend them, is tracked as follow-up work:

* extensions of a wire type: ``StartWorkflowBody`` (``StartWorkflowResponse``),
  ``DescribeWorkflowBody`` (``DescribeWorkflowResponse``), ``WorkflowTaskBody``
  (``WorkflowTask``), ``RetryPolicySnapshot`` (``RetryPolicyBody``);
* control-plane answers: ``ListWorkflowsResponse`` / ``WorkflowListItem`` / ``RenderError``,
  ``ListRunsResponse`` / ``RunListItem``, ``ControlHistoryPage`` (``RunHistoryPage``),
  ``HistoryExportBundle`` and its parts (``HistoryExport``), ``ExportedHistoryEvent``;
* worker-plane answers, read by the SDK as ``RegisterWorkerResponse``,
  ``WorkerHeartbeatResponse``, ``TaskOutcomeResponse``, ``WorkflowTaskHeartbeatResponse`` and
  ``ActivityHeartbeatResponse`` of ``protocol.wire``;
* cluster / health documents: ``WorkerFleet`` / ``FleetWorker``, ``ReadinessCheck``.

Key order in the builders, not here, fixes the JSON byte order of each answer.
"""

from __future__ import annotations

from typing import Any, TypedDict

from durable_workflow.protocol.payload_storage import ExternalStorageEnvelope
from durable_workflow.protocol.wire import (
    ActivityTask,
    DescribeWorkflowResponse,
    HistoryEvent,
    RetryPolicyBody,
    StartWorkflowResponse,
    WorkflowTask,
)

from .waiting_shapes import WaitingOn

# --------------------------------------------------------------------------- system


class ReadinessCheck(TypedDict, total=False):
    """One entry of ``/api/ready``'s ``checks``: ``status`` plus what explains it."""

    status: str
    namespace: str
    missing_tables: list[str]
    message: str
    store: str
    driver: str
    remediation: str


ReadinessChecks = dict[str, ReadinessCheck]
"""``/api/ready``'s ``checks`` by name (``database``, ``migrations``, ``default_namespace``, ...)."""


class FleetWorker(TypedDict):
    """One live worker in the ``worker_fleet`` block of ``/api/cluster/info``."""

    worker_id: str
    queues: list[str]
    build_ids: list[str]
    recorded_at: str | None
    expires_at: str | None


class WorkerFleet(TypedDict):
    """The ``worker_fleet`` block of ``/api/cluster/info``: live workers of one namespace."""

    namespace: str
    active_workers: int
    active_worker_scopes: int
    queues: list[str]
    build_ids: list[str]
    workers: list[FleetWorker]


# --------------------------------------------------------------------------- control plane


class StartWorkflowBody(StartWorkflowResponse, total=False):
    """The answer of ``POST /workflows``: the wire type plus the command keys the server sends."""

    payload_codec: str
    command_status: str
    command_source: str
    reason: str | None
    rejection_reason: str | None


class WorkflowActions(TypedDict):
    """Describe ``actions``: what an operator may do to the run now."""

    can_signal: bool
    can_query: bool
    can_update: bool
    can_cancel: bool
    can_terminate: bool
    can_repair: bool
    can_archive: bool


class DescribeWorkflowBody(DescribeWorkflowResponse, total=False):
    """The answer of a describe (instance or run): the wire type plus the keys it does not name."""

    is_current_run: bool
    compatibility: Any
    execution_timeout_seconds: int | None
    run_timeout_seconds: int | None
    execution_deadline_at: str | None
    run_deadline_at: str | None
    last_progress_at: str | None
    wait_kind: str | None
    wait_reason: str | None
    waiting_on: WaitingOn
    paused: bool
    paused_at: str | None
    pause_reason: str | None
    archived: bool
    archived_at: str | None
    archive_reason: str | None
    actions: WorkflowActions
    parent_workflow_id: str | None  # a child run's parent (its run, and its workflow id)
    parent_run_id: str | None


class RenderError(TypedDict):
    """Why a list row carries ``null`` in place of stored values it cannot render."""

    fields: list[str]
    message: str


class _WorkflowListItem(TypedDict):
    workflow_id: str
    run_id: str
    workflow_type: str
    business_key: str | None
    status: str
    status_bucket: str
    task_queue: str
    is_terminal: bool
    started_at: str | None
    closed_at: str | None
    search_attributes: dict[str, Any] | None


class WorkflowListItem(_WorkflowListItem, total=False):
    """One row of ``GET /workflows``; ``render_error`` only on a row with unrenderable values."""

    render_error: RenderError


class ListWorkflowsResponse(TypedDict):
    """The answer of ``GET /workflows``, newest first."""

    workflows: list[WorkflowListItem]
    workflow_count: int
    next_page_token: str | None


class WorkflowCountsBody(TypedDict):
    """What :meth:`EngineAPI.count_workflows` answers: the runs matching the list's filters,
    in all and per status bucket (``running``, ``completed``, ``failed``; every bucket present)."""

    workflow_count: int
    by_status: dict[str, int]
    at_least: list[str]  # the buckets whose count stopped at the limit (a lower bound)


class RunListItem(TypedDict):
    """One entry of ``GET /workflows/{workflow_id}/runs``."""

    workflow_id: str
    run_id: str
    run_number: int
    workflow_type: str
    business_key: str | None
    status: str
    status_bucket: str
    is_current_run: bool
    task_queue: str
    started_at: str | None
    closed_at: str | None


class ListRunsResponse(TypedDict):
    """The answer of ``GET /workflows/{workflow_id}/runs``."""

    workflow_id: str
    run_count: int
    runs: list[RunListItem]


class ControlHistoryPage(TypedDict):
    """A control-plane history page; its events carry ``timestamp``, not ``recorded_at``."""

    workflow_id: str
    run_id: str
    events: list[HistoryEvent]
    next_page_token: str | None


class ExportedHistoryEvent(TypedDict):
    """One event of the history export: ``type`` where the paged history says ``event_type``."""

    id: str
    sequence: int
    type: str
    workflow_task_id: str | None
    workflow_command_id: str | None
    recorded_at: str | None
    payload: dict[str, Any]


class ExportedWorkflow(TypedDict):
    """The export bundle's ``workflow`` block: the run and its instance."""

    instance_id: str
    run_id: str
    run_number: int
    is_current_run: bool
    current_run_id: str | None
    current_run_source: str
    workflow_type: str
    workflow_class: str
    business_key: str | None
    visibility_labels: dict[str, Any]
    memo: dict[str, Any]
    search_attributes: dict[str, Any]
    status: str
    status_bucket: str
    closed_reason: str | None
    archived_at: str | None
    archive_command_id: str | None
    archive_reason: str | None
    compatibility: Any
    connection: Any
    queue: str
    last_history_sequence: int
    started_at: str | None
    closed_at: str | None
    last_progress_at: str | None


class _ExportedPayload(TypedDict):
    available: bool
    data: str | ExternalStorageEnvelope | None  # the blob, or an offloaded payload's reference


class ExportedPayload(_ExportedPayload, total=False):
    """One payload of the export (``arguments`` / ``output``); ``codec`` on a stored output only."""

    codec: str


class ExportedPayloads(TypedDict):
    """The export bundle's ``payloads`` block."""

    codec: str
    arguments: ExportedPayload
    output: ExportedPayload


class ExportSummary(TypedDict):
    """The export bundle's ``summary`` counts."""

    history_event_count: int
    activity_count: int
    timer_count: int
    task_count: int
    failure_count: int


class ExportedTask(TypedDict):
    """One workflow task of the export."""

    id: str
    type: str
    status: str
    queue: str
    attempt_count: int
    available_at: str | None
    lease_owner: str | None
    lease_expires_at: str | None


class ExportedActivity(TypedDict):
    """One activity execution of the export."""

    id: str
    sequence: int
    activity_type: str
    status: str
    attempt_count: int
    queue: str
    retry_policy: dict[str, Any] | None
    scheduled_at: str | None
    closed_at: str | None


class ExportedTimer(TypedDict):
    """One timer of the export."""

    id: str
    sequence: int
    status: str
    delay_seconds: int
    fire_at: str | None
    fired_at: str | None


class ExportedFailure(TypedDict):
    """One failure (``WorkflowFailed`` / ``ActivityFailed`` event) of the export."""

    id: Any
    type: str
    sequence: int
    message: Any
    exception_class: Any
    failure_category: Any


class ExportIntegrity(TypedDict):
    """The export bundle's ``integrity`` block: a checksum over the rest of the bundle."""

    canonicalization: str
    checksum_algorithm: str
    checksum: str
    signature_algorithm: str | None
    signature: str | None
    key_id: str | None


class _HistoryExportBundle(TypedDict):
    schema: str
    schema_version: int
    exported_at: str | None
    dedupe_key: str
    history_complete: bool
    workflow: ExportedWorkflow
    payloads: ExportedPayloads
    summary: ExportSummary
    selected_run: dict[str, Any]
    history_events: list[ExportedHistoryEvent]
    waits: list[Any]
    timeline: list[dict[str, Any]]
    linked_intakes_scope: str
    linked_intakes: list[Any]
    commands: list[Any]
    signals: list[Any]
    updates: list[Any]
    tasks: list[ExportedTask]
    activities: list[ExportedActivity]
    timers: list[ExportedTimer]
    failures: list[ExportedFailure]
    links: dict[str, Any]
    redaction: dict[str, Any]
    codec_schemas: dict[str, Any]
    payload_manifest: dict[str, Any]


class HistoryExportBundle(_HistoryExportBundle, total=False):
    """The history export of one run; ``integrity`` is added last, over everything else."""

    integrity: ExportIntegrity


# --------------------------------------------------------------------------- worker plane


class WorkflowTaskBody(WorkflowTask, total=False):
    """The ``task`` of a workflow-task poll: the wire type plus the resume keys it does not name."""

    workflow_command_id: str | None
    activity_type: str | None
    condition_wait_id: str | None
    condition_key: str | None
    condition_definition_fingerprint: str | None


class RetryPolicySnapshot(RetryPolicyBody, total=False):
    """An activity's policy as frozen at schedule time, sent as an activity task's ``retry_policy``.

    Besides the policy it carries the activity's timeouts (seconds, ``None`` when unset), which
    the wire's ``RetryPolicyBody`` does not name.
    """

    snapshot_version: int
    start_to_close_timeout: int | None
    schedule_to_close_timeout: int | None
    schedule_to_start_timeout: int | None
    heartbeat_timeout: int | None


class RegisterWorkerResponse(TypedDict):
    """The answer of ``POST /worker/register``."""

    worker_id: str
    registered: bool
    heartbeat_interval_seconds: int
    stale_after_seconds: int


class WorkerHeartbeatResponse(TypedDict):
    """The answer of ``POST /worker/heartbeat``."""

    worker_id: str
    acknowledged: bool
    heartbeat_interval_seconds: int


class WorkflowTaskHeartbeatResponse(TypedDict):
    """The answer of a workflow-task heartbeat: the renewed lease."""

    task_id: str
    workflow_task_attempt: int
    lease_owner: str
    renewed: bool
    lease_expires_at: str | None
    run_status: str
    task_status: str
    reason: str | None


class WorkflowTaskCompletedResponse(TypedDict):
    """The answer of a workflow-task completion."""

    task_id: str
    workflow_task_attempt: int
    outcome: str
    recorded: bool
    run_id: str
    run_status: str
    created_task_ids: list[str]
    reason: str | None


class WorkflowTaskRefusedResponse(WorkflowTaskCompletedResponse, total=False):
    """A completion the engine refused without applying it (``reason`` set, ``recorded: false``)."""

    message: str


class WorkflowTaskFailedResponse(TypedDict):
    """The answer of a workflow-task failure; ``next_task_id`` is the redelivery."""

    task_id: str
    workflow_task_attempt: int
    outcome: str
    recorded: bool
    reason: str | None
    next_task_id: str | None


class ActivityOutcomeResponse(TypedDict):
    """The answer of an activity attempt's completion or failure; ``next_task_id`` is a retry."""

    task_id: str
    activity_attempt_id: str
    outcome: str
    recorded: bool
    reason: str | None
    next_task_id: str | None


class ActivityHeartbeatResponse(TypedDict):
    """The answer of an activity heartbeat: whether to go on, and why not."""

    task_id: str
    activity_attempt_id: str
    lease_owner: str
    cancel_requested: bool
    can_continue: bool
    reason: str | None
    run_closed_reason: str | None
    run_closed_at: str | None
    heartbeat_recorded: bool
    lease_expires_at: str | None
    last_heartbeat_at: str | None


# --------------------------------------------------------------------------- eager hand-outs
# The answers of requests that asked for a task back (see docs/protocol.md, "Fewer round
# trips"): the plain answer plus the task key, sent only then, so an answer to a request without
# the field is exactly the plain one.


class EagerWorkflowTaskCompletion(WorkflowTaskCompletedResponse):
    """A workflow-task completion that declared ``eager_activity_slots``."""

    eager_activity_tasks: list[ActivityTask]


class EagerActivityCompletion(ActivityOutcomeResponse):
    """An activity completion that asked for ``eager_workflow_task``."""

    eager_workflow_task: WorkflowTaskBody | None


class EagerStartWorkflowBody(StartWorkflowBody):
    """A start that named an ``eager_worker_id``."""

    eager_workflow_task: WorkflowTaskBody | None
