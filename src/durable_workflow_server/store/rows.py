"""One ``TypedDict`` per table: a row as :mod:`.tables` returns it (``dict(row_mapping)``).

Times are aware UTC datetimes (:class:`.timestamps.UTCDateTime`); JSON columns hold what was stored.
Status columns are typed ``str``: a row read back carries plain strings, which compare equal to
the members of :mod:`.statuses`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class NamespaceRow(TypedDict):
    name: str
    description: str | None
    retention_days: int
    status: str
    external_payload_storage: Any
    created_at: datetime
    updated_at: datetime


class InstanceRow(TypedDict):
    workflow_id: str
    namespace: str
    workflow_type: str
    current_run_id: str | None
    run_count: int
    created_at: datetime


class RunRow(TypedDict):
    run_id: str
    workflow_id: str
    namespace: str
    run_number: int
    workflow_type: str
    task_queue: str
    status: str
    closed_reason: str | None
    business_key: str | None
    memo: dict[str, Any] | None
    search_attributes: dict[str, Any] | None
    payload_codec: str
    input_blob: str | None
    output_codec: str | None
    output_blob: str | None
    execution_timeout_seconds: int | None
    run_timeout_seconds: int | None
    execution_deadline_at: datetime | None
    run_deadline_at: datetime | None
    timeout_at: datetime | None
    started_at: datetime
    closed_at: datetime | None
    last_progress_at: datetime | None
    last_history_sequence: int
    wait_kind: str | None
    wait_reason: str | None
    parent_run_id: str | None
    parent_workflow_id: str | None
    parent_link_id: str | None
    paused_at: datetime | None
    pause_reason: str | None
    archived_at: datetime | None
    archive_reason: str | None
    archive_command_id: str | None
    # issue 8: task queues and build ids (0009_task_queues)
    pinned_build_key: str | None
    # issue 11: sticky workflow tasks (0012_sticky_workflow_tasks)
    sticky_worker_id: str | None
    sticky_history_sequence: int | None


class HistoryEventRow(TypedDict):
    id: str
    run_id: str
    sequence: int
    namespace: str
    event_type: str
    payload: dict[str, Any]
    workflow_task_id: str | None
    workflow_command_id: str | None
    recorded_at: datetime


class WorkflowTaskRow(TypedDict):
    task_id: str
    run_id: str
    workflow_id: str
    namespace: str
    task_queue: str
    workflow_type: str
    status: str
    available_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    attempt_count: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    history_sequence: int | None
    workflow_update_id: str | None
    # issue 8: task queues and build ids (0009_task_queues)
    pinned_build_key: str | None
    # issue 11: sticky workflow tasks (0012_sticky_workflow_tasks)
    sticky_worker_id: str | None
    # speed: a retried poll's lease, found on the task (0015_poll_request_on_task)
    poll_request_id: str | None
    poll_expires_at: datetime | None


class ActivityExecutionRow(TypedDict):
    activity_execution_id: str
    run_id: str
    workflow_id: str
    namespace: str
    sequence: int
    batch_id: str
    activity_type: str
    task_queue: str
    payload_codec: str
    arguments_blob: str | None
    retry_policy: dict[str, Any] | None
    status: str
    attempt_count: int
    current_attempt_id: str | None
    result_blob: str | None
    scheduled_at: datetime
    closed_at: datetime | None
    last_failure: dict[str, Any] | None


class ActivityTaskRow(TypedDict):
    task_id: str
    activity_execution_id: str
    run_id: str
    namespace: str
    task_queue: str
    activity_type: str
    status: str
    available_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    current_attempt_id: str | None
    created_at: datetime
    updated_at: datetime
    schedule_to_start_deadline_at: datetime | None
    start_to_close_deadline_at: datetime | None
    schedule_to_close_deadline_at: datetime | None
    heartbeat_deadline_at: datetime | None
    timeout_at: datetime | None


class ActivityAttemptRow(TypedDict):
    attempt_id: str
    task_id: str
    activity_execution_id: str
    namespace: str
    attempt_number: int
    status: str
    lease_owner: str
    started_at: datetime
    closed_at: datetime | None
    last_heartbeat_at: datetime | None
    progress: dict[str, Any] | None


class TimerRow(TypedDict):
    timer_id: str
    run_id: str
    namespace: str
    sequence: int
    batch_id: str
    delay_seconds: int
    fire_at: datetime
    status: str
    fired_at: datetime | None
    created_at: datetime
    timer_kind: str | None
    target_id: str | None


class WorkerRow(TypedDict):
    namespace: str
    worker_id: str
    task_queue: str
    runtime: str
    sdk_version: str | None
    build_id: str | None
    supported_workflow_types: list[str]
    supported_activity_types: list[str]
    workflow_definition_fingerprints: dict[str, str]
    max_concurrent_workflow_tasks: int
    max_concurrent_activity_tasks: int
    capabilities: list[str]
    task_slots: dict[str, Any] | None
    process_metrics: dict[str, Any] | None
    status: str
    last_heartbeat_at: datetime
    registered_at: datetime


class SignalRow(TypedDict):
    signal_id: str
    run_id: str
    workflow_id: str
    namespace: str
    signal_name: str
    payload_codec: str
    arguments_blob: str | None
    request_id: str | None
    command_id: str
    history_sequence: int
    status: str
    received_at: datetime
    applied_at: datetime | None


class UpdateRow(TypedDict):
    update_id: str
    run_id: str
    workflow_id: str
    namespace: str
    update_name: str
    payload_codec: str
    arguments_blob: str | None
    request_id: str | None
    command_id: str
    history_sequence: int | None
    workflow_sequence: int | None
    status: str
    result_codec: str | None
    result_blob: str | None
    failure: dict[str, Any] | None
    accepted_at: datetime | None
    applied_at: datetime | None
    closed_at: datetime | None
    rejected_at: datetime | None


class ConditionWaitRow(TypedDict):
    condition_wait_id: str
    run_id: str
    namespace: str
    condition_key: str | None
    condition_definition_fingerprint: str | None
    sequence: int
    batch_id: str
    timeout_seconds: int | None
    timer_id: str | None
    status: str
    opened_at: datetime
    closed_at: datetime | None


class ChildLinkRow(TypedDict):
    link_id: str
    parent_run_id: str
    parent_workflow_id: str
    namespace: str
    sequence: int
    batch_id: str
    child_workflow_id: str
    child_run_id: str | None
    child_workflow_type: str
    task_queue: str
    payload_codec: str
    arguments_blob: str | None
    parent_close_policy: str
    retry_policy: dict[str, Any] | None
    execution_timeout_seconds: int | None
    run_timeout_seconds: int | None
    attempt: int
    status: str
    created_at: datetime
    closed_at: datetime | None


class QueryTaskRow(TypedDict):
    query_task_id: str
    namespace: str
    task_queue: str
    workflow_id: str
    run_id: str
    workflow_type: str
    kind: str
    query_name: str
    arguments: dict[str, Any] | None
    status: str
    attempt: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    result: Any
    failure: dict[str, Any] | None
    created_at: datetime
    expires_at: datetime


# ---- namespaces and external payload storage


class ExternalPayloadRow(TypedDict):
    """``external_payloads``: an object in external storage that a run's history refers to."""

    id: str
    namespace: str
    run_id: str
    uri: str
    sha256: str
    size_bytes: int
    codec: str
    created_at: datetime


