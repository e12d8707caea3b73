"""The worker registry, read and pruned by operators (control-plane.md §8.4).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from . import guards
from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("GET", routes.WORKERS, "list_workers"),
    Operation("GET", routes.WORKER, "describe_worker"),
    Operation("DELETE", routes.WORKER, "deregister_worker", roles=guards.ADMIN_ROLES),
]
