"""The external-storage round-trip test, admin only (control-plane.md §8.2).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from . import guards
from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("POST", routes.STORAGE_TEST, "test_external_storage", roles=guards.ADMIN_ROLES),
]
