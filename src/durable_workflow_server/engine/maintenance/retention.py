"""Retention: prune closed runs older than their namespace's retention window.

The cutoff is ``now - retention_days`` by the engine's clock. A run is pruned with every row it
owns (``rows.PRUNE_STATEMENTS``: history, workflow and activity tasks, executions and attempts,
timers, signals, updates, condition waits, the child links it started, query tasks, poll
records) and the objects external payload storage holds for it
(:func:`..external_storage.retention.delete_run_payloads`), in one transaction that holds the
run's lock; its instance goes with its last run. An open run is never pruned, and neither is a
closed child whose close notice its parent has not taken yet (the parent's step still reads it).

Lock order: only the pruned run is locked (then the instance row, as a start does). A closed
parent's open children are not touched: their own close finds the link gone and leaves no
notice, which is what it does for any parent that no longer waits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta, timezone

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.maintenance import (
    RetentionPassItem,
    RetentionPassResult,
    RetentionStatus,
)

from ...store.statuses import ChildLinkStatus
from ..children import rows as child_rows
from ..errors import DomainError
from ..external_storage.retention import delete_run_payloads
from ..runs.rows import is_terminal_run, load_run
from ..transaction import OpenTx, Tx
from . import rows

# Skip reasons of a pass item.
NOT_FOUND, NOT_TERMINAL, NOT_EXPIRED = "run_not_found", "run_not_terminal", "run_not_expired"
PARENT_NOTICE_PENDING = "parent_notice_pending"


def iso(value: datetime) -> str:
    """``2026-03-24T05:00:00+00:00``: the reference server's rendering of the cutoff."""
    return value.astimezone(timezone.utc).isoformat()


async def window(tx: Tx, namespace: str) -> tuple[int, datetime]:
    """The namespace's ``retention_days`` and the cutoff they give at ``tx.now``."""
    days = (await tx.conn.execute(rows.RETENTION_DAYS, {"b_namespace": namespace})).scalar()
    if days is None:  # the guard chain checked it exists; it was deleted since
        message = f"Namespace [{namespace}] was not found."
        raise DomainError(reasons.NAMESPACE_NOT_FOUND, message, namespace=namespace)
    return int(days), tx.now - timedelta(days=int(days))


async def status(
    read: Callable[[], AbstractAsyncContextManager[Tx]], namespace: str, limit: int
) -> RetentionStatus:
    """``GET /system/retention``: the window, the cutoff and the oldest expired run ids (``limit``)."""
    async with read() as tx:
        days, cutoff = await window(tx, namespace)
        ids = [str(r) for r in (await tx.conn.execute(rows.expired_runs(namespace, cutoff, limit))).scalars()]
    return {
        "namespace": namespace,
        "retention_days": days,
        "cutoff": iso(cutoff),
        "expired_run_count": len(ids),
        "expired_run_ids": ids,
        "scan_limit": limit,
        # The scan stopped at its limit: there may be more than it lists.
        "scan_pressure": len(ids) >= limit,
    }


async def prune(tx: Tx, namespace: str, run_id: str, cutoff: datetime) -> RetentionPassItem:
    """Prune one run if it is closed and expired; the pass item either way."""
    run = await load_run(tx, run_id)  # locked: nothing can reopen or continue it meanwhile
    if run is None or run["namespace"] != namespace:
        return {"run_id": run_id, "outcome": "skipped", "reason": NOT_FOUND}
    if not is_terminal_run(run):
        return {"run_id": run_id, "outcome": "skipped", "reason": NOT_TERMINAL}
    if run["closed_at"] is None or run["closed_at"] >= cutoff:
        return {"run_id": run_id, "outcome": "skipped", "reason": NOT_EXPIRED}
    if run["parent_link_id"]:
        link = await child_rows.load_link(tx, str(run["parent_link_id"]), lock=False)
        if link is not None and link["status"] == ChildLinkStatus.OPEN:
            return {"run_id": run_id, "outcome": "skipped", "reason": PARENT_NOTICE_PENDING}
    params = {"b_run_id": run_id}
    deleted: dict[str, int] = {}
    for table, statement in rows.PRUNE_STATEMENTS.items():
        deleted[table] = (await tx.conn.execute(statement, params)).rowcount
    payloads = await delete_run_payloads(tx, namespace, run_id)
    await tx.conn.execute(rows.DELETE_RUN, params)
    workflow = {"b_workflow_id": run["workflow_id"], "b_run_id": run_id}
    newest_left = (await tx.conn.execute(rows.OTHER_RUNS_LEFT, workflow)).scalar()
    if newest_left is None:
        await tx.conn.execute(rows.DELETE_INSTANCE, workflow)
    else:
        await tx.conn.execute(rows.REPOINT_INSTANCE, {**workflow, "b_new_run_id": newest_left})
    return {
        "run_id": run_id,
        "outcome": "pruned",
        "history_events_deleted": deleted["history_events"],
        "tasks_deleted": deleted["workflow_tasks"] + deleted["activity_tasks"],
        "external_payloads_deleted": payloads,
        "deleted": True,
    }


async def run_pass(
    open_tx: OpenTx,
    read: Callable[[], AbstractAsyncContextManager[Tx]],
    namespace: str,
    *,
    run_ids: Sequence[str] | None,
    limit: int,
) -> RetentionPassResult:
    """``POST /system/retention/pass``: prune the named runs, or the oldest expired ones (``limit``)."""
    async with read() as tx:
        _, cutoff = await window(tx, namespace)
        if run_ids:
            chosen = list(dict.fromkeys(run_ids))[:limit]
        else:
            found = await tx.conn.execute(rows.expired_runs(namespace, cutoff, limit))
            chosen = [str(r) for r in found.scalars()]
    results: list[RetentionPassItem] = []
    for run_id in chosen:
        try:
            async for txn in open_tx():
                async with txn as tx:
                    item = await prune(tx, namespace, run_id, cutoff)
            results.append(item)  # once committed: an attempt may run again
        except Exception as exc:  # this run's transaction rolled back; the pass goes on
            results.append({"run_id": run_id, "outcome": "error", "reason": f"{type(exc).__name__}: {exc}"})
    count = {
        outcome: sum(1 for r in results if r["outcome"] == outcome)
        for outcome in ("pruned", "skipped", "error")
    }
    return {
        "namespace": namespace,
        "processed": len(results),
        "pruned": count["pruned"],
        "skipped": count["skipped"],
        "failed": count["error"],
        "results": results,
    }
