"""The audit history of a schedule: appending events under the schedule's lock, reading pages.

Every transaction that changes a schedule locks its row first, so the next sequence is the row's
``history_sequence`` + 1; the unique ``(namespace, schedule_id, sequence)`` constraint turns a
writer that skipped the lock into an error instead of a gap or a duplicate.
"""

from __future__ import annotations

from typing import Any

from ...store.rows import ScheduleHistoryEventRow, ScheduleRow
from ..transaction import Tx
from ..util import new_id, rfc3339
from . import rows
from .shapes import ScheduleHistoryEventBody

CREATED = "ScheduleCreated"
PAUSED = "SchedulePaused"
RESUMED = "ScheduleResumed"
UPDATED = "ScheduleUpdated"
TRIGGERED = "ScheduleTriggered"
TRIGGER_SKIPPED = "ScheduleTriggerSkipped"
DELETED = "ScheduleDeleted"
EVENT_TYPES = (CREATED, PAUSED, RESUMED, UPDATED, TRIGGERED, TRIGGER_SKIPPED, DELETED)


async def record(
    tx: Tx,
    row: ScheduleRow,
    event_type: str,
    payload: dict[str, Any],
    *,
    workflow_id: str | None = None,
    run_id: str | None = None,
) -> None:
    """Append one event to the (locked) schedule's history."""
    sequence = int(row["history_sequence"]) + 1
    await tx.conn.execute(
        rows.INSERT_EVENT,
        {
            "id": new_id(),
            "namespace": row["namespace"],
            "schedule_id": row["schedule_id"],
            "sequence": sequence,
            "event_type": event_type,
            "payload": payload,
            "workflow_instance_id": workflow_id,
            "workflow_run_id": run_id,
            "recorded_at": tx.now,
        },
    )
    await rows.update(tx, row, history_sequence=sequence)


def event_body(event: ScheduleHistoryEventRow) -> ScheduleHistoryEventBody:
    return {
        "id": event["id"],
        "sequence": int(event["sequence"]),
        "event_type": event["event_type"],
        "payload": dict(event["payload"] or {}),
        "workflow_instance_id": event["workflow_instance_id"],
        "workflow_run_id": event["workflow_run_id"],
        "recorded_at": rfc3339(event["recorded_at"]),
    }
