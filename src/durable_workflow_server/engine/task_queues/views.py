"""What ``GET /task-queues`` and ``GET /task-queues/{name}`` report, computed from the task tables.

A queue exists for these views as soon as a task was ever queued on it or a worker registered
on it; an unknown queue is described as empty. Counts are "approximate" in the contract's sense
only: each is exact for the read snapshot it was taken in.

* ``ready`` — claimable now (``ready`` and due); a retry waiting for its backoff is not counted.
* ``leased`` — leased and the lease still runs; ``expired_lease`` — leased past the lease, not yet
  taken back by the background loop (or by a claim).
* the backlog is ready plus expired-lease tasks of both kinds: work nobody holds.
* admission counts a queue's *accepting* workers (fresh heartbeat, cohort not drained) and their
  advertised slots. This server sets no server-side budgets (no lease caps, no dispatch rate
  limits), so every ``server_max_*`` limit and the capacities derived from it are ``null`` and
  it meters no dispatches (``server_dispatch_count_this_minute`` and the like are ``null``);
  lease counts are real.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from ...store.rows import WorkerRow
from ...store.statuses import WorkerStatus
from ..queries.broker import answers_queries
from ..transaction import Tx
from ..util import rfc3339, seconds
from ..workers import rows as worker_rows
from ..workers.registry import is_fresh
from . import rows
from .shapes import (
    OldestReadyTask,
    QueryAdmission,
    TaskAdmission,
    TaskCounts,
    TaskQueueDescriptionBody,
    TaskQueueLease,
    TaskQueuePoller,
    TaskQueueRepair,
    TaskQueueStats,
    TaskQueueSummary,
)

# A claimable task nobody took for this long is "dispatch overdue" in the repair facts.
DISPATCH_OVERDUE_AFTER_SECONDS = 60
# At most this many leases of each kind are listed by describe.
CURRENT_LEASES_LIMIT = 100
MAX_QUEUES = 1000


def age_label(age_seconds: int) -> str:
    """``45s``, ``3m12s``, ``2h5m``, ``4d3h``: the backlog age as the reference labels it."""
    if age_seconds < 60:
        return f"{age_seconds}s"
    if age_seconds < 3600:
        return f"{age_seconds // 60}m{age_seconds % 60}s"
    if age_seconds < 86400:
        return f"{age_seconds // 3600}h{age_seconds % 3600 // 60}m"
    return f"{age_seconds // 86400}d{age_seconds % 86400 // 3600}h"


async def queue_names(tx: Tx, namespace: str) -> list[str]:
    """Every queue of the namespace that holds tasks (of any status) or registrations."""
    names: set[str] = set()
    for statement in rows.QUEUE_NAMES:
        result = await tx.conn.execute(statement, {"b_namespace": namespace})
        names.update(str(name) for name in result.scalars().all())
    return sorted(names)[:MAX_QUEUES]


def _age(now: datetime, at: datetime) -> int:
    return max(0, int((now - at).total_seconds()))


class QueueFacts:
    """The reads one queue's summary is built from (one snapshot)."""

    def __init__(self, namespace: str, queue: str, now: datetime, stale_after: float) -> None:
        self.namespace, self.queue, self.now, self.stale_after = namespace, queue, now, stale_after
        self.params: dict[str, Any] = {"b_namespace": namespace, "b_queue": queue, "b_now": now}
        self.workers: list[WorkerRow] = []
        self.counts: dict[str, dict[str, Any]] = {}
        self.namespace_leases: dict[str, int] = {}
        self.oldest: OldestReadyTask | None = None
        self.overdue = 0
        self.pending_queries = 0

    async def load(self, tx: Tx) -> QueueFacts:
        self.workers = cast(list[WorkerRow], await tx.all(worker_rows.WORKERS_ON_QUEUE, self.params))
        for kind, counts, leases in (
            ("workflow", rows.WORKFLOW_COUNTS, rows.NAMESPACE_WORKFLOW_LEASES),
            ("activity", rows.ACTIVITY_COUNTS, rows.NAMESPACE_ACTIVITY_LEASES),
        ):
            self.counts[kind] = await tx.one(counts, self.params) or {}
            self.namespace_leases[kind] = int((await tx.conn.execute(leases, self.params)).scalar() or 0)
        self.oldest = await self._oldest(tx)
        overdue = {**self.params, "b_overdue_before": self.now - seconds(DISPATCH_OVERDUE_AFTER_SECONDS)}
        for statement in (rows.OVERDUE_WORKFLOW, rows.OVERDUE_ACTIVITY):
            self.overdue += int((await tx.conn.execute(statement, overdue)).scalar() or 0)
        self.pending_queries = int((await tx.conn.execute(rows.PENDING_QUERIES, self.params)).scalar() or 0)
        return self

    async def _oldest(self, tx: Tx) -> OldestReadyTask | None:
        workflow = await tx.one(rows.OLDEST_READY_WORKFLOW, self.params)
        activity = await tx.one(rows.OLDEST_READY_ACTIVITY, self.params)
        if workflow is None and activity is None:
            return None
        if activity is None or (
            workflow is not None and workflow["available_at"] <= activity["available_at"]
        ):
            assert workflow is not None
            row, task_type, workflow_id = workflow, "workflow", workflow["workflow_id"]
        else:
            row, task_type = activity, "activity"
            found = await tx.one(
                rows.WORKFLOW_ID_OF_EXECUTION, {"b_execution_id": activity["activity_execution_id"]}
            )
            workflow_id = found["workflow_id"] if found else None
        return {
            "task_id": row["task_id"],
            "task_type": task_type,
            "workflow_id": workflow_id,
            "run_id": row["run_id"],
            "available_at": rfc3339(row["available_at"]),
            "age_seconds": _age(self.now, row["available_at"]),
        }

    # ------------------------------------------------------------------ derived facts

    def task_counts(self, kind: str) -> TaskCounts:
        counts = self.counts.get(kind) or {}
        return {
            "ready_count": int(counts.get("ready_count") or 0),
            "leased_count": int(counts.get("leased_count") or 0),
            "expired_lease_count": int(counts.get("expired_lease_count") or 0),
        }

    def fresh(self, worker: WorkerRow) -> bool:
        return is_fresh(worker, self.now, self.stale_after)

    def accepting(self) -> list[WorkerRow]:
        """Workers that can take new tasks: fresh heartbeat and not of a drained cohort."""
        return [w for w in self.workers if w["status"] == WorkerStatus.ACTIVE and self.fresh(w)]

    def stats(self) -> TaskQueueStats:
        workflow, activity = self.task_counts("workflow"), self.task_counts("activity")
        backlog = sum(c["ready_count"] + c["expired_lease_count"] for c in (workflow, activity))
        fresh = [w for w in self.workers if self.fresh(w)]
        active = sum(1 for w in fresh if w["status"] == WorkerStatus.ACTIVE)
        age = self.oldest["age_seconds"] if self.oldest is not None else None
        return {
            "approximate_backlog_count": backlog,
            "approximate_backlog_age": age_label(age) if age is not None else None,
            "approximate_backlog_age_seconds": age,
            "oldest_ready_task": self.oldest,
            "workflow_tasks": workflow,
            "activity_tasks": activity,
            "pollers": {
                "active_count": active,
                "draining_count": len(fresh) - active,
                "stale_count": len(self.workers) - len(fresh),
                "stale_after_seconds": max(1, int(self.stale_after)),
            },
        }

    def repair(self) -> TaskQueueRepair:
        expired = sum(self.task_counts(kind)["expired_lease_count"] for kind in ("workflow", "activity"))
        return {
            "candidates": expired + self.overdue,
            "dispatch_failed": 0,  # tasks are rows a poll claims: there is no dispatch to fail
            "expired_leases": expired,
            "dispatch_overdue": self.overdue,
            "needs_attention": expired + self.overdue > 0,
            "policy": {
                "dispatch_overdue_after_seconds": DISPATCH_OVERDUE_AFTER_SECONDS,
                "expired_lease_recovery": "background_loop",
            },
        }

    def task_admission(self, kind: str) -> TaskAdmission:
        accepting = self.accepting()
        slot_key = "max_concurrent_workflow_tasks" if kind == "workflow" else "max_concurrent_activity_tasks"
        slots = sum(
            w["max_concurrent_workflow_tasks"] if kind == "workflow" else w["max_concurrent_activity_tasks"]
            for w in accepting
        )
        counts = self.task_counts(kind)
        available = max(0, slots - counts["leased_count"])
        if not accepting:
            status = "no_active_workers"
        elif available == 0:
            status = "no_slots"
        elif counts["ready_count"] > available:
            status = "saturated"
        else:
            status = "accepting"
        return {
            "budget_source": f"worker_registration.{slot_key}",
            "server_budget_source": None,
            "active_worker_count": len(accepting),
            "configured_slot_count": slots,
            "leased_count": counts["leased_count"],
            "ready_count": counts["ready_count"],
            "available_slot_count": available,
            "server_max_active_leases_per_queue": None,
            "server_active_lease_count": counts["leased_count"],
            "server_remaining_active_lease_capacity": None,
            "server_max_active_leases_per_namespace": None,
            "server_namespace_active_lease_count": self.namespace_leases.get(kind, 0),
            "server_remaining_namespace_active_lease_capacity": None,
            "server_max_dispatches_per_minute": None,
            "server_dispatch_count_this_minute": None,
            "server_remaining_dispatch_capacity": None,
            "server_max_dispatches_per_minute_per_namespace": None,
            "server_namespace_dispatch_count_this_minute": None,
            "server_remaining_namespace_dispatch_capacity": None,
            "server_dispatch_budget_group": None,
            "server_max_dispatches_per_minute_per_budget_group": None,
            "server_budget_group_dispatch_count_this_minute": None,
            "server_remaining_budget_group_dispatch_capacity": None,
            # Claims are fenced row updates: no budget lock is needed, and none would be missing.
            "server_lock_required": False,
            "server_lock_supported": True,
            "status": status,
        }

    def query_admission(self) -> QueryAdmission:
        answering = [w for w in self.accepting() if answers_queries(w)]
        return {
            "budget_source": "server.query_tasks.max_pending_per_queue",
            "max_pending_per_queue": None,
            "approximate_pending_count": self.pending_queries,
            "remaining_pending_capacity": None,
            "lock_required": True,
            "lock_supported": True,
            # Without a live worker that answers queries, a query is refused at once
            # (query_worker_unavailable); there is no pending cap, so it is never "full".
            "status": "accepting" if answering else "unavailable",
        }

    def summary(self) -> TaskQueueSummary:
        return {
            "name": self.queue,
            "namespace": self.namespace,
            "stats": self.stats(),
            "repair": self.repair(),
            "admission": {
                "workflow_tasks": self.task_admission("workflow"),
                "activity_tasks": self.task_admission("activity"),
                "query_tasks": self.query_admission(),
            },
        }

    def pollers(self) -> list[TaskQueuePoller]:
        ordered = sorted(self.workers, key=lambda w: (w["last_heartbeat_at"], w["worker_id"]), reverse=True)
        return [poller(w, self.now, self.stale_after) for w in ordered]


