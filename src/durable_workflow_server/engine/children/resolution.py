"""The parent's side of a child run closing: re-link, retry or resolve the step (timer loop).

A closing child leaves a due ``child_closed`` timer on its parent run (``children.hooks``); the
background loop fires it here, holding the parent's lock (the timer's run, locked first). The
link is then brought up to date with the child's latest run:

* the child continued as new → the link follows the new run, ``ChildRunStarted`` in the parent;
* the run failed (or timed out) with attempts left in the child retry policy → a
  ``child_retry`` timer on the parent after the backoff; when it fires, a new run of the same
  child instance starts (``children.starting.start_retry``) and ``ChildRunStarted`` records it;
* otherwise the step resolves: ``ChildRun{Completed,Failed,Cancelled,Terminated}`` in the
  parent, the link closed, and the wake rule queues a workflow task once the batch is resolved.

A parent that is closed by then gets no events; the link is only closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from durable_workflow.protocol.history import EventType

from ...store.rows import ChildLinkRow, RunRow, TimerRow
from ...store.statuses import ChildLinkStatus, RunStatus, TimerStatus
from ..history import rows as history_rows
from ..history.rows import append
from ..runs.rows import RUNS_OF_WORKFLOW, is_terminal_run, load_run
from ..runs.steps import after_step_resolved
from ..timers import rows as timer_rows
from ..transaction import Tx
from ..util import new_id, seconds
from . import events, rows
from .hooks import LINK_STATUS_OF_RUN, current_child_run
from .starting import start_retry

Event = tuple[str, dict[str, Any]]
_CLOSING = (
    EventType.WORKFLOW_COMPLETED,
    EventType.WORKFLOW_FAILED,
    EventType.WORKFLOW_TIMED_OUT,
    EventType.WORKFLOW_CANCELLED,
    EventType.WORKFLOW_TERMINATED,
)
_CLOSING_EVENT = history_rows.last_of_types(_CLOSING)
_RESOLUTION_EVENT = {
    ChildLinkStatus.COMPLETED: EventType.CHILD_RUN_COMPLETED,
    ChildLinkStatus.FAILED: EventType.CHILD_RUN_FAILED,
    ChildLinkStatus.TIMED_OUT: EventType.CHILD_RUN_FAILED,
    ChildLinkStatus.CANCELLED: EventType.CHILD_RUN_CANCELLED,
    ChildLinkStatus.TERMINATED: EventType.CHILD_RUN_TERMINATED,
}


async def fire(tx: Tx, parent: RunRow | None, timer: TimerRow) -> None:
    """A claimed ``child_closed`` / ``child_retry`` timer of ``parent`` (locked)."""
    link = await rows.load_link(tx, str(timer["target_id"]))
    if link is None or link["status"] != ChildLinkStatus.OPEN:
        return
    parent_open = parent is not None and not is_terminal_run(parent)
    if timer["timer_kind"] == rows.TIMER_CHILD_RETRY:
        if parent_open:
            assert parent is not None
            await start_retry(tx, parent, link, int(timer["delay_seconds"]))
        return
    await reconcile(tx, parent if parent_open else None, link)


async def reconcile(tx: Tx, parent: RunRow | None, link: ChildLinkRow) -> None:
    """Bring the open ``link`` up to date with its child's latest run (``parent`` open or ``None``)."""
    child = await current_child_run(tx, link)
    if child is None:
        return
    out: list[Event] = []
    if child["run_id"] != link["child_run_id"]:  # the child continued as new (maybe several times)
        for run in await _runs_since(tx, link, child):
            out.append((EventType.CHILD_RUN_STARTED, events.run_started(link, run)))
        await rows.update_link(tx, link, child_run_id=child["run_id"])
    if not is_terminal_run(child):
        if parent is not None:
            await append(tx, parent, out)
        return
    closing = await tx.one(_CLOSING_EVENT, {"b_run_id": child["run_id"]})
    failure: Mapping[str, Any] = (closing or {}).get("payload") or {}
    delay = retry_delay(link, child, failure, tx) if parent is not None else None
    if parent is not None and delay is not None:
        await _schedule_retry(tx, parent, link, delay)
        await append(tx, parent, out)
        return
    status = _link_status(child)
    await rows.update_link(tx, link, status=status, closed_at=tx.now)
    if parent is None:
        return
    out.append((_RESOLUTION_EVENT[status], _resolution(link, child, status, failure)))
    await append(tx, parent, out, write_run=False)
    await after_step_resolved(tx, parent, link["batch_id"])


