"""The JSON bodies the SDK and the server exchange, as ``TypedDict``s.

These are the shapes *as sent*: the server builds them and the SDK's encoders produce them.
Almost every key is optional here (``total=False``) because older and foreign servers leave
fields out; the SDK reads each received task once, in one parser per kind
(``durable_workflow._wire``), which owns every fallback. See docs/protocol.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from .history import HistoryEvent

if TYPE_CHECKING:  # payload_storage imports this module; the name is only needed by type checkers
    from .payload_storage.reference import ExternalStorageEnvelope

__all__ = [
    "ActivityDeadlines",
    "ActivityHeartbeatResponse",
    "ActivityTask",
    "CommandBody",
    "CompleteUpdateCommand",
    "CompleteWorkflowCommand",
    "ContinueAsNewCommand",
    "DescribeWorkflowResponse",
    "Envelope",
    "ExternalPayloadStoragePolicy",
    "FailUpdateCommand",
    "FailWorkflowCommand",
    "HistoryEvent",
    "HistoryExport",
    "HistoryPage",
    "NamespaceDeleteResponse",
    "NamespaceDeletedCounts",
    "NamespaceListResponse",
    "NamespaceResponse",
    "NullableEnvelope",
    "OpenConditionWaitCommand",
    "QueryTask",
    "RecordSideEffectCommand",
    "RecordVersionMarkerCommand",
    "RegisterWorkerResponse",
    "RetryPolicyBody",
    "RunHistoryPage",
    "ScheduleActivityCommand",
    "StartChildWorkflowCommand",
    "StartTimerCommand",
    "StartWorkflowResponse",
    "TaskOutcomeResponse",
    "UpsertSearchAttributesCommand",
    "WorkerHeartbeatResponse",
    "WorkflowTask",
    "WorkflowTaskHeartbeatResponse",
]


class Envelope(TypedDict):
    """A payload: the codec name and its base64 blob."""

    codec: str
    blob: str


class RetryPolicyBody(TypedDict, total=False):
    """A retry policy snapped onto an activity or a child workflow."""

    max_attempts: int
    backoff_seconds: list[int]
    non_retryable_error_types: list[str]


# --------------------------------------------------------------------------- worker-plane tasks


class HistoryPage(TypedDict, total=False):
    """One page of a leased workflow task's history (also the first page inside the task)."""

    task_id: str
    workflow_task_attempt: int
    history_events: list[HistoryEvent]
    total_history_events: int
    next_history_page_token: str | None
    # Compressed pages: base64 of the gzip/deflate JSON array of events.
    history_events_encoding: str | None
    history_events_compressed: str | None


class WorkflowTask(HistoryPage, total=False):
    """The ``task`` object of a workflow-task poll."""

    workflow_id: str
    run_id: str
    workflow_type: str
    payload_codec: str | None
    arguments: Envelope | ExternalStorageEnvelope | None
    run_status: str
    last_history_sequence: int
    task_queue: str
    lease_owner: str
    lease_expires_at: str
    connection: Any
    compatibility: Any
    workflow_wait_kind: str | None
    open_wait_id: str | None
    resume_source_kind: str | None
    resume_source_id: str | None
    workflow_update_id: str | None
    workflow_signal_id: str | None
    signal_name: str | None
    signal_wait_id: str | None
    activity_execution_id: str | None
    activity_attempt_id: str | None
    timer_id: str | None
    child_call_id: str | None
    child_workflow_run_id: str | None
    workflow_sequence: int | None
    workflow_event_type: str | None
    # Sticky workflow tasks (capability ``sticky_workflow_tasks``): present only on a task handed
    # to the run's sticky worker. Its history holds only the events after this history sequence;
    # the token reads the history from its start through the task's history endpoint.
    history_after_sequence: int
    full_history_next_page_token: str


class ActivityDeadlines(TypedDict, total=False):
    """When each timeout of a leased attempt fires (ISO-8601 instants; absent when not set)."""

    schedule_to_start: str
    start_to_close: str
    schedule_to_close: str
    heartbeat: str


class ActivityTask(TypedDict, total=False):
    """The ``task`` object of an activity-task poll."""

    task_id: str
    workflow_id: str
    run_id: str
    activity_execution_id: str
    activity_attempt_id: str
    attempt_id: str  # the attempt id under its older name
    attempt_number: int
    activity_type: str
    payload_codec: str | None
    arguments: Envelope | ExternalStorageEnvelope | None
    retry_policy: RetryPolicyBody | None
    task_queue: str
    lease_owner: str
    lease_expires_at: str
    deadlines: ActivityDeadlines | None


