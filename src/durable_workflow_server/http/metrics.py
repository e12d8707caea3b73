"""The server's own metrics, admin only (control-plane.md §8.9).

``GET /system/metrics`` (workflow-task failure streaks, projection drift) and
``GET /system/operator-metrics`` (the namespace's runs, tasks, backlog, workers, limits): plain
JSON for the namespace of ``X-Namespace``, counted from the database when asked. The
Prometheus text endpoint of the server itself is ``GET /metrics`` (:mod:`.prometheus`).
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import routes

from . import guards
from .routing import Call, Operation, Reply, copy_reply, engine_call


async def system_metrics(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.system_metrics(call.namespace)))


async def operator_metrics(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.operator_metrics(call.namespace)))


OPERATIONS: list[Operation] = [
    Operation("GET", routes.SYSTEM_METRICS, "system_metrics", system_metrics, roles=guards.ADMIN_ROLES,
              summary="Workflow-task failure streaks and projection drift of the namespace."),
    Operation("GET", routes.SYSTEM_OPERATOR_METRICS, "operator_metrics", operator_metrics,
              roles=guards.ADMIN_ROLES,
              summary="The namespace's runs, tasks, backlog, repair candidates, workers and limits."),
]  # fmt: skip
