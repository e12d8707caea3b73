"""Activity timeout deadlines (see docs/protocol.md): when each one falls, and which one fired.

Every activity task row carries the deadlines that apply to it (``*_deadline_at``) and
``timeout_at``, the earliest one that can fire while the task is in its current status; the
background loop scans ``(status, timeout_at)`` like timers scan ``(status, fire_at)``.

* schedule-to-start: when the task became claimable + value (a retry's own ``available_at``);
  only while the task waits (``ready``).
* schedule-to-close: schedule time + value, copied onto every task of the execution; always.
* start-to-close and heartbeat: claim + value, only while leased; each heartbeat renews the
  heartbeat deadline.

Timeouts are whole seconds, as the ``schedule_activity`` command carried them. Nothing here
touches the database: these helpers return column values to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from durable_workflow.protocol.wire import ActivityDeadlines

from ...store.statuses import ActivityTaskStatus
from ..util import rfc3339, seconds

SCHEDULE_TO_CLOSE = "schedule_to_close"
SCHEDULE_TO_START = "schedule_to_start"
HEARTBEAT = "heartbeat"
START_TO_CLOSE = "start_to_close"

# The deadline columns of ``activity_tasks`` (literal types, so rows can be indexed with them).
S2S: Final = "schedule_to_start_deadline_at"
STC: Final = "start_to_close_deadline_at"
S2C: Final = "schedule_to_close_deadline_at"
HB: Final = "heartbeat_deadline_at"


def _after(start: datetime, snapshot: Mapping[str, Any] | None, kind: str) -> datetime | None:
    value = (snapshot or {}).get(f"{kind}_timeout")
    return start + seconds(int(value)) if value else None


def earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def waiting(
    snapshot: Mapping[str, Any] | None, *, available_at: datetime, schedule_to_close_at: datetime | None
) -> dict[str, Any]:
    """Columns of a task that waits to be claimed: a new task, a retry, or a re-readied task."""
    schedule_to_start_at = _after(available_at, snapshot, SCHEDULE_TO_START)
    return {
        S2S: schedule_to_start_at,
        S2C: schedule_to_close_at,
        STC: None,
        HB: None,
        "timeout_at": earliest(schedule_to_start_at, schedule_to_close_at),
    }


def scheduled(snapshot: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    """Columns of the first task of a newly scheduled execution."""
    return waiting(snapshot, available_at=now, schedule_to_close_at=_after(now, snapshot, SCHEDULE_TO_CLOSE))


def claimed(snapshot: Mapping[str, Any] | None, task: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Columns of a task just leased as a new attempt (schedule-to-start no longer applies)."""
    start_to_close_at = _after(now, snapshot, START_TO_CLOSE)
    heartbeat_at = _after(now, snapshot, HEARTBEAT)
    return {
        STC: start_to_close_at,
        HB: heartbeat_at,
        "timeout_at": earliest(task[S2C], start_to_close_at, heartbeat_at),
    }


def heartbeat(snapshot: Mapping[str, Any] | None, task: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Columns after a heartbeat of the current attempt: the heartbeat deadline moves on."""
    heartbeat_at = _after(now, snapshot, HEARTBEAT)
    return {HB: heartbeat_at, "timeout_at": earliest(task[S2C], task[STC], heartbeat_at)}


def lease_until(lease_end: datetime, task: Mapping[str, Any]) -> datetime:
    """An attempt's lease never runs out before its start-to-close deadline.

    That deadline is the cap the user chose for one attempt; a shorter lease would end the
    attempt early as a lost lease (a retry, not a timeout) while it is still within its time.
    """
    start_to_close_at = task.get(STC)
    return max(lease_end, start_to_close_at) if start_to_close_at is not None else lease_end


def released(task: Mapping[str, Any]) -> dict[str, Any]:
    """Columns of a lease handed back unseen: waiting again, under its original deadlines."""
    return {STC: None, HB: None, "timeout_at": earliest(task[S2S], task[S2C])}


def fired(task: Mapping[str, Any], now: datetime) -> str | None:
    """The timeout kind that has fired for ``task`` at ``now``, by precedence; ``None`` if none.

    ``schedule_to_close`` > ``schedule_to_start`` (waiting) > ``heartbeat`` (leased) >
    ``start_to_close`` (leased).
    """
    # Inline tests rather than a nested helper: every claim, hand-out and outcome asks this.
    value = task.get(S2C)
    if value is not None and value <= now:
        return SCHEDULE_TO_CLOSE
    status = task.get("status")
    if status == ActivityTaskStatus.READY:
        value = task.get(S2S)
        if value is not None and value <= now:
            return SCHEDULE_TO_START
    elif status == ActivityTaskStatus.LEASED:
        value = task.get(HB)
        if value is not None and value <= now:
            return HEARTBEAT
        value = task.get(STC)
        if value is not None and value <= now:
            return START_TO_CLOSE
    return None


def wire(task: Mapping[str, Any]) -> ActivityDeadlines:
    """The ``deadlines`` object of an activity poll (see docs/protocol.md) for a leased task."""
    found = ActivityDeadlines()
    if task.get(STC) is not None:
        found["start_to_close"] = rfc3339(task[STC])
    if task.get(S2C) is not None:
        found["schedule_to_close"] = rfc3339(task[S2C])
    if task.get(HB) is not None:
        found["heartbeat"] = rfc3339(task[HB])
    return found


def event_fields(task: Mapping[str, Any]) -> dict[str, str | None]:
    """The deadline keys of ``ActivityTimedOut`` (see docs/protocol.md)."""
    return {
        "schedule_deadline_at": rfc3339(task.get(S2S)),
        "close_deadline_at": rfc3339(task.get(STC)),
        "schedule_to_close_deadline_at": rfc3339(task.get(S2C)),
        "heartbeat_deadline_at": rfc3339(task.get(HB)),
    }
