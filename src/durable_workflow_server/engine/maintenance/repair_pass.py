"""The system repair pass: find the runs whose work is lost or stuck and repair each one.

Candidates (see ``rows``) are of two kinds, as in control-plane.md §8.9:

* *existing task* candidates: a workflow task that exists but is stuck, either leased past its
  lease (the background loop would requeue it within its interval) or ready and neither
  claimed nor re-announced for ``repair_redispatch_after_seconds``;
* *missing task* candidates: an open run with no workflow task and nothing that would wake it.

The pass acts on each candidate in its own transaction under its run's lock, through the same
code as the per-run repair command (:func:`..repair.repair`, which re-checks the run and records
``RepairRequested``); an overdue ready task, which that command rightly calls healthy, is
re-announced to the pollers of its queue (in every process) and stamped, so the next pass
leaves it alone until another redispatch window has gone by. A repeated pass with nothing stuck
answers zero counters and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from durable_workflow.protocol.maintenance import (
    SCAN_LIMIT,
    RepairCandidates,
    RepairFailure,
    RepairPassResult,
    RepairPolicy,
    RepairScope,
    RepairStatus,
)

from ...settings import Settings
from ...store.rows import InstanceRow
from ...store.statuses import WorkflowTaskStatus
from .. import repair as repairing
from ..runs.rows import is_terminal_run, load_run
from ..targets import Target
from ..transaction import OpenTx, Tx
from ..util import rfc3339, seconds
from . import rows

SCAN_STRATEGY = "oldest_first"
# The per-run outcomes of ``repair.repair`` that re-created a task rather than freed one.
_CREATED = {"workflow_task_missing", "workflow_task_failed"}


def policy(settings: Settings) -> RepairPolicy:
    """The ``policy`` block. The pass runs only when called (no loop of its own, so no throttle)
    and a failed repair is not retried with a backoff (the next call tries again)."""
    return {
        "redispatch_after_seconds": int(settings.repair_redispatch_after_seconds),
        "loop_throttle_seconds": 0,
        "scan_limit": SCAN_LIMIT,
        "scan_strategy": SCAN_STRATEGY,
        "failure_backoff_max_seconds": 0,
        "failure_backoff_strategy": "none",
    }


def _age_ms(now: datetime, oldest: datetime | None) -> int:
    return max(0, int((now - oldest).total_seconds() * 1000)) if oldest is not None else 0


async def _by_queue(tx: Tx, scan: Any, when: str) -> dict[str, tuple[int, datetime | None]]:
    """``queue -> (count, oldest)`` over every row of a candidate scan (one grouped query)."""
    found = scan.order_by(None).subquery()
    grouped: Any = sa.select(found.c.task_queue, sa.func.count(), sa.func.min(found.c[when]))
    result: list[Any] = list((await tx.conn.execute(grouped.group_by(found.c.task_queue))).all())
    return {str(row[0]): (int(row[1]), row[2]) for row in result}


async def status(
    read: Callable[[], AbstractAsyncContextManager[Tx]], settings: Settings, namespace: str, connection: str
) -> RepairStatus:
    """``GET /system/repair``: the policy and what a pass would act on now."""
    async with read() as tx:
        return await status_in(tx, settings, namespace, connection)


async def status_in(tx: Tx, settings: Settings, namespace: str, connection: str) -> RepairStatus:
    """:func:`status`, read in ``tx``."""
    now = tx.now
    before = now - seconds(settings.repair_redispatch_after_seconds)
    existing_scan = rows.existing_task_candidates(namespace, now, before)
    missing_scan = rows.missing_task_candidates(namespace)
    existing = await _by_queue(tx, existing_scan, "created_at")
    missing = await _by_queue(tx, missing_scan, "started_at")
    # What a pass would select: the oldest SCAN_LIMIT of each kind.
    chosen_e = Counter(str(r["task_queue"]) for r in await tx.all(existing_scan.limit(SCAN_LIMIT)))
    chosen_m = Counter(str(r["task_queue"]) for r in await tx.all(missing_scan.limit(SCAN_LIMIT)))
    scopes: list[RepairScope] = []
    for queue in sorted(existing.keys() | missing.keys()):
        count_e, oldest_e = existing.get(queue, (0, None))
        count_m, oldest_m = missing.get(queue, (0, None))
        selected = chosen_e[queue] + chosen_m[queue]
        scopes.append(
            {
                "scope_key": f"{namespace}:{queue}",
                "connection": connection,
                "queue": queue,
                "compatibility": None,
                "existing_task_candidates": count_e,
                "missing_task_candidates": count_m,
                "total_candidates": count_e + count_m,
                "selected_existing_task_candidates": chosen_e[queue],
                "selected_missing_task_candidates": chosen_m[queue],
                "selected_total_candidates": selected,
                "oldest_task_candidate_created_at": rfc3339(oldest_e),
                "oldest_missing_run_started_at": rfc3339(oldest_m),
                "max_task_candidate_age_ms": _age_ms(now, oldest_e),
                "max_missing_run_age_ms": _age_ms(now, oldest_m),
                "scan_limited_by_global_policy": selected < count_e + count_m,
            }
        )
    total_e = sum(count for count, _ in existing.values())
    total_m = sum(count for count, _ in missing.values())
    oldest_e = min((oldest for _, oldest in existing.values() if oldest is not None), default=None)
    oldest_m = min((oldest for _, oldest in missing.values() if oldest is not None), default=None)
    sel_e, sel_m = sum(chosen_e.values()), sum(chosen_m.values())
    candidates: RepairCandidates = {
        "existing_task_candidates": total_e,
        "missing_task_candidates": total_m,
        "total_candidates": total_e + total_m,
        "scan_limit": SCAN_LIMIT,
        "scan_strategy": SCAN_STRATEGY,
        "selected_existing_task_candidates": sel_e,
        "selected_missing_task_candidates": sel_m,
        "selected_total_candidates": sel_e + sel_m,
        "existing_task_scan_limit_reached": total_e > SCAN_LIMIT,
        "missing_task_scan_limit_reached": total_m > SCAN_LIMIT,
        "scan_pressure": total_e > SCAN_LIMIT or total_m > SCAN_LIMIT,
        "oldest_task_candidate_created_at": rfc3339(oldest_e),
        "oldest_missing_run_started_at": rfc3339(oldest_m),
        "max_task_candidate_age_ms": _age_ms(now, oldest_e),
        "max_missing_run_age_ms": _age_ms(now, oldest_m),
        "scopes": scopes,
    }
    return {"namespace": namespace, "policy": policy(settings), "candidates": candidates}


async def _target(tx: Tx, namespace: str, run_id: str) -> Target | None:
    """The run, locked (the engine's lock order: the run first), if it is still open and ours."""
    run = await load_run(tx, run_id)
    if run is None or run["namespace"] != namespace or is_terminal_run(run) or run["paused_at"] is not None:
        return None
    instance = await tx.one(rows.INSTANCE, {"b_workflow_id": run["workflow_id"]})
    if instance is None or instance["current_run_id"] != run_id:
        return None
    return Target(cast(InstanceRow, instance), run, "run", run_id)


async def _repair_run(tx: Tx, namespace: str, run_id: str) -> str | None:
    """Repair one run through the per-run repair command; the liveness state it fixed, if any."""
    target = await _target(tx, namespace, run_id)
    if target is None:
        return None
    result = await repairing.repair(tx, target, request_id=None)
    if result.get("outcome") != "repair_dispatched":
        return None
    return result.get("liveness_state")


async def _redispatch(tx: Tx, namespace: str, task: dict[str, Any], before: datetime) -> bool:
    """Re-announce an overdue ready task to the pollers of its queue, stamped so it waits a window."""
    if await _target(tx, namespace, str(task["run_id"])) is None:
        return False
    touched = await tx.conn.execute(
        rows.TOUCH_OVERDUE_TASK, {"b_task_id": task["task_id"], "b_before": before, "b_now": tx.now}
    )
    if touched.rowcount != 1:
        return False  # claimed (or re-announced by another pass) meanwhile
    tx.wakes.add(("workflow", namespace, str(task["task_queue"])))
    return True


def _failure(run_id: str, task_id: str | None, exc: Exception) -> RepairFailure:
    return {"run_id": run_id, "task_id": task_id, "message": f"{type(exc).__name__}: {exc}"}


async def run_pass(
    open_tx: OpenTx,
    read: Callable[[], AbstractAsyncContextManager[Tx]],
    settings: Settings,
    namespace: str,
    connection: str,
    *,
    run_ids: Sequence[str] | None,
    instance_id: str | None,
) -> RepairPassResult:
    """``POST /system/repair/pass``: one sweep over the oldest candidates (``SCAN_LIMIT`` of each kind)."""
    async with read() as tx:
        now = tx.now
        before = now - seconds(settings.repair_redispatch_after_seconds)
        existing_scan = rows.existing_task_candidates(
            namespace, now, before, run_ids=run_ids, instance_id=instance_id
        )
        missing_scan = rows.missing_task_candidates(namespace, run_ids=run_ids, instance_id=instance_id)
        existing = await tx.all(existing_scan.limit(SCAN_LIMIT))
        missing = await tx.all(missing_scan.limit(SCAN_LIMIT))
    repaired_existing = repaired_missing = 0
    existing_failures: list[RepairFailure] = []
    missing_failures: list[RepairFailure] = []
    for task in existing:
        run_id, task_id = str(task["run_id"]), str(task["task_id"])
        try:
            async for txn in open_tx():
                async with txn as tx:
                    if task["status"] == WorkflowTaskStatus.LEASED:
                        fixed = await _repair_run(tx, namespace, run_id) is not None
                    else:
                        window = tx.now - seconds(settings.repair_redispatch_after_seconds)
                        fixed = await _redispatch(tx, namespace, task, window)
        except Exception as exc:  # one run's failure is reported; the pass goes on
            existing_failures.append(_failure(run_id, task_id, exc))
            continue
        repaired_existing += int(fixed)
    for run in missing:
        run_id = str(run["run_id"])
        try:
            async for txn in open_tx():
                async with txn as tx:
                    state = await _repair_run(tx, namespace, run_id)
        except Exception as exc:
            missing_failures.append(_failure(run_id, None, exc))
            continue
        if state in _CREATED:
            repaired_missing += 1
        elif state is not None:
            repaired_existing += 1  # its lease had run out meanwhile: freed, not re-created
    return {
        "namespace": namespace,
        "connection": connection,
        "queue": None,
        "run_ids": list(run_ids or []),
        "instance_id": instance_id,
        "respect_throttle": False,
        "throttled": False,
        "selected_existing_task_candidates": len(existing),
        "selected_missing_task_candidates": len(missing),
        "selected_total_candidates": len(existing) + len(missing),
        "repaired_existing_tasks": repaired_existing,
        "repaired_missing_tasks": repaired_missing,
        "dispatched_tasks": repaired_existing + repaired_missing,
        "existing_task_failures": existing_failures,
        "missing_run_failures": missing_failures,
        # Deadlines (run and activity timeouts) are enforced by the background loop and by the
        # activity-timeout pass, not by this one; there are no legacy command contracts to
        # backfill. These stay zero.
        "deadline_expired_candidates": 0,
        "deadline_expired_tasks_created": 0,
        "deadline_expired_failures": [],
        "activity_timeout_candidates": 0,
        "activity_timeouts_enforced": 0,
        "activity_timeout_failures": [],
        "selected_command_contract_candidates": 0,
        "backfilled_command_contracts": 0,
        "command_contract_backfill_unavailable": 0,
        "command_contract_failures": [],
    }