async def _runs_since(tx: Tx, link: ChildLinkRow, current: RunRow) -> list[RunRow]:
    """The child's runs after the one ``link`` knows, up to ``current``: one ``ChildRunStarted`` each."""
    known = await load_run(tx, str(link["child_run_id"]), lock=False) if link["child_run_id"] else None
    after = int(known["run_number"]) if known is not None else 0
    runs = cast(list[RunRow], await tx.all(RUNS_OF_WORKFLOW, {"b_workflow_id": link["child_workflow_id"]}))
    return [
        r
        for r in runs
        if after < int(r["run_number"]) <= int(current["run_number"])
        and r["parent_link_id"] == link["link_id"]
    ]


def _link_status(child: RunRow) -> ChildLinkStatus:
    if child["status"] == RunStatus.FAILED and child["closed_reason"] == "timed_out":
        return ChildLinkStatus.TIMED_OUT
    return LINK_STATUS_OF_RUN[RunStatus(child["status"])]


def retry_delay(link: ChildLinkRow, child: RunRow, failure: Mapping[str, Any], tx: Tx) -> int | None:
    """The backoff before the next attempt, or ``None`` when the failure is final.

    Only a failed run is retried (a run timeout counts; the execution timeout caps every
    attempt, so it never is), while ``max_attempts`` (default 1) is not used up, unless the
    failure is non-retryable or the backoff would end past the execution deadline.
    """
    policy = link["retry_policy"] or {}
    attempt = int(link["attempt"])
    if child["status"] != RunStatus.FAILED or attempt >= int(policy.get("max_attempts") or 1):
        return None
    if failure.get("timeout_kind") == "execution" or failure.get("non_retryable"):
        return None
    listed = set(policy.get("non_retryable_error_types") or [])
    if listed & {failure.get("exception_type"), failure.get("exception_class")}:
        return None
    backoff = list(policy.get("backoff_seconds") or [])
    delay = int(backoff[min(attempt - 1, len(backoff) - 1)]) if backoff else 0
    deadline = child["execution_deadline_at"]
    if deadline is not None and tx.now + seconds(delay) >= deadline:
        return None
    return delay


async def _schedule_retry(tx: Tx, parent: RunRow, link: ChildLinkRow, delay: int) -> None:
    await tx.conn.execute(
        timer_rows.INSERT,
        {
            "timer_id": new_id(),
            "run_id": parent["run_id"],
            "namespace": parent["namespace"],
            "sequence": link["sequence"],
            "batch_id": link["batch_id"],
            "delay_seconds": delay,
            "fire_at": tx.now + seconds(delay),
            "status": TimerStatus.PENDING,
            "created_at": tx.now,
            "timer_kind": rows.TIMER_CHILD_RETRY,
            "target_id": link["link_id"],
        },
    )
    tx.timers_changed = True


def _resolution(
    link: ChildLinkRow, child: RunRow, status: ChildLinkStatus, failure: Mapping[str, Any]
) -> dict[str, Any]:
    payload = events.run_closed(link, child)
    if status == ChildLinkStatus.COMPLETED:
        codec = child["output_codec"] or child["payload_codec"]
        return {
            **payload,
            "output": child["output_blob"],
            "result": child["output_blob"],
            "payload_codec": codec,
        }
    category = {
        ChildLinkStatus.TIMED_OUT: "timeout",
        ChildLinkStatus.CANCELLED: "cancelled",
        ChildLinkStatus.TERMINATED: "terminated",
    }.get(status, "child_workflow")
    exception = failure.get("exception")
    return {
        **payload,
        "failure_id": new_id(),
        "failure_category": category,
        "exception_type": failure.get("exception_type"),
        "exception_class": failure.get("exception_class"),
        "message": failure.get("message") or f"Child workflow [{link['child_workflow_type']}] {status}.",
        "exception": exception if isinstance(exception, Mapping) else None,
        "code": None,
        "non_retryable": bool(failure.get("non_retryable", False)),
    }
