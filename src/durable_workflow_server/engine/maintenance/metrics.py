"""``GET /system/metrics`` and ``GET /system/operator-metrics``: namespace facts read from the database.

Every value is counted when asked (the same answer from every server process). What this
server has no counterpart for is reported as zero, and docs/protocol.md says which: there are
no read projections that could drift (describe and list read the run rows themselves) and no
legacy command rows to backfill.
"""

from __future__ import annotations

from typing import Any, TypedDict

import sqlalchemy as sa

from ...settings import Settings
from ...store import tables as t
from ...store.statuses import OPEN_RUN_STATUSES, WorkerStatus, WorkflowTaskStatus
from ..transaction import Tx
from ..util import rfc3339, seconds
from . import repair_pass
from .retention import iso

#: At most this many workflow types get their own entry (label) in the failures metric.
WORKFLOW_TYPE_LIMIT = 20

_wr, _wt, _at, _ae, _qt, _he, _wk = (
    t.workflow_runs,
    t.workflow_tasks,
    t.activity_tasks,
    t.activity_executions,
    t.query_tasks,
    t.history_events,
    t.workers,
)


class TypeFailures(TypedDict):
    workflow_type: str
    max_consecutive_failures: int
    failed_task_count: int


class SystemMetricsBody(TypedDict):
    """``GET /system/metrics``."""

    generated_at: str
    namespace: str
    metrics: dict[str, Any]
    cardinality: dict[str, Any]


class OperatorMetricsBody(TypedDict):
    """``GET /system/operator-metrics``."""

    namespace: str
    operator_metrics: dict[str, Any]


def _streaks(namespace: str) -> sa.Select[Any]:
    """Per open run: the failed workflow tasks since its last completed one (its current streak)."""
    later = _wt.alias("later_ok")
    last_ok = (
        sa.select(sa.func.max(later.c.created_at))
        .where(later.c.run_id == _wt.c.run_id, later.c.status == WorkflowTaskStatus.COMPLETED)
        .scalar_subquery()
    )
    return (
        sa.select(_wr.c.workflow_type, _wt.c.run_id, sa.func.count())
        .select_from(_wt.join(_wr, _wr.c.run_id == _wt.c.run_id))
        .where(
            _wt.c.namespace == namespace,
            _wt.c.status == WorkflowTaskStatus.FAILED,
            _wr.c.status.in_(sorted(OPEN_RUN_STATUSES)),
            sa.or_(last_ok.is_(None), _wt.c.created_at > last_ok),
        )
        .group_by(_wr.c.workflow_type, _wt.c.run_id)
    )


async def _rows(tx: Tx, stmt: Any) -> list[Any]:
    return list((await tx.conn.execute(stmt)).all())


async def system_metrics(tx: Tx, namespace: str) -> SystemMetricsBody:
    by_type: dict[str, TypeFailures] = {}
    for workflow_type, _run_id, count in await _rows(tx, _streaks(namespace)):
        entry = by_type.setdefault(
            str(workflow_type),
            {"workflow_type": str(workflow_type), "max_consecutive_failures": 0, "failed_task_count": 0},
        )
        entry["max_consecutive_failures"] = max(entry["max_consecutive_failures"], int(count))
        entry["failed_task_count"] += int(count)
    ranked = sorted(by_type.values(), key=lambda e: (-e["max_consecutive_failures"], e["workflow_type"]))
    shown, suppressed = ranked[:WORKFLOW_TYPE_LIMIT], ranked[WORKFLOW_TYPE_LIMIT:]
    failures = {
        "max_consecutive_failures": max((e["max_consecutive_failures"] for e in ranked), default=0),
        "failed_task_count": sum(e["failed_task_count"] for e in ranked),
        "workflow_type_count": len(ranked),
        "workflow_type_limit": WORKFLOW_TYPE_LIMIT,
        "workflow_types_truncated": bool(suppressed),
        "suppressed_workflow_type_count": len(suppressed),
        "suppressed_failed_task_count": sum(e["failed_task_count"] for e in suppressed),
        "label_cardinality_policy": f"top_{WORKFLOW_TYPE_LIMIT}_workflow_types_by_consecutive_failures",
        "by_workflow_type": shown,
    }
    drift = {
        "total": 0,
        "table_count": 0,
        "tables_with_drift": 0,
        "scope": "server",
        "label_cardinality_policy": "per_table",
        "by_table": [],
    }
    return {
        "generated_at": iso(tx.now),
        "namespace": namespace,
        "metrics": {"dw_workflow_task_consecutive_failures": failures, "dw_projection_drift_total": drift},
        "cardinality": {
            "metric_label_sets": {
                "dw_workflow_task_consecutive_failures": len(shown),
                "dw_projection_drift_total": 0,
            }
        },
    }


