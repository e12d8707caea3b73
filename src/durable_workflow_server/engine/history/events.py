"""Pure history helpers: event payload builders, run status rules and event wire shapes.

Nothing here touches the database. Payload builders return the exact dict stored in
``history_events.payload``; shape functions turn a stored row into the three renderings the
wire uses (worker plane, control-plane history page, history export).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from durable_workflow.protocol.history import status_bucket
from durable_workflow.protocol.wire import HistoryEvent

from ...store.rows import HistoryEventRow
from ...store.statuses import OPEN_RUN_STATUSES, RunStatus
from ..external_storage.stored import wire_payload
from ..shapes import ExportedHistoryEvent, WorkflowActions
from ..util import rfc3339

# --------------------------------------------------------------------------- run status rules


def is_open(status: str) -> bool:
    return status in OPEN_RUN_STATUSES


# The one run-status → stop-reason map: ``run_closed.stop_reason`` of a workflow task, and the
# reason an activity heartbeat or late outcome gives after a cancel / terminate.
_STOP_REASONS: dict[str, str] = {
    RunStatus.CANCELLED: "run_cancelled",
    RunStatus.TERMINATED: "run_terminated",
    RunStatus.COMPLETED: "run_completed",
    RunStatus.FAILED: "run_failed",
}
CLOSED_BY_COMMAND = frozenset({RunStatus.CANCELLED, RunStatus.TERMINATED})


def stop_reason(status: str) -> str:
    """``run_closed.stop_reason`` for a terminal run status (see docs/protocol.md)."""
    return _STOP_REASONS.get(status, "run_closed")


def command_stop_reason(status: str) -> str | None:
    """``run_cancelled`` / ``run_terminated`` for a run a command closed, else ``None``."""
    return _STOP_REASONS[status] if status in CLOSED_BY_COMMAND else None


def actions(status: str, is_current: bool, *, archived: bool = False) -> WorkflowActions:
    """Describe ``actions`` (see docs/protocol.md); every worker-defined type is resolvable.

    Archive, like every run-targeted command, acts on the current run only.
    """
    open_ = is_open(status)
    live = open_ and is_current
    return {
        "can_signal": live,
        "can_query": open_,
        "can_update": live,
        "can_cancel": live,
        "can_terminate": live,
        "can_repair": live,
        "can_archive": not open_ and is_current and not archived,
    }


def bucket(status: str) -> str:
    return status_bucket(status)


# --------------------------------------------------------------------------- payload builders


def start_accepted(
    *,
    workflow_id: str,
    run_id: str,
    command_id: str,
    workflow_type: str,
    business_key: str | None,
    memo: dict[str, Any],
    search_attributes: dict[str, Any],
) -> dict[str, Any]:
    return {
        "workflow_command_id": command_id,
        "workflow_instance_id": workflow_id,
        "workflow_run_id": run_id,
        "workflow_type": workflow_type,
        "business_key": business_key,
        "memo": memo,
        "search_attributes": search_attributes,
        "outcome": "started_new",
        "rejection_reason": None,
    }


def workflow_started(
    *,
    now: datetime,
    workflow_id: str,
    run_id: str,
    command_id: str,
    workflow_type: str,
    run_number: int,
    task_queue: str,
    payload_codec: str,
    input_blob: str | None,
    business_key: str | None,
    memo: dict[str, Any],
    search_attributes: dict[str, Any],
    execution_timeout_seconds: int | None,
    run_timeout_seconds: int | None,
    execution_deadline_at: datetime | None,
    run_deadline_at: datetime | None,
) -> dict[str, Any]:
    # ``timestamp`` makes ctx.now() deterministic on replay (correct even where other servers
    # leave it out); ``arguments`` lets a replayer find the start input without the task.
    return {
        "timestamp": rfc3339(now),
        "workflow_type": workflow_type,
        "workflow_instance_id": workflow_id,
        "workflow_run_id": run_id,
        "workflow_command_id": command_id,
        "run_number": run_number,
        "task_queue": task_queue,
        "arguments": {"codec": payload_codec, "blob": input_blob} if input_blob is not None else None,
        "payload_codec": payload_codec,
        "business_key": business_key,
        "memo": memo,
        "search_attributes": search_attributes,
        "execution_timeout_seconds": execution_timeout_seconds,
        "run_timeout_seconds": run_timeout_seconds,
        "execution_deadline_at": rfc3339(execution_deadline_at),
        "run_deadline_at": rfc3339(run_deadline_at),
    }


def failure_fields(failure: Mapping[str, Any], category: str) -> dict[str, Any]:
    """Failure keys shared by ``WorkflowFailed`` / ``ActivityFailed`` / ``ActivityRetryScheduled``."""
    message = str(failure.get("message") or "")
    exception_type = failure.get("exception_type") or failure.get("type")
    exception_class = failure.get("exception_class") or failure.get("class") or exception_type
    exception_class = exception_class or "RuntimeException"
    return {
        "failure_category": category,
        "message": message,
        "exception_type": exception_type,
        "exception_class": exception_class,
        "non_retryable": bool(failure.get("non_retryable", False)),
        "exception": {
            "class": exception_class,
            "type": exception_type,
            "message": message,
            "trace": failure.get("stack_trace"),
        },
    }


# --------------------------------------------------------------------------- wire shapes


def worker_event(row: HistoryEventRow) -> HistoryEvent:
    """Worker-plane item (workflow-task poll / history page, see docs/protocol.md)."""
    return {
        "id": row["id"],
        "sequence": row["sequence"],
        "event_type": row["event_type"],
        "namespace": row["namespace"],
        "payload": wire_payload(row["payload"]),
        "workflow_task_id": row["workflow_task_id"],
        "workflow_command_id": row["workflow_command_id"],
        "recorded_at": rfc3339(row["recorded_at"]),
    }


def control_event(row: HistoryEventRow) -> HistoryEvent:
    """Control-plane history page item (see docs/protocol.md)."""
    return {
        "id": row["id"],
        "sequence": row["sequence"],
        "event_type": row["event_type"],
        "timestamp": rfc3339(row["recorded_at"]),
        "payload": wire_payload(row["payload"]),
    }


def export_event(row: HistoryEventRow) -> ExportedHistoryEvent:
    """History export item: ``type`` instead of ``event_type`` (see docs/protocol.md)."""
    return {
        "id": row["id"],
        "sequence": row["sequence"],
        "type": row["event_type"],
        "workflow_task_id": row["workflow_task_id"],
        "workflow_command_id": row["workflow_command_id"],
        "recorded_at": rfc3339(row["recorded_at"]),
        "payload": wire_payload(row["payload"]),
    }