# ---- schedules
class ScheduleRow(TypedDict):
    namespace: str
    schedule_id: str
    status: str
    spec: dict[str, Any]
    action: dict[str, Any]
    overlap_policy: str
    jitter_seconds: int
    max_runs: int | None
    remaining_actions: int | None
    memo: dict[str, Any] | None
    search_attributes: dict[str, Any] | None
    note: str | None
    next_fire_at: datetime | None
    next_nominal_at: datetime | None
    last_fired_at: datetime | None
    fires_count: int
    failures_count: int
    skipped_trigger_count: int
    last_skip_reason: str | None
    last_skipped_at: datetime | None
    buffered_count: int
    latest_workflow_id: str | None
    latest_run_id: str | None
    history_sequence: int
    created_at: datetime
    updated_at: datetime
    paused_at: datetime | None
    resumed_at: datetime | None
    deleted_at: datetime | None


class ScheduleHistoryEventRow(TypedDict):
    id: str
    namespace: str
    schedule_id: str
    sequence: int
    event_type: str
    payload: dict[str, Any]
    workflow_instance_id: str | None
    workflow_run_id: str | None
    recorded_at: datetime


class ScheduleFireRow(TypedDict):
    fire_id: str
    namespace: str
    schedule_id: str
    fire_at: datetime
    source: str
    status: str
    workflow_id: str | None
    lease_expires_at: datetime | None
    created_at: datetime


# ---- search attributes and the webhook bridge
class SearchAttributeDefinitionRow(TypedDict):
    """``search_attribute_definitions``: one custom attribute of a namespace."""

    namespace: str
    name: str
    attribute_type: str
    created_at: datetime


class SearchAttributeValueRow(TypedDict):
    """``search_attribute_values``: one typed value (or keyword_list item) of a run."""

    run_id: str
    name: str
    ordinal: int
    namespace: str
    value_keyword: str | None
    value_int: int | None
    value_double: float | None
    value_bool: bool | None
    value_datetime: datetime | None


class BridgeOutcomeRow(TypedDict):
    """``bridge_outcomes``: a webhook-bridge event key, claimed, then its first outcome."""

    namespace: str
    adapter: str
    idempotency_key: str
    action: str
    status: str
    workflow_id: str | None
    run_id: str | None
    outcome: dict[str, Any] | None
    claimed_at: datetime
    created_at: datetime


# ---- task queues and build ids
class TaskQueueBuildIdRow(TypedDict):
    namespace: str
    task_queue: str
    build_key: str
    build_id: str | None
    drain_intent: str
    drained_at: datetime | None
    promoted_at: datetime | None
    created_at: datetime
    updated_at: datetime
