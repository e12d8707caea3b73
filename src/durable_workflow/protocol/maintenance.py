"""The JSON bodies of the admin-only system maintenance routes (control-plane.md §8.9).

The server builds them and the SDK's maintenance methods return them as they arrive, so both
sides name one shape. Every key is optional here (``total=False``): older and foreign servers
leave fields out, and the SDK hands over whatever the server sent.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "ActivityTimeoutPassItem",
    "ActivityTimeoutPassResult",
    "ActivityTimeoutStatus",
    "OperatorMetrics",
    "RepairCandidates",
    "RepairFailure",
    "RepairPassResult",
    "RepairPolicy",
    "RepairScope",
    "RepairStatus",
    "RetentionPassItem",
    "RetentionPassResult",
    "RetentionStatus",
]

#: How many ids a pass accepts, and the cap of every ``limit`` (larger limits are capped).
MAX_IDS = 100
SCAN_LIMIT = 100
ID_MAX_LENGTH = 128


class RepairPolicy(TypedDict, total=False):
    """``GET /system/repair`` → ``policy``: how the repair pass chooses its candidates."""

    redispatch_after_seconds: int
    loop_throttle_seconds: int
    scan_limit: int
    scan_strategy: str
    failure_backoff_max_seconds: int
    failure_backoff_strategy: str


class RepairScope(TypedDict, total=False):
    """One task queue's share of the candidates (``candidates.scopes[]``)."""

    scope_key: str
    connection: str
    queue: str
    compatibility: str | None
    existing_task_candidates: int
    missing_task_candidates: int
    total_candidates: int
    selected_existing_task_candidates: int
    selected_missing_task_candidates: int
    selected_total_candidates: int
    oldest_task_candidate_created_at: str | None
    oldest_missing_run_started_at: str | None
    max_task_candidate_age_ms: int
    max_missing_run_age_ms: int
    scan_limited_by_global_policy: bool


class RepairCandidates(TypedDict, total=False):
    """``GET /system/repair`` → ``candidates``: what a repair pass would act on now."""

    existing_task_candidates: int
    missing_task_candidates: int
    total_candidates: int
    scan_limit: int
    scan_strategy: str
    selected_existing_task_candidates: int
    selected_missing_task_candidates: int
    selected_total_candidates: int
    existing_task_scan_limit_reached: bool
    missing_task_scan_limit_reached: bool
    scan_pressure: bool
    oldest_task_candidate_created_at: str | None
    oldest_missing_run_started_at: str | None
    max_task_candidate_age_ms: int
    max_missing_run_age_ms: int
    scopes: list[RepairScope]


class RepairStatus(TypedDict, total=False):
    """``GET /system/repair``."""

    namespace: str
    policy: RepairPolicy
    candidates: RepairCandidates


class RepairFailure(TypedDict, total=False):
    """One item of ``existing_task_failures`` / ``missing_run_failures``."""

    run_id: str
    task_id: str | None
    message: str


class RepairPassResult(TypedDict, total=False):
    """``POST /system/repair/pass``: the report of one repair sweep (207 when a failure list is not empty)."""

    namespace: str
    connection: str
    queue: str | None
    run_ids: list[str]
    instance_id: str | None
    respect_throttle: bool
    throttled: bool
    selected_existing_task_candidates: int
    selected_missing_task_candidates: int
    selected_total_candidates: int
    repaired_existing_tasks: int
    repaired_missing_tasks: int
    dispatched_tasks: int
    existing_task_failures: list[RepairFailure]
    missing_run_failures: list[RepairFailure]
    deadline_expired_candidates: int
    deadline_expired_tasks_created: int
    deadline_expired_failures: list[RepairFailure]
    activity_timeout_candidates: int
    activity_timeouts_enforced: int
    activity_timeout_failures: list[RepairFailure]
    selected_command_contract_candidates: int
    backfilled_command_contracts: int
    command_contract_backfill_unavailable: int
    command_contract_failures: list[RepairFailure]


class ActivityTimeoutStatus(TypedDict, total=False):
    """``GET /system/activity-timeouts``: open activity executions past a deadline."""

    namespace: str
    expired_count: int
    expired_execution_ids: list[str]
    scan_limit: int
    scan_pressure: bool


class ActivityTimeoutPassItem(TypedDict, total=False):
    """One item of ``results``: ``enforced`` (``has_retry``), ``skipped`` or ``error`` (``reason``)."""

    execution_id: str
    outcome: Literal["enforced", "skipped", "error"]
    has_retry: bool
    reason: str


class ActivityTimeoutPassResult(TypedDict, total=False):
    """``POST /system/activity-timeouts/pass`` (207 when ``failed > 0``)."""

    namespace: str
    processed: int
    enforced: int
    skipped: int
    failed: int
    results: list[ActivityTimeoutPassItem]


class RetentionStatus(TypedDict, total=False):
    """``GET /system/retention``: closed runs older than the namespace's retention window."""

    namespace: str
    retention_days: int
    cutoff: str
    expired_run_count: int
    expired_run_ids: list[str]
    scan_limit: int
    scan_pressure: bool


class RetentionPassItem(TypedDict, total=False):
    """One item of ``results``: ``pruned`` with its counts, ``skipped`` or ``error`` with ``reason``."""

    run_id: str
    outcome: Literal["pruned", "skipped", "error"]
    history_events_deleted: int
    tasks_deleted: int
    external_payloads_deleted: int
    deleted: bool
    reason: str


class RetentionPassResult(TypedDict, total=False):
    """``POST /system/retention/pass`` (207 when ``failed > 0``)."""

    namespace: str
    processed: int
    pruned: int
    skipped: int
    failed: int
    results: list[RetentionPassItem]


class OperatorMetrics(TypedDict, total=False):
    """``GET /system/operator-metrics``: a point-in-time snapshot of the namespace.

    ``operator_metrics`` holds one section per area (``runs``, ``tasks``, ``backlog``,
    ``repair``, ``workers``, ``schedules``, ``activities``, ...); its keys grow with the server,
    so it stays an open mapping here.
    """

    namespace: str
    operator_metrics: dict[str, Any]
