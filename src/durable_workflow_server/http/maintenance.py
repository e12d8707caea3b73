"""System maintenance passes, admin only (control-plane.md §8.9).

Each answers plain JSON (no ``control_plane`` block) for the namespace of ``X-Namespace``.
A pass answers 207 when any item failed (its report says which), else 200; a pass with nothing
to do answers zero counters. Bad input is refused (422) before anything runs.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import routes
from durable_workflow.protocol.maintenance import SCAN_LIMIT

from . import guards
from .models.maintenance import ActivityTimeoutPassBody, RepairPassBody, RetentionPassBody, ScanQuery
from .routing import Call, Operation, Reply, copy_reply, engine_call

MULTI_STATUS = 207


async def repair_status(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.repair_status(call.namespace)))


async def repair_pass(call: Call[RepairPassBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.repair_pass(call.namespace, run_ids=body.run_ids, instance_id=body.instance_id or None)
    )
    failed = any(
        result.get(key)
        for key in ("existing_task_failures", "missing_run_failures", "command_contract_failures")
    )
    return copy_reply(result, MULTI_STATUS if failed else 200)


async def retention_status(call: Call[ScanQuery]) -> Reply:
    limit = call.input.limit or SCAN_LIMIT
    return copy_reply(await engine_call(call.engine.retention_status(call.namespace, limit=limit)))


async def retention_pass(call: Call[RetentionPassBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.retention_pass(call.namespace, run_ids=body.run_ids, limit=body.limit or SCAN_LIMIT)
    )
    return copy_reply(result, MULTI_STATUS if result.get("failed") else 200)


async def activity_timeout_status(call: Call[ScanQuery]) -> Reply:
    limit = call.input.limit or SCAN_LIMIT
    return copy_reply(await engine_call(call.engine.activity_timeout_status(call.namespace, limit=limit)))


async def activity_timeout_pass(call: Call[ActivityTimeoutPassBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.activity_timeout_pass(
            call.namespace, execution_ids=body.execution_ids, limit=body.limit or SCAN_LIMIT
        )
    )
    return copy_reply(result, MULTI_STATUS if result.get("failed") else 200)


_PASS = (200, MULTI_STATUS)
OPERATIONS: list[Operation] = [
    Operation("GET", routes.SYSTEM_REPAIR, "repair_status", repair_status, roles=guards.ADMIN_ROLES,
              summary="The repair policy and the runs whose work is lost or stuck."),
    Operation("POST", routes.SYSTEM_REPAIR_PASS, "repair_pass", repair_pass, body=RepairPassBody,
              roles=guards.ADMIN_ROLES, responses=_PASS,
              summary="Re-dispatch stuck workflow tasks and re-create lost ones."),
    Operation("GET", routes.SYSTEM_ACTIVITY_TIMEOUTS, "activity_timeout_status", activity_timeout_status,
              query=ScanQuery, roles=guards.ADMIN_ROLES,
              summary="Open activity executions with a deadline already passed."),
    Operation("POST", routes.SYSTEM_ACTIVITY_TIMEOUTS_PASS, "activity_timeout_pass", activity_timeout_pass,
              body=ActivityTimeoutPassBody, roles=guards.ADMIN_ROLES, responses=_PASS,
              summary="Enforce passed activity deadlines now."),
    Operation("GET", routes.SYSTEM_RETENTION, "retention_status", retention_status, query=ScanQuery,
              roles=guards.ADMIN_ROLES,
              summary="The retention window, its cutoff and the expired closed runs."),
    Operation("POST", routes.SYSTEM_RETENTION_PASS, "retention_pass", retention_pass, body=RetentionPassBody,
              roles=guards.ADMIN_ROLES, responses=_PASS,
              summary="Prune expired closed runs with their history, tasks and stored payloads."),
]  # fmt: skip
