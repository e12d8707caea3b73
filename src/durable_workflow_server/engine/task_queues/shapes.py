"""The answer bodies of the task-queue, build-id and worker-registry routes (control-plane.md §8.4, §8.6).

Key order in the builders fixes the JSON order; see docs/protocol.md for what each fact means.
"""

from __future__ import annotations

from typing import Any, TypedDict, Union

# --------------------------------------------------------------------------- task queues


class TaskCounts(TypedDict):
    """Tasks of one kind on a queue: claimable now, leased (lease live), leased past their lease."""

    ready_count: int
    leased_count: int
    expired_lease_count: int


class PollerCounts(TypedDict):
    active_count: int
    draining_count: int
    stale_count: int
    stale_after_seconds: int


class OldestReadyTask(TypedDict):
    task_id: str
    task_type: str  # workflow | activity
    workflow_id: str | None
    run_id: str
    available_at: str
    age_seconds: int


class TaskQueueStats(TypedDict):
    approximate_backlog_count: int
    approximate_backlog_age: str | None
    approximate_backlog_age_seconds: int | None
    oldest_ready_task: OldestReadyTask | None
    workflow_tasks: TaskCounts
    activity_tasks: TaskCounts
    pollers: PollerCounts


class TaskQueuePoller(TypedDict):
    worker_id: str
    runtime: str
    sdk_version: str | None
    build_id: str | None
    last_heartbeat_at: str
    heartbeat_expires_at: str
    status: str
    is_stale: bool
    supported_workflow_types: list[str]
    supported_activity_types: list[str]
    max_concurrent_workflow_tasks: int
    max_concurrent_activity_tasks: int


class _Lease(TypedDict):
    task_id: str
    task_type: str  # workflow | activity
    workflow_id: str | None
    run_id: str
    lease_owner: str | None
    lease_expires_at: str | None
    is_expired: bool


class WorkflowTaskLease(_Lease):
    workflow_task_attempt: int


class ActivityTaskLease(_Lease):
    activity_attempt_id: str | None
    attempt_number: int | None


TaskQueueLease = Union[WorkflowTaskLease, ActivityTaskLease]  # noqa: UP007 - a runtime alias on 3.10


class RepairPolicy(TypedDict):
    dispatch_overdue_after_seconds: int
    expired_lease_recovery: str


class TaskQueueRepair(TypedDict):
    candidates: int
    dispatch_failed: int
    expired_leases: int
    dispatch_overdue: int
    needs_attention: bool
    policy: RepairPolicy


class TaskAdmission(TypedDict):
    """``admission.workflow_tasks`` / ``admission.activity_tasks``: worker slots and server budgets."""

    budget_source: str
    server_budget_source: str | None
    active_worker_count: int
    configured_slot_count: int
    leased_count: int
    ready_count: int
    available_slot_count: int
    server_max_active_leases_per_queue: int | None
    server_active_lease_count: int
    server_remaining_active_lease_capacity: int | None
    server_max_active_leases_per_namespace: int | None
    server_namespace_active_lease_count: int
    server_remaining_namespace_active_lease_capacity: int | None
    server_max_dispatches_per_minute: int | None
    server_dispatch_count_this_minute: int | None
    server_remaining_dispatch_capacity: int | None
    server_max_dispatches_per_minute_per_namespace: int | None
    server_namespace_dispatch_count_this_minute: int | None
    server_remaining_namespace_dispatch_capacity: int | None
    server_dispatch_budget_group: str | None
    server_max_dispatches_per_minute_per_budget_group: int | None
    server_budget_group_dispatch_count_this_minute: int | None
    server_remaining_budget_group_dispatch_capacity: int | None
    server_lock_required: bool
    server_lock_supported: bool
    status: str


class QueryAdmission(TypedDict):
    budget_source: str
    max_pending_per_queue: int | None
    approximate_pending_count: int
    remaining_pending_capacity: int | None
    lock_required: bool
    lock_supported: bool
    status: str


class TaskQueueAdmissionBody(TypedDict):
    workflow_tasks: TaskAdmission
    activity_tasks: TaskAdmission
    query_tasks: QueryAdmission


class TaskQueueSummary(TypedDict):
    """One item of ``GET /task-queues``."""

    name: str
    namespace: str
    stats: TaskQueueStats
    repair: TaskQueueRepair
    admission: TaskQueueAdmissionBody


class TaskQueueDescriptionBody(TaskQueueSummary):
    """``GET /task-queues/{name}``: the summary plus who polls and what is leased now."""

    pollers: list[TaskQueuePoller]
    current_leases: list[TaskQueueLease]


class TaskQueueListBody(TypedDict):
    namespace: str
    task_queues: list[TaskQueueSummary]


# --------------------------------------------------------------------------- build ids


class BuildIdCohortBody(TypedDict):
    build_id: str | None
    rollout_status: str
    drain_intent: str
    drained_at: str | None
    promoted_at: str | None
    new_start_selected: bool
    active_worker_count: int
    draining_worker_count: int
    stale_worker_count: int
    total_worker_count: int
    runtimes: list[str]
    sdk_versions: list[str]
    last_heartbeat_at: str | None
    first_seen_at: str | None
    workflow_definition_fingerprint_count: int


class BuildIdRolloutBody(TypedDict):
    namespace: str
    task_queue: str
    stale_after_seconds: int
    build_ids: list[BuildIdCohortBody]


class BuildIdRolloutStateBody(TypedDict):
    """The answer of drain, resume and promote."""

    namespace: str
    task_queue: str
    build_id: str | None
    drain_intent: str
    drained_at: str | None
    promoted_at: str | None
    new_start_selected: bool


# --------------------------------------------------------------------------- workers


class WorkerTaskAdmission(TypedDict):
    max_concurrent: int
    leased_count: int
    available_slot_count: int


class WorkerAdmission(TypedDict):
    workflow_tasks: WorkerTaskAdmission
    activity_tasks: WorkerTaskAdmission


class WorkerBody(TypedDict):
    """One worker of ``GET /workers``."""

    worker_id: str
    namespace: str
    task_queue: str
    runtime: str
    sdk_version: str | None
    build_id: str | None
    supported_workflow_types: list[str]
    workflow_definition_fingerprints: dict[str, str]
    supported_activity_types: list[str]
    max_concurrent_workflow_tasks: int
    max_concurrent_activity_tasks: int
    status: str
    is_stale: bool
    last_heartbeat_at: str
    heartbeat_expires_at: str
    registered_at: str


class WorkerDescriptionBody(WorkerBody):
    """``GET /workers/{id}``: the list item plus capabilities, slots and current admission."""

    updated_at: str
    capabilities: list[str]
    task_slots: dict[str, Any] | None
    process_metrics: dict[str, Any] | None
    heartbeat_interval_seconds: int
    stale_after_seconds: int
    admission: WorkerAdmission


class WorkerListBody(TypedDict):
    namespace: str
    stale_after_seconds: int
    workers: list[WorkerBody]


class WorkerDeregisteredBody(TypedDict):
    worker_id: str
    outcome: str  # deregistered | already_absent
