"""The debug view of one run (``GET /workflows/{id}/debug``, control-plane.md §8.3.6).

Composed in one read snapshot from what the engine already tracks: the run's describe facts,
its open workflow tasks and activities, its queue's backlog and pollers (the task-queue view's
facts), the failures its history and workflow tasks record, its latest event and its next
timer. Nothing is written; a fact the server does not track is ``null``.

``diagnostic_status`` is the first of these that holds (see docs/protocol.md):

1. ``terminal`` — the run is closed.
2. ``needs_attention`` — something will not resolve by itself: repair would dispatch work
   (a workflow task lease expired, the latest workflow task failed, no task and nothing to wake
   the run), the latest workflow task failed and is redelivered, an activity task's lease
   expired, an open activity failed and is being retried, or the run has work claimable now and
   no fresh, accepting worker of its queue may claim it.
3. ``queue_backlog`` — the run has work claimable now and older claimable work of another run
   is ahead of it on the queue.
4. ``pending_work`` — the run has work claimable now, first in line.
5. ``running`` — a worker holds a live lease on one of the run's tasks.
6. ``waiting`` — nothing of the run is claimable or leased: it waits on a timer, a signal, a
   condition, a child, an activity's retry backoff, or it is paused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from durable_workflow.protocol.history import EventType, is_terminal

from ...store.rows import HistoryEventRow, RunRow, TimerRow, WorkflowTaskRow
from ...store.statuses import ActivityTaskStatus, WorkflowTaskStatus
from ..activities import rows as activity_rows
from ..history import events as h
from ..history import rows as history_rows
from ..repair import diagnose
from ..task_queues import views as queue_views
from ..task_queues.cohorts import may_claim_for
from ..timers import rows as timer_rows
from ..transaction import Tx
from ..util import rfc3339
from ..waiting_shapes import WaitingOn
from ..workflow_tasks import rows as workflow_task_rows
from .diagnostic_shapes import (
    DebugCompatibility,
    DebugExecution,
    DebugWorkflowBody,
    DiagnosticStatus,
    Finding,
    LastEvent,
    NextScheduledEvent,
    PendingActivity,
    PendingWorkflowTask,
    RecentFailure,
)
from .waiting import nothing, wait_of

# At most this many failures are listed, newest first.
RECENT_FAILURES_LIMIT = 10
_FAILURE_EVENTS = (
    EventType.ACTIVITY_RETRY_SCHEDULED,
    EventType.ACTIVITY_FAILED,
    EventType.ACTIVITY_TIMED_OUT,
    EventType.WORKFLOW_FAILED,
    EventType.CHILD_RUN_FAILED,
)


def _expired(expires: datetime | None, now: datetime) -> bool:
    return expires is not None and expires <= now


def _due(available: datetime | None, now: datetime) -> bool:
    return available is None or available <= now


def _workflow_task(row: WorkflowTaskRow, now: datetime) -> PendingWorkflowTask:
    leased = row["status"] == WorkflowTaskStatus.LEASED
    return {
        "task_id": row["task_id"],
        "status": row["status"],
        "attempt": int(row["attempt_count"] or 0),
        "task_queue": row["task_queue"],
        "available_at": rfc3339(row["available_at"]),
        "is_due": row["status"] == WorkflowTaskStatus.READY and _due(row["available_at"], now),
        "lease_owner": row["lease_owner"] if leased else None,
        "lease_expires_at": rfc3339(row["lease_expires_at"]) if leased else None,
        "is_lease_expired": leased and _expired(row["lease_expires_at"], now),
        "update_id": row["workflow_update_id"],
    }


def _activity(row: dict[str, Any], now: datetime) -> PendingActivity:
    task_status = row["task_status"]
    leased = task_status == ActivityTaskStatus.LEASED
    return {
        "activity_execution_id": row["activity_execution_id"],
        "activity_type": row["activity_type"],
        "sequence": int(row["sequence"]),
        "status": row["status"],
        "attempt": int(row["attempt_count"] or 0),
        "task_queue": row["task_queue"],
        "scheduled_at": rfc3339(row["scheduled_at"]),
        "task_id": row["task_id"],
        "task_status": task_status,
        "available_at": rfc3339(row["available_at"]),
        "is_due": task_status == ActivityTaskStatus.READY and _due(row["available_at"], now),
        "lease_owner": row["lease_owner"] if leased else None,
        "lease_expires_at": rfc3339(row["lease_expires_at"]) if leased else None,
        "is_lease_expired": leased and _expired(row["lease_expires_at"], now),
        "last_heartbeat_at": rfc3339(row["last_heartbeat_at"]) if leased else None,
    }


def _event_failure(row: HistoryEventRow, open_executions: set[str]) -> RecentFailure:
    payload: dict[str, Any] = dict(row["payload"] or {})
    event_type = row["event_type"]
    execution_id = payload.get("activity_execution_id")
    source = (
        "workflow" if event_type in (EventType.WORKFLOW_FAILED, EventType.CHILD_RUN_FAILED) else "activity"
    )
    attempt = payload.get("attempt_number")
    non_retryable = payload.get("non_retryable")
    return {
        "source": source,
        "event_type": event_type,
        "sequence": int(row["sequence"]),
        "recorded_at": rfc3339(row["recorded_at"]),
        "task_id": None,
        "activity_execution_id": execution_id,
        "activity_type": payload.get("activity_type"),
        "attempt": int(attempt) if isinstance(attempt, int) else None,
        "exception_class": payload.get("exception_class"),
        "message": payload.get("message"),
        "non_retryable": non_retryable if isinstance(non_retryable, bool) else None,
        # A retry is still to come only while the execution is open.
        "retrying": event_type == EventType.ACTIVITY_RETRY_SCHEDULED and execution_id in open_executions,
    }


def _task_failure(row: WorkflowTaskRow, run_open: bool, latest: bool) -> RecentFailure:
    return {
        "source": "workflow_task",
        "event_type": None,
        "sequence": None,
        "recorded_at": rfc3339(row["updated_at"]),
        "task_id": row["task_id"],
        "activity_execution_id": None,
        "activity_type": None,
        "attempt": int(row["attempt_count"] or 0),
        "exception_class": None,  # a workflow task failure keeps its message only
        "message": row["last_error"],
        "non_retryable": None,
        "retrying": run_open and latest,  # a failed task is redelivered after a short delay
    }


def _last_event(row: HistoryEventRow | None, with_payload: bool) -> LastEvent | None:
    if row is None:
        return None
    event: LastEvent = {
        "sequence": int(row["sequence"]),
        "event_type": row["event_type"],
        "recorded_at": rfc3339(row["recorded_at"]),
    }
    if with_payload:
        event["payload"] = row["payload"]
    return event


def _next_event(row: TimerRow | None) -> NextScheduledEvent | None:
    if row is None:
        return None
    return {
        "kind": "timer",
        "timer_id": row["timer_id"],
        "timer_kind": row["timer_kind"],
        "fire_at": rfc3339(row["fire_at"]),
        "sequence": int(row["sequence"]),
    }


class _Facts:
    """Everything the view is built from, read in the caller's snapshot."""

    def __init__(self, run: RunRow, waiting: WaitingOn | None, now: datetime) -> None:
        self.run, self.now = run, now
        self.waiting = waiting or nothing()
        self.terminal = is_terminal(run["status"])
        self.tasks: list[PendingWorkflowTask] = []
        self.activities: list[PendingActivity] = []
        self.failures: list[RecentFailure] = []
        self.latest_task_failed = False
        self.repair: tuple[str, str | None] | None = None
        self.last_event: HistoryEventRow | None = None
        self.next_timer: TimerRow | None = None

    async def load(self, tx: Tx, stale_after: float) -> _Facts:
        params = {"b_run_id": self.run["run_id"], "b_limit": RECENT_FAILURES_LIMIT}
        task_rows = cast(list[WorkflowTaskRow], await tx.all(workflow_task_rows.PENDING_OF_RUN, params))
        self.tasks = [_workflow_task(row, self.now) for row in task_rows]
        self.activities = [
            _activity(row, self.now) for row in await tx.all(activity_rows.PENDING_OF_RUN, params)
        ]
        open_executions = {a["activity_execution_id"] for a in self.activities}
        events = cast(
            list[HistoryEventRow], await tx.all(history_rows.latest_of_types(_FAILURE_EVENTS), params)
        )
        closed = cast(list[WorkflowTaskRow], await tx.all(workflow_task_rows.CLOSED_OF_RUN, params))
        self.latest_task_failed = bool(closed) and closed[0]["status"] == WorkflowTaskStatus.FAILED
        failures = [_event_failure(row, open_executions) for row in events] + [
            _task_failure(row, not self.terminal, index == 0)
            for index, row in enumerate(closed)
            if row["status"] == WorkflowTaskStatus.FAILED
        ]
        failures.sort(key=lambda f: f["recorded_at"] or "", reverse=True)
        self.failures = failures[:RECENT_FAILURES_LIMIT]
        self.last_event = cast(HistoryEventRow | None, await tx.one(history_rows.LAST_OF_RUN, params))
        self.next_timer = cast(TimerRow | None, await tx.one(timer_rows.NEXT_PENDING_OF_RUN, params))
        if not self.terminal and self.run["paused_at"] is None:
            diagnosis = await diagnose(tx, self.run)
            self.repair = None if diagnosis is None else (diagnosis[0], diagnosis[1])
        self.queue = await queue_views.facts(tx, self.run["namespace"], self.run["task_queue"], stale_after)
        return self

    # ------------------------------------------------------------------ derived facts
    def claimable(self) -> bool:
        return any(t["is_due"] for t in self.tasks) or any(a["is_due"] for a in self.activities)

    def leased(self) -> bool:
        return any(
            t["status"] == WorkflowTaskStatus.LEASED and not t["is_lease_expired"] for t in self.tasks
        ) or any(
            a["task_status"] == ActivityTaskStatus.LEASED and not a["is_lease_expired"]
            for a in self.activities
        )

    def eligible_pollers(self) -> int:
        pinned = self.run["pinned_build_key"]
        return sum(1 for w in self.queue.accepting() if may_claim_for(pinned, w["build_id"]))

    def behind_others(self) -> bool:
        oldest = self.queue.oldest
        return oldest is not None and oldest["run_id"] != self.run["run_id"]

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        if self.terminal:
            return found
        if self.repair is not None:
            state = self.repair[0]
            found.append({"severity": "error", "code": state, "message": _REPAIR_MESSAGES[state]})
        elif self.latest_task_failed:
            failure = next(f for f in self.failures if f["source"] == "workflow_task")
            found.append(
                {
                    "severity": "warning",
                    "code": "workflow_task_failing",
                    "message": f"The latest workflow task failed (attempt {failure['attempt']}) and is "
                    f"redelivered: {failure['message'] or 'no message'}",
                }
            )
        for activity in self.activities:
            if activity["is_lease_expired"]:
                found.append(
                    {
                        "severity": "error",
                        "code": "activity_task_lease_expired",
                        "message": f"The lease of activity {activity['activity_type']} "
                        f"(attempt {activity['attempt']}) expired; the background loop will requeue it.",
                    }
                )
        retrying = [f for f in self.failures if f["retrying"] and f["source"] == "activity"]
        for activity_id in dict.fromkeys(f["activity_execution_id"] for f in retrying):
            failure = next(f for f in retrying if f["activity_execution_id"] == activity_id)
            found.append(
                {
                    "severity": "warning",
                    "code": "activity_retrying",
                    "message": f"Activity {failure['activity_type']} failed on attempt {failure['attempt']} "
                    f"and is being retried: {failure['message'] or failure['exception_class']}",
                }
            )
        if self.claimable() and self.eligible_pollers() == 0:
            found.append(
                {
                    "severity": "error",
                    "code": "no_eligible_pollers",
                    "message": f"Work is claimable but no live worker that may claim it polls "
                    f"task queue {self.run['task_queue']}.",
                }
            )
        if self.run["paused_at"] is not None:
            found.append({"severity": "info", "code": "paused", "message": "The run is paused."})
        elif self.claimable() and self.behind_others():
            found.append(
                {
                    "severity": "info",
                    "code": "queue_backlog",
                    "message": f"Older work of other runs waits ahead of this run on task queue "
                    f"{self.run['task_queue']}.",
                }
            )
        return found

    def status(self, findings: list[Finding]) -> DiagnosticStatus:
        if self.terminal:
            return "terminal"
        if any(f["severity"] in ("error", "warning") for f in findings):
            return "needs_attention"
        if self.claimable():
            return "queue_backlog" if self.behind_others() else "pending_work"
        if self.leased():
            return "running"
        return "waiting"


