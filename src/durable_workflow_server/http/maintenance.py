"""System maintenance passes, admin only (control-plane.md §8.9).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from . import guards
from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("GET", routes.SYSTEM_REPAIR, "repair_status", roles=guards.ADMIN_ROLES),
    Operation("POST", routes.SYSTEM_REPAIR_PASS, "repair_pass", roles=guards.ADMIN_ROLES),
    Operation("GET", routes.SYSTEM_ACTIVITY_TIMEOUTS, "activity_timeout_status", roles=guards.ADMIN_ROLES),
    Operation(
        "POST", routes.SYSTEM_ACTIVITY_TIMEOUTS_PASS, "activity_timeout_pass", roles=guards.ADMIN_ROLES
    ),
    Operation("GET", routes.SYSTEM_RETENTION, "retention_status", roles=guards.ADMIN_ROLES),
    Operation("POST", routes.SYSTEM_RETENTION_PASS, "retention_pass", roles=guards.ADMIN_ROLES),
]
