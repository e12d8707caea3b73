"""History event type names, run statuses and the typed shapes of history records."""

from __future__ import annotations

from typing import Any, TypedDict


class EventType:
    """Event type strings as they appear in ``event_type`` (paged history) or ``type`` (export)."""

    START_ACCEPTED = "StartAccepted"
    START_REJECTED = "StartRejected"
    WORKFLOW_STARTED = "WorkflowStarted"
    WORKFLOW_CONTINUED_AS_NEW = "WorkflowContinuedAsNew"
    WORKFLOW_COMPLETED = "WorkflowCompleted"
    WORKFLOW_FAILED = "WorkflowFailed"
    WORKFLOW_CANCELLED = "WorkflowCancelled"
    WORKFLOW_TERMINATED = "WorkflowTerminated"
    WORKFLOW_TIMED_OUT = "WorkflowTimedOut"
    CANCEL_REQUESTED = "CancelRequested"
    TERMINATE_REQUESTED = "TerminateRequested"
    REPAIR_REQUESTED = "RepairRequested"
    ARCHIVE_REQUESTED = "ArchiveRequested"
    WORKFLOW_ARCHIVED = "WorkflowArchived"
    # Extensions of the contract (pause and resume); replayers ignore them.
    WORKFLOW_PAUSED = "WorkflowPaused"
    WORKFLOW_RESUMED = "WorkflowResumed"
    ACTIVITY_SCHEDULED = "ActivityScheduled"
    ACTIVITY_STARTED = "ActivityStarted"
    ACTIVITY_HEARTBEAT_RECORDED = "ActivityHeartbeatRecorded"
    ACTIVITY_RETRY_SCHEDULED = "ActivityRetryScheduled"
    ACTIVITY_COMPLETED = "ActivityCompleted"
    ACTIVITY_FAILED = "ActivityFailed"
    ACTIVITY_CANCELLED = "ActivityCancelled"
    ACTIVITY_TIMED_OUT = "ActivityTimedOut"
    TIMER_SCHEDULED = "TimerScheduled"
    TIMER_FIRED = "TimerFired"
    TIMER_CANCELLED = "TimerCancelled"
    SIDE_EFFECT_RECORDED = "SideEffectRecorded"
    VERSION_MARKER_RECORDED = "VersionMarkerRecorded"
    SEARCH_ATTRIBUTES_UPSERTED = "SearchAttributesUpserted"
    MEMO_UPSERTED = "MemoUpserted"
    CHILD_WORKFLOW_SCHEDULED = "ChildWorkflowScheduled"
    CHILD_RUN_STARTED = "ChildRunStarted"
    CHILD_RUN_COMPLETED = "ChildRunCompleted"
    CHILD_RUN_FAILED = "ChildRunFailed"
    CHILD_RUN_CANCELLED = "ChildRunCancelled"
    CHILD_RUN_TERMINATED = "ChildRunTerminated"
    SIGNAL_RECEIVED = "SignalReceived"
    SIGNAL_APPLIED = "SignalApplied"
    SIGNAL_WAIT_OPENED = "SignalWaitOpened"
    UPDATE_ACCEPTED = "UpdateAccepted"
    UPDATE_REJECTED = "UpdateRejected"
    UPDATE_APPLIED = "UpdateApplied"
    UPDATE_COMPLETED = "UpdateCompleted"
    CONDITION_WAIT_OPENED = "ConditionWaitOpened"
    CONDITION_WAIT_SATISFIED = "ConditionWaitSatisfied"
    CONDITION_WAIT_TIMED_OUT = "ConditionWaitTimedOut"
    PARENT_CLOSE_POLICY_APPLIED = "ParentClosePolicyApplied"
    PARENT_CLOSE_POLICY_FAILED = "ParentClosePolicyFailed"


class RunStatus:
    """Run status values (``status``) and the helpers around them."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"

    TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, TERMINATED})
    OPEN = frozenset({PENDING, RUNNING, WAITING})


def status_bucket(status: str) -> str:
    """Map a run status to its list-filter bucket: ``running``, ``completed`` or ``failed``."""
    if status in RunStatus.OPEN:
        return "running"
    if status == RunStatus.COMPLETED:
        return "completed"
    return "failed"


def is_terminal(status: str) -> bool:
    return status in RunStatus.TERMINAL


class HistoryEvent(TypedDict, total=False):
    """One history record.

    The worker plane and the paged control-plane history name the type ``event_type`` and the
    time ``timestamp`` (control plane) or ``recorded_at`` (worker plane); history exports name
    the type ``type``.
    """

    id: str
    sequence: int
    event_type: str
    type: str
    namespace: str
    payload: dict[str, Any]
    workflow_task_id: str | None
    workflow_command_id: str | None
    recorded_at: str
    timestamp: str