def poller(worker: WorkerRow, now: datetime, stale_after: float) -> TaskQueuePoller:
    stale = not is_fresh(worker, now, stale_after)
    return {
        "worker_id": worker["worker_id"],
        "runtime": worker["runtime"],
        "sdk_version": worker["sdk_version"],
        "build_id": worker["build_id"],
        "last_heartbeat_at": rfc3339(worker["last_heartbeat_at"]),
        "heartbeat_expires_at": rfc3339(worker["last_heartbeat_at"] + seconds(stale_after)),
        "status": "stale" if stale else worker["status"],
        "is_stale": stale,
        "supported_workflow_types": list(worker["supported_workflow_types"] or []),
        "supported_activity_types": list(worker["supported_activity_types"] or []),
        "max_concurrent_workflow_tasks": worker["max_concurrent_workflow_tasks"],
        "max_concurrent_activity_tasks": worker["max_concurrent_activity_tasks"],
    }


async def current_leases(tx: Tx, params: dict[str, Any]) -> list[TaskQueueLease]:
    now: datetime = params["b_now"]
    limited = {**params, "b_limit": CURRENT_LEASES_LIMIT}
    leases: list[TaskQueueLease] = []
    for row in await tx.all(rows.WORKFLOW_LEASES, limited):
        expires = row["lease_expires_at"]
        leases.append(
            {
                "task_id": row["task_id"],
                "task_type": "workflow",
                "workflow_id": row["workflow_id"],
                "run_id": row["run_id"],
                "lease_owner": row["lease_owner"],
                "lease_expires_at": rfc3339(expires),
                "is_expired": expires is not None and expires <= now,
                "workflow_task_attempt": row["attempt_count"],
            }
        )
    for row in await tx.all(rows.ACTIVITY_LEASES, limited):
        expires = row["lease_expires_at"]
        leases.append(
            {
                "task_id": row["task_id"],
                "task_type": "activity",
                "workflow_id": row["workflow_id"],
                "run_id": row["run_id"],
                "lease_owner": row["lease_owner"],
                "lease_expires_at": rfc3339(expires),
                "is_expired": expires is not None and expires <= now,
                "activity_attempt_id": row["current_attempt_id"],
                "attempt_number": row["attempt_number"],
            }
        )
    return leases


async def summary(tx: Tx, namespace: str, queue: str, stale_after: float) -> TaskQueueSummary:
    return (await QueueFacts(namespace, queue, tx.now, stale_after).load(tx)).summary()


async def describe(tx: Tx, namespace: str, queue: str, stale_after: float) -> TaskQueueDescriptionBody:
    facts = await QueueFacts(namespace, queue, tx.now, stale_after).load(tx)
    body = facts.summary()
    return {
        "name": body["name"],
        "namespace": body["namespace"],
        "pollers": facts.pollers(),
        "stats": body["stats"],
        "current_leases": await current_leases(tx, facts.params),
        "repair": body["repair"],
        "admission": body["admission"],
    }


async def facts(tx: Tx, namespace: str, queue: str, stale_after: float) -> QueueFacts:
    """One queue's loaded facts (the debug view of a run reads its queue's summary and pollers)."""
    return await QueueFacts(namespace, queue, tx.now, stale_after).load(tx)
