"""The documents of the ``system:*`` operator commands (``commands/system.py``): the server's
reports as it answers them (no namespace is added; the status reports carry their own).

Counters are integers; ``oldest_*`` fields are times and ``max_*_ms`` their ages.
"""

from __future__ import annotations

from .model import (
    Array,
    Document,
    Node,
    Object,
    Typed,
    boolean,
    integer,
    integers,
    lists_of_objects,
    objects,
    text,
    texts,
)
from .server import MATCHING_ROLE

COUNTS = ("processed", "skipped", "failed")


def _pass(name: str, title: str, done: str, result: dict[str, Node]) -> Document:
    """A pass report: counts of the items processed, and one result per item."""
    return Document(
        name,
        title,
        Object(
            {
                **integers(*COUNTS, done, null=False),
                "results": Array(
                    Object({"outcome": text(), "reason": text(null=True), **result}, required=("outcome",))
                ),
            },
            required=(*COUNTS, done, "results"),
        ),
    )


def _status(name: str, title: str, fields: dict[str, Node], counted: str, ids: str) -> Document:
    """A status report: what a pass would take now, within the scan limit."""
    shape: dict[str, Node] = {
        **fields,
        counted: integer(),
        ids: Array(text()),
        "scan_limit": integer(),
        "scan_pressure": boolean(),
    }
    return Document(name, title, Object(shape, required=tuple(shape)))


ACTIVITY_TIMEOUT_PASS = _pass(
    "activity-timeout-pass",
    "dw system:activity-timeout-pass --json",
    "enforced",
    {"execution_id": text(null=True), "has_retry": boolean(null=True)},
)
ACTIVITY_TIMEOUT_STATUS = _status(
    "activity-timeout-status",
    "dw system:activity-timeout-status --json",
    {},
    "expired_count",
    "expired_execution_ids",
)
RETENTION_PASS = _pass(
    "retention-pass",
    "dw system:retention-pass --json",
    "pruned",
    {"run_id": text(null=True), **integers("history_events_deleted", "tasks_deleted")},
)
RETENTION_STATUS = _status(
    "retention-status",
    "dw system:retention-status --json",
    {"namespace": text(), "retention_days": integer(), "cutoff": text()},
    "expired_run_count",
    "expired_run_ids",
)

REPAIR_PASS = Document(
    "repair-pass",
    "dw system:repair-pass --json",
    Object(
        {
            "throttled": boolean(null=True),
            **integers(
                "selected_existing_task_candidates",
                "selected_missing_task_candidates",
                "repaired_existing_tasks",
                "repaired_missing_tasks",
                "dispatched_tasks",
                "selected_command_contract_candidates",
                "backfilled_command_contracts",
                "command_contract_backfill_unavailable",
            ),
            **lists_of_objects("existing_task_failures", "missing_run_failures", "command_contract_failures"),
        }
    ),
)
POLICY: dict[str, Node] = integers(
    "redispatch_after_seconds", "loop_throttle_seconds", "scan_limit", "failure_backoff_max_seconds"
)
REPAIR_STATUS = Document(
    "repair-status",
    "dw system:repair-status --json",
    Object(
        {
            "policy": Object({**POLICY, "scan_strategy": text(null=True)}),
            "candidates": Object(
                {
                    **integers("total_candidates", "existing_task_candidates", "missing_task_candidates"),
                    "scan_pressure": Typed(("boolean", "string", "null")),
                    **texts("oldest_task_candidate_created_at", "oldest_missing_run_started_at"),
                    **lists_of_objects("scopes"),
                }
            ),
        },
        required=("policy", "candidates"),
    ),
)


def _aged(*names: str) -> dict[str, Node]:
    """Per name: the count, and the ``oldest_<name>_at`` time with its ``max_<name>_age_ms``."""
    fields: dict[str, Node] = {}
    for name in names:
        fields.update(
            {**integers(name), f"oldest_{name}_at": text(null=True), **integers(f"max_{name}_age_ms")}
        )
    return fields


METRICS: dict[str, Node] = {
    "generated_at": text(null=True),
    "runs": Object(
        {
            **_aged("repair_needed"),
            **integers("claim_failed", "compatibility_blocked", "waiting"),
            "oldest_wait_started_at": text(null=True),
            **integers("max_wait_age_ms"),
        }
    ),
    "tasks": Object(
        {
            **integers("ready", "delayed", "leased"),
            **_aged("lease_expired", "ready_due", "claim_failed", "dispatch_failed", "unhealthy"),
            **integers("dispatch_overdue", "max_dispatch_overdue_age_ms"),
            "oldest_dispatch_overdue_since": text(null=True),
        }
    ),
    "backlog": Object(
        {
            **integers(
                "runnable_tasks",
                "delayed_tasks",
                "leased_tasks",
                "unhealthy_tasks",
                "repair_needed_runs",
                "claim_failed_runs",
                "compatibility_blocked_runs",
                "max_compatibility_blocked_age_ms",
            ),
            "oldest_compatibility_blocked_started_at": text(null=True),
        }
    ),
    "repair": Object(
        {
            **integers(
                "missing_task_candidates", "selected_missing_task_candidates", "max_missing_run_age_ms"
            ),
            "oldest_missing_run_started_at": text(null=True),
        }
    ),
    "workers": Object(
        {
            "required_compatibility": text(null=True),
            **integers("active_workers", "active_worker_scopes", "active_workers_supporting_required"),
            **lists_of_objects("fleet"),
        }
    ),
    "backend": Object(
        {
            "supported": boolean(null=True),
            "severity": text(null=True),
            **objects("database", "queue", "cache"),
            **lists_of_objects("issues"),
        }
    ),
    "schedules": Object(
        {
            **integers("active", "paused", "missed", "max_overdue_ms", "fires_total", "failures_total"),
            "oldest_overdue_at": text(null=True),
        }
    ),
    "activities": Object(
        {
            **integers("open", "pending", "running", "retrying", "max_retrying_age_ms"),
            "oldest_retrying_started_at": text(null=True),
            **_aged("timeout_overdue"),
            **integers("failed_attempts", "max_attempt_count"),
        }
    ),
    "repair_policy": Object(POLICY),
    "matching_role": Object(
        {
            **MATCHING_ROLE,
            "discovery_limits": Object(
                integers(
                    "poll_batch_cap",
                    "availability_ceiling_seconds",
                    "wake_signal_ttl_seconds",
                    "workflow_task_lease_seconds",
                    "activity_task_lease_seconds",
                ),
                nullable=True,
            ),
        }
    ),
    "projections": Object(
        {
            "run_summaries": Object(
                {"oldest_missing_run_started_at": text(null=True), **integers("max_missing_run_age_ms")}
            )
        }
    ),
}
OPERATOR_METRICS = Document(
    "operator-metrics",
    "dw system:operator-metrics --json",
    Object(
        {"namespace": text(null=True), "operator_metrics": Object(METRICS)}, required=("operator_metrics",)
    ),
)

DOCUMENTS = (
    ACTIVITY_TIMEOUT_PASS,
    ACTIVITY_TIMEOUT_STATUS,
    RETENTION_PASS,
    RETENTION_STATUS,
    REPAIR_PASS,
    REPAIR_STATUS,
    OPERATOR_METRICS,
)
COMMANDS: dict[str, tuple[str, Document]] = {
    f"system:{document.name}": ("--json", document) for document in DOCUMENTS
}
JSONL: dict[str, Document] = {}