async def _by_status(tx: Tx, table: sa.Table, namespace: str) -> dict[str, int]:
    stmt = (
        sa.select(table.c.status, sa.func.count())
        .where(table.c.namespace == namespace)
        .group_by(table.c.status)
    )
    return {str(status): int(count) for status, count in await _rows(tx, stmt)}


async def _scalar(tx: Tx, stmt: Any) -> Any:
    return (await tx.conn.execute(stmt)).scalar()


async def operator_metrics(
    tx: Tx, settings: Settings, namespace: str, connection: str
) -> OperatorMetricsBody:
    runs = await _by_status(tx, _wr, namespace)
    workflow_tasks = await _by_status(tx, _wt, namespace)
    activity_tasks = await _by_status(tx, _at, namespace)
    executions = await _by_status(tx, _ae, namespace)
    query_tasks = await _by_status(tx, _qt, namespace)
    oldest_ready = {
        kind: await _scalar(
            tx,
            sa.select(sa.func.min(table.c.available_at)).where(
                table.c.namespace == namespace, table.c.status == "ready"
            ),
        )
        for kind, table in (("workflow", _wt), ("activity", _at))
    }
    stale_before = tx.now - seconds(settings.worker_stale_after_seconds)
    workers = await _rows(
        tx, sa.select(_wk.c.status, _wk.c.last_heartbeat_at).where(_wk.c.namespace == namespace)
    )
    live = sum(1 for status, beat in workers if status == WorkerStatus.ACTIVE and beat > stale_before)
    repair = await repair_pass.status_in(tx, settings, namespace, connection)
    started = await _scalar(tx, sa.select(sa.func.max(_wr.c.started_at)).where(_wr.c.namespace == namespace))
    events = await _scalar(
        tx, sa.select(sa.func.count()).select_from(_he).where(_he.c.namespace == namespace)
    )
    open_runs = sum(count for status, count in runs.items() if status in OPEN_RUN_STATUSES)
    body: dict[str, Any] = {
        "generated_at": iso(tx.now),
        "runs": {"total": sum(runs.values()), "open": open_runs, "by_status": runs},
        "tasks": {"workflow": workflow_tasks, "activity": activity_tasks, "query": query_tasks},
        "activities": {"total": sum(executions.values()), "by_status": executions},
        "backlog": {
            "workflow_tasks_ready": workflow_tasks.get("ready", 0),
            "activity_tasks_ready": activity_tasks.get("ready", 0),
            "query_tasks_pending": query_tasks.get("pending", 0),
            "oldest_ready_workflow_task_at": rfc3339(oldest_ready["workflow"]),
            "oldest_ready_activity_task_at": rfc3339(oldest_ready["activity"]),
        },
        "repair": {
            key: repair["candidates"][key]
            for key in (
                "existing_task_candidates",
                "missing_task_candidates",
                "total_candidates",
                "scan_pressure",
            )
        },
        "starts": {"total": sum(runs.values()), "last_started_at": rfc3339(started)},
        "history": {"events": int(events or 0)},
        "command_contracts": {"candidates": 0, "backfilled": 0, "backfill_unavailable": 0},
        "projections": {"tables": 0, "drift": 0},
        "workers": {"registered": len(workers), "live": live, "stale": len(workers) - live},
        # ``database`` is an object in the published operator-metrics shape (room for more facts).
        "backend": {"database": {"driver": connection}, "counters": "per_process"},
        "structural_limits": {
            "max_payload_bytes": settings.max_payload_bytes,
            "max_memo_bytes": settings.max_memo_bytes,
            "history_page_size_max": settings.history_page_size_max,
        },
        "update_wait": {"default_wait_timeout_seconds": settings.update_wait_timeout_seconds},
        "repair_policy": repair["policy"],
        "matching_role": {"role": "embedded", "dispatch": "database"},
    }
    return {"namespace": namespace, "operator_metrics": body}
