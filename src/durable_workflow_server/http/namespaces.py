"""Namespaces and their external-storage policy (control-plane.md §8.1, §9.1).

The namespace routes name their namespace in the path, so ``X-Namespace`` need not exist.

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from . import guards
from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("GET", routes.NAMESPACES, "list_namespaces", namespace_must_exist=False),
    Operation(
        "POST", routes.NAMESPACES, "create_namespace", roles=guards.ADMIN_ROLES, namespace_must_exist=False
    ),
    Operation("GET", routes.NAMESPACE, "describe_namespace", namespace_must_exist=False),
    Operation(
        "PUT", routes.NAMESPACE, "update_namespace", roles=guards.ADMIN_ROLES, namespace_must_exist=False
    ),
    Operation(
        "DELETE", routes.NAMESPACE, "delete_namespace", roles=guards.ADMIN_ROLES, namespace_must_exist=False
    ),
    Operation(
        "PUT",
        routes.NAMESPACE_EXTERNAL_STORAGE,
        "set_namespace_external_storage",
        roles=guards.ADMIN_ROLES,
        namespace_must_exist=False,
    ),
]
