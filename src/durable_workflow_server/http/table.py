"""The server's route table: every plane, its guards and its operations, in routing order.

Built from the per-noun modules; each path is a constant of ``durable_workflow.protocol.routes``
(a test pins this table to ``routes.ALL``).
"""

from __future__ import annotations

from . import (
    bridge,
    guards,
    health,
    maintenance,
    metrics,
    namespaces,
    openapi,
    pausing,
    queries,
    run_commands,
    schedules,
    search_attributes,
    signals,
    storage,
    system,
    task_queues,
    updates,
    worker_plane,
    workers,
    workflows,
)
from .routing import Plane

PUBLIC = Plane(
    "plain",
    [*health.OPERATIONS, openapi.OPERATION],
    resolve_namespace=False,
    title="Health and the API description",
)
CLUSTER = Plane("plain", system.OPERATIONS, roles=guards.ANY_ROLE, title="Cluster manifest")
CONTROL = Plane(
    "control",
    [
        *workflows.OPERATIONS,
        *signals.OPERATIONS,
        *queries.CONTROL,
        *updates.OPERATIONS,
        *run_commands.OPERATIONS,
        *pausing.OPERATIONS,
        *workflows.DEBUG,
        *namespaces.OPERATIONS,
        *storage.OPERATIONS,
        *schedules.OPERATIONS,
        *search_attributes.OPERATIONS,
        *task_queues.OPERATIONS,
        *workers.OPERATIONS,
        *maintenance.OPERATIONS,
        *metrics.OPERATIONS,
        *bridge.OPERATIONS,
    ],
    roles=guards.OPERATOR_ROLES,
    version=guards.check_control_plane_version,
    namespace_must_exist=True,
    title="Control plane",
)
WORKER = Plane(
    "worker",
    [*worker_plane.OPERATIONS, *queries.WORKER],
    roles=guards.WORKER_ROLES,
    version=guards.check_worker_protocol_version,
    namespace_must_exist=True,
    title="Worker plane",
)
PLANES: tuple[Plane, ...] = (PUBLIC, CLUSTER, CONTROL, WORKER)