class NullableEnvelope(TypedDict):
    """An envelope whose fields may both be null (a query sent without arguments)."""

    codec: str | None
    blob: str | None


class QueryTask(TypedDict, total=False):
    """The ``task`` object of a query-task poll."""

    query_task_id: str
    query_task_attempt: int
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    query_name: str
    payload_codec: str | None
    workflow_arguments: Envelope | ExternalStorageEnvelope | None
    query_arguments: NullableEnvelope | None
    run_status: str
    last_history_sequence: int
    history_events: list[HistoryEvent]
    lease_owner: str
    lease_expires_at: str


# --------------------------------------------------------------------------- worker-plane answers


class _WorkerPlaneAnswer(TypedDict, total=False):
    # Every worker-plane answer carries these two (see docs/protocol.md, "Worker-plane envelope").
    protocol_version: str
    server_capabilities: dict[str, Any]


class RegisterWorkerResponse(_WorkerPlaneAnswer, total=False):
    """The answer of ``POST /worker/register``; newer servers advertise the heartbeat cadence."""

    worker_id: str
    registered: bool
    heartbeat_interval_seconds: int
    stale_after_seconds: int


class WorkerHeartbeatResponse(_WorkerPlaneAnswer, total=False):
    """The answer of ``POST /worker/heartbeat``."""

    worker_id: str
    acknowledged: bool
    retention: dict[str, Any]
    heartbeat_interval_seconds: int


class TaskOutcomeResponse(_WorkerPlaneAnswer, total=False):
    """The answer of a task's complete/fail call (workflow, activity or query task).

    ``reason`` is ``None`` when the outcome was recorded; otherwise it names why not (the same
    reason an error answer carries, e.g. ``lease_expired``).
    """

    task_id: str
    workflow_task_attempt: int
    activity_attempt_id: str
    query_task_id: str
    query_task_attempt: int
    outcome: str
    recorded: bool
    reason: str | None
    run_id: str
    run_status: str
    created_task_ids: list[str]
    next_task_id: str | None
    # Fewer round trips (extensions, each only when its request asked; see docs/protocol.md):
    # a workflow-task completion's activities leased to its worker, and an activity
    # completion's next workflow task of the run.
    eager_activity_tasks: list[ActivityTask]
    eager_workflow_task: WorkflowTask | None


class WorkflowTaskHeartbeatResponse(_WorkerPlaneAnswer, total=False):
    """The answer of ``POST /worker/workflow-tasks/{task_id}/heartbeat``."""

    task_id: str
    workflow_task_attempt: int
    lease_owner: str
    renewed: bool
    lease_expires_at: str | None
    run_status: str
    task_status: str
    reason: str | None


class ActivityHeartbeatResponse(_WorkerPlaneAnswer, total=False):
    """The answer of an activity heartbeat: ``cancel_requested`` tells the activity to stop."""

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


# --------------------------------------------------------------------------- workflow-task commands


class _Command(TypedDict):
    type: str


class ScheduleActivityCommand(_Command, total=False):
    activity_type: str
    queue: str
    arguments: Envelope
    retry_policy: RetryPolicyBody
    start_to_close_timeout: int
    schedule_to_close_timeout: int
    schedule_to_start_timeout: int
    heartbeat_timeout: int


class StartTimerCommand(_Command):
    delay_seconds: int


class StartChildWorkflowCommand(_Command, total=False):
    workflow_type: str
    queue: str
    arguments: Envelope
    parent_close_policy: str
    retry_policy: RetryPolicyBody
    execution_timeout_seconds: int
    run_timeout_seconds: int


class RecordSideEffectCommand(_Command):
    result: Envelope


class RecordVersionMarkerCommand(_Command):
    change_id: str
    version: int
    min_supported: int
    max_supported: int


class UpsertSearchAttributesCommand(_Command):
    attributes: dict[str, Any]


class OpenConditionWaitCommand(_Command, total=False):
    condition_key: str
    condition_definition_fingerprint: str
    timeout_seconds: int
    # The open wait this command re-sends (workers registered with ``condition_wait_ids``).
    condition_wait_id: str


class CompleteUpdateCommand(_Command):
    update_id: str
    result: Envelope