_REPAIR_MESSAGES = {
    "workflow_task_lease_expired": "A workflow task lease expired and the task was not requeued yet.",
    "workflow_task_delayed": "The run's only workflow task is held back after a failed attempt.",
    "workflow_task_failed": "The run's latest workflow task failed and nothing replaced it.",
    "workflow_task_missing": "The run has no workflow task and nothing it waits on will wake it.",
}


def _execution(facts: _Facts, event_payload: bool) -> DebugExecution:
    run = facts.run
    status = run["status"]
    wait_kind, wait_reason = wait_of(facts.waiting) if not facts.terminal else (None, None)
    repair = facts.repair
    return {
        "status": status,
        "status_bucket": h.bucket(status),
        "is_terminal": facts.terminal,
        "closed_reason": run["closed_reason"],
        "workflow_type": run["workflow_type"],
        "task_queue": run["task_queue"],
        "compatibility": None,
        "run_number": run["run_number"],
        "started_at": rfc3339(run["started_at"]),
        "closed_at": rfc3339(run["closed_at"]),
        "last_progress_at": rfc3339(run["last_progress_at"]),
        "wait_kind": wait_kind or (None if facts.terminal else run["wait_kind"]),
        "wait_reason": wait_reason or (None if facts.terminal else run["wait_reason"]),
        "paused": run["paused_at"] is not None,
        # The repair rule's word on the run (docs/protocol.md "Repair"); null once it is closed.
        "liveness_state": None if facts.terminal else (repair[0] if repair else "healthy"),
        "liveness_reason": _REPAIR_MESSAGES[repair[0]] if repair else None,
        "repair_attention": repair is not None,
        "task_problem": repair[0] if repair else None,
        "task_problem_badge": None,
        "last_event": _last_event(facts.last_event, event_payload),
        "next_scheduled_event": _next_event(facts.next_timer),
    }


def _compatibility(facts: _Facts) -> DebugCompatibility:
    pinned = facts.run["pinned_build_key"]
    return {
        "required": None,
        "pinned": pinned is not None,
        "pinned_build_id": pinned or None,
        "eligible_poller_count": facts.eligible_pollers(),
    }


async def debug_view(
    tx: Tx,
    run: RunRow,
    waiting: WaitingOn | None,
    *,
    stale_after: float,
    include_last_event_payload: bool = False,
) -> DebugWorkflowBody:
    """The debug body of ``run`` (``waiting``: describe's block, ``None`` for a closed run)."""
    facts = await _Facts(run, waiting, tx.now).load(tx, stale_after)
    findings = facts.findings()
    return {
        "generated_at": rfc3339(tx.now),
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "namespace": run["namespace"],
        "diagnostic_status": facts.status(findings),
        "execution": _execution(facts, include_last_event_payload),
        "pending_workflow_tasks": facts.tasks,
        "pending_activities": facts.activities,
        "task_queue": facts.queue.summary(),
        "recent_failures": facts.failures,
        "compatibility": _compatibility(facts),
        "findings": findings,
    }
