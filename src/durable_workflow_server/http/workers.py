"""The worker registry, read and pruned by operators (control-plane.md §8.4).

``GET /workers`` filters on the reported status (``active``, ``draining``, ``stale``);
``DELETE /workers/{id}`` (admin) is idempotent: ``deregistered``, then ``already_absent``.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import routes

from . import guards
from .models.task_queues import ListWorkersQuery
from .routing import Call, Operation, Reply, copy_reply, engine_call


async def list_workers(call: Call[ListWorkersQuery]) -> Reply:
    query = call.input
    result = await engine_call(
        call.engine.list_workers(call.namespace, task_queue=query.task_queue, status=query.status)
    )
    return copy_reply(result)


async def describe_worker(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.describe_worker(call.namespace, call.path["worker_id"])))


async def deregister_worker(call: Call[Any]) -> Reply:
    return copy_reply(
        await engine_call(call.engine.deregister_worker(call.namespace, call.path["worker_id"]))
    )


OPERATIONS: list[Operation] = [
    Operation("GET", routes.WORKERS, "list_workers", list_workers, query=ListWorkersQuery,
              summary="List registered workers, most recent heartbeat first."),
    Operation("GET", routes.WORKER, "describe_worker", describe_worker, responses=(200, 404),
              summary="Describe one registered worker with its current admission."),
    Operation("DELETE", routes.WORKER, "deregister_worker", deregister_worker, roles=guards.ADMIN_ROLES,
              summary="Remove a worker's registration (idempotent; its leases run on)."),
]  # fmt: skip