class FailUpdateCommand(_Command, total=False):
    update_id: str
    message: str
    exception_type: str
    exception_class: str
    non_retryable: bool


class CompleteWorkflowCommand(_Command):
    result: Envelope


class FailWorkflowCommand(_Command, total=False):
    message: str
    exception_type: str
    non_retryable: bool


class ContinueAsNewCommand(_Command, total=False):
    arguments: Envelope
    workflow_type: str
    queue: str


CommandBody = (
    ScheduleActivityCommand
    | StartTimerCommand
    | StartChildWorkflowCommand
    | RecordSideEffectCommand
    | RecordVersionMarkerCommand
    | UpsertSearchAttributesCommand
    | OpenConditionWaitCommand
    | CompleteUpdateCommand
    | FailUpdateCommand
    | CompleteWorkflowCommand
    | FailWorkflowCommand
    | ContinueAsNewCommand
)
"""Any element of a workflow-task completion's ``commands`` array."""


# --------------------------------------------------------------------------- control-plane answers


class RunHistoryPage(TypedDict, total=False):
    """The answer of ``GET /workflows/{workflow_id}/runs/{run_id}/history``: one page of events."""

    workflow_id: str
    run_id: str
    events: list[HistoryEvent]
    next_page_token: str | None
    control_plane: dict[str, Any]


class HistoryExport(TypedDict, total=False):
    """The archival bundle of ``GET .../history/export`` (``durable-workflow.v2.history-export``).

    Only the keys the SDK reads are spelled out; the bundle carries many more sections, which
    stay in the dict as received.
    """

    schema: str
    schema_version: int
    exported_at: str
    dedupe_key: str
    history_complete: bool
    workflow: dict[str, Any]
    payloads: dict[str, Any]
    history_events: list[HistoryEvent]
    integrity: dict[str, Any]


class StartWorkflowResponse(TypedDict, total=False):
    """The answer of ``POST /workflows``."""

    workflow_id: str
    run_id: str
    workflow_type: str
    namespace: str
    status: str
    outcome: str
    task_queue: str
    business_key: str | None


class DescribeWorkflowResponse(TypedDict, total=False):
    """The answer of ``GET /workflows/{workflow_id}`` (and of one run's describe)."""

    workflow_id: str
    run_id: str
    workflow_type: str
    namespace: str
    status: str
    status_bucket: str
    is_terminal: bool
    task_queue: str
    payload_codec: str
    input: Any
    input_envelope: Envelope | ExternalStorageEnvelope | None
    output: Any
    output_envelope: Envelope | ExternalStorageEnvelope | None
    business_key: str | None
    closed_reason: str | None
    run_number: int
    run_count: int
    started_at: str | None
    closed_at: str | None
    memo: dict[str, Any]
    search_attributes: dict[str, Any]


# --------------------------------------------------------------------------- issue 8: namespaces


class _PolicyKeys(TypedDict):
    driver: str
    enabled: bool


class ExternalPayloadStoragePolicy(_PolicyKeys, total=False):
    """A namespace's external payload storage policy, as persisted and answered.

    ``driver`` is ``local``, ``s3``, ``gcs`` or ``azure``; ``threshold_bytes`` and ``config``
    are present only when set (``config`` keeps the caller's keys, minus empty values). This is
    the mapping ``external_storage_driver_from_policy()`` takes.
    """

    threshold_bytes: int
    config: dict[str, Any]


class NamespaceResponse(TypedDict, total=False):
    """One namespace (``GET /namespaces/{namespace}`` and the other namespace answers)."""

    name: str
    description: str | None
    retention_days: int
    status: str
    external_payload_storage: ExternalPayloadStoragePolicy | None
    created_at: str
    updated_at: str


class NamespaceListResponse(TypedDict):
    """The answer of ``GET /namespaces``: every namespace the caller may see, no paging."""

    namespaces: list[NamespaceResponse]


class NamespaceDeletedCounts(TypedDict):
    """How many rows of each kind a namespace's delete removed."""

    workflow_runs: int
    workflow_schedules: int
    search_attribute_definitions: int
    workflow_worker_registrations: int


class NamespaceDeleteResponse(TypedDict):
    """The answer of ``DELETE /namespaces/{namespace}``: what the hard delete removed, by kind."""

    name: str
    status: str
    deleted: NamespaceDeletedCounts
