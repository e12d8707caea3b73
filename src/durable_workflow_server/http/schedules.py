"""Schedules (control-plane.md §8.7).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("GET", routes.SCHEDULES, "list_schedules"),
    Operation("POST", routes.SCHEDULES, "create_schedule"),
    Operation("GET", routes.SCHEDULE, "describe_schedule"),
    Operation("PUT", routes.SCHEDULE, "update_schedule"),
    Operation("DELETE", routes.SCHEDULE, "delete_schedule"),
    Operation("POST", routes.SCHEDULE_PAUSE, "pause_schedule"),
    Operation("POST", routes.SCHEDULE_RESUME, "resume_schedule"),
    Operation("POST", routes.SCHEDULE_TRIGGER, "trigger_schedule"),
    Operation("POST", routes.SCHEDULE_BACKFILL, "backfill_schedule"),
    Operation("GET", routes.SCHEDULE_HISTORY, "schedule_history"),
]
