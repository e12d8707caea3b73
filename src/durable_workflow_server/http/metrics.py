"""The server's own metrics, admin only (control-plane.md §8.9).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from . import guards
from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("GET", routes.SYSTEM_METRICS, "system_metrics", roles=guards.ADMIN_ROLES),
    Operation("GET", routes.SYSTEM_OPERATOR_METRICS, "operator_metrics", roles=guards.ADMIN_ROLES),
]
