"""Describe and list bodies of a schedule row (the D8 superset, see :mod:`.shapes`)."""

from __future__ import annotations

from collections.abc import Sequence

from ...store.rows import ScheduleFireRow, ScheduleHistoryEventRow, ScheduleRow
from ...store.statuses import ScheduleStatus
from ..util import rfc3339
from .shapes import (
    BufferedActionBody,
    DescribeScheduleBody,
    RecentActionBody,
    ScheduleListItemBody,
)

RECENT_ACTIONS = 10


def _recent(event: ScheduleHistoryEventRow) -> RecentActionBody:
    payload = event["payload"] or {}
    return {
        "scheduled_at": payload.get("scheduled_at"),
        "started_at": rfc3339(event["recorded_at"]),
        "workflow_id": event["workflow_instance_id"],
        "run_id": event["workflow_run_id"],
        "source": payload.get("source"),
    }


def _buffered(fire: ScheduleFireRow) -> BufferedActionBody:
    return {
        "fire_at": rfc3339(fire["fire_at"]),
        "source": fire["source"],
        "buffered_at": rfc3339(fire["created_at"]),
    }


def describe(
    row: ScheduleRow, recent: Sequence[ScheduleHistoryEventRow], buffered: Sequence[ScheduleFireRow]
) -> DescribeScheduleBody:
    paused = row["status"] == ScheduleStatus.PAUSED
    next_fire, last_fire = rfc3339(row["next_fire_at"]), rfc3339(row["last_fired_at"])
    return {
        "namespace": row["namespace"],
        "schedule_id": row["schedule_id"],
        "spec": dict(row["spec"]),
        "action": dict(row["action"]),
        "overlap_policy": row["overlap_policy"],
        "state": {"status": row["status"], "paused": paused, "note": row["note"]},
        "info": {
            "next_fire": next_fire,
            "last_fire": last_fire,
            "fires_count": int(row["fires_count"]),
            "failures_count": int(row["failures_count"]),
            "recent_actions": [_recent(e) for e in recent],
            "buffered_actions": [_buffered(f) for f in buffered],
            "skipped_trigger_count": int(row["skipped_trigger_count"]),
            "last_skip_reason": row["last_skip_reason"],
            "last_skipped_at": rfc3339(row["last_skipped_at"]),
        },
        "memo": dict(row["memo"] or {}),
        "search_attributes": dict(row["search_attributes"] or {}),
        "jitter_seconds": int(row["jitter_seconds"]),
        "max_runs": row["max_runs"],
        "remaining_actions": row["remaining_actions"],
        "latest_workflow_instance_id": row["latest_workflow_id"],
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
        "status": row["status"],
        "paused": paused,
        "note": row["note"],
        "fires_count": int(row["fires_count"]),
        "failures_count": int(row["failures_count"]),
        "next_fire": next_fire,
        "last_fire": last_fire,
        "next_fire_at": next_fire,
        "last_fired_at": last_fire,
        "paused_at": rfc3339(row["paused_at"]),
    }


def list_item(row: ScheduleRow) -> ScheduleListItemBody:
    next_fire, last_fire = rfc3339(row["next_fire_at"]), rfc3339(row["last_fired_at"])
    action = dict(row["action"])
    item: ScheduleListItemBody = {
        "schedule_id": row["schedule_id"],
        "workflow_type": str(action.get("workflow_type", "")),
        "status": row["status"],
        "paused": row["status"] == ScheduleStatus.PAUSED,
        "spec": dict(row["spec"]),
        "action": action,
        "overlap_policy": row["overlap_policy"],
        "note": row["note"],
        "fires_count": int(row["fires_count"]),
        "next_fire": next_fire,
        "last_fire": last_fire,
        "next_fire_at": next_fire,
        "last_fired_at": last_fire,
    }
    if row["jitter_seconds"]:
        item["jitter_seconds"] = int(row["jitter_seconds"])
    if row["max_runs"] is not None:
        item["max_runs"] = int(row["max_runs"])
    if row["remaining_actions"] is not None:
        item["remaining_actions"] = int(row["remaining_actions"])
    return item
