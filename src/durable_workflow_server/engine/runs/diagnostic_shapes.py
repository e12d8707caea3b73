"""The body of ``GET /workflows/{id}/debug`` and ``.../runs/{run_id}/debug`` (control-plane.md §8.3.6).

Key order in :mod:`.diagnostics` fixes the JSON order. A fact this server does not track is
``null``, never a guess (see docs/protocol.md, "The debug view").
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from ..task_queues.shapes import TaskQueueSummary

DiagnosticStatus = Literal[
    "terminal", "needs_attention", "queue_backlog", "pending_work", "running", "waiting"
]


class LastEvent(TypedDict, total=False):
    """The run's latest history event; ``payload`` only when the caller asked for it."""

    sequence: int
    event_type: str
    recorded_at: str | None
    payload: Any


class NextScheduledEvent(TypedDict):
    """The run's earliest pending timer (a durable timer, or one of a wait's or a child's)."""

    kind: str  # "timer"
    timer_id: str
    timer_kind: str | None  # None: a durable timer step of the workflow
    fire_at: str | None
    sequence: int


class DebugExecution(TypedDict):
    status: str
    status_bucket: str | None
    is_terminal: bool
    closed_reason: str | None
    workflow_type: str
    task_queue: str
    compatibility: str | None
    run_number: int
    started_at: str | None
    closed_at: str | None
    last_progress_at: str | None
    wait_kind: str | None
    wait_reason: str | None
    paused: bool
    liveness_state: str | None
    liveness_reason: str | None
    repair_attention: bool
    task_problem: str | None
    task_problem_badge: str | None
    last_event: LastEvent | None
    next_scheduled_event: NextScheduledEvent | None


class PendingWorkflowTask(TypedDict):
    task_id: str
    status: str  # ready | leased | paused
    attempt: int
    task_queue: str
    available_at: str | None
    is_due: bool
    lease_owner: str | None
    lease_expires_at: str | None
    is_lease_expired: bool
    update_id: str | None


class PendingActivity(TypedDict):
    activity_execution_id: str
    activity_type: str
    sequence: int
    status: str  # pending | running (the execution)
    attempt: int
    task_queue: str
    scheduled_at: str | None
    task_id: str | None
    task_status: str | None  # ready | leased | paused; None when no task is open
    available_at: str | None
    is_due: bool
    lease_owner: str | None
    lease_expires_at: str | None
    is_lease_expired: bool
    last_heartbeat_at: str | None


class RecentFailure(TypedDict):
    source: str  # activity | workflow | workflow_task
    event_type: str | None  # the history event, None for a workflow task failure
    sequence: int | None
    recorded_at: str | None
    task_id: str | None
    activity_execution_id: str | None
    activity_type: str | None
    attempt: int | None
    exception_class: str | None
    message: str | None
    non_retryable: bool | None
    retrying: bool


class DebugCompatibility(TypedDict):
    required: str | None  # the run's compatibility marker: this server records none
    pinned: bool
    pinned_build_id: str | None  # None when unpinned or pinned to the unversioned cohort
    eligible_poller_count: int  # fresh, accepting workers of the queue that may claim its tasks


class Finding(TypedDict):
    severity: str  # error | warning | info
    code: str
    message: str


class DebugWorkflowBody(TypedDict):
    generated_at: str
    workflow_id: str
    run_id: str
    namespace: str
    diagnostic_status: DiagnosticStatus
    execution: DebugExecution
    pending_workflow_tasks: list[PendingWorkflowTask]
    pending_activities: list[PendingActivity]
    task_queue: TaskQueueSummary
    recent_failures: list[RecentFailure]
    compatibility: DebugCompatibility
    findings: list[Finding]
