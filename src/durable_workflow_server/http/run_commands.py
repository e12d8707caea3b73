"""Control-plane run commands: cancel, terminate, repair and archive (instance and run routes).

Each answers the shared command-result body (see docs/protocol.md) with status 200; refusals
come from the engine (``instance_not_found`` 404, ``run_not_active`` /
``historical_run_command_rejected`` / ``run_not_closed`` 409).
"""

from __future__ import annotations

from typing import Any, Literal

from durable_workflow.protocol import routes

from .models.commands import ReasonedCommandBody, RepairBody
from .routing import Call, Operation, Reply, copy_reply, engine_call


def _target(call: Call[Any]) -> tuple[str, str | None]:
    return call.path["workflow_id"], call.path.get("run_id")


async def _reasoned(
    call: Call[ReasonedCommandBody], command: Literal["cancel", "terminate", "archive"]
) -> Reply:
    """Cancel, terminate and archive take the same body and differ only in the engine method."""
    workflow_id, run_id = _target(call)
    body = call.input
    method = {
        "cancel": call.engine.cancel_workflow,
        "terminate": call.engine.terminate_workflow,
        "archive": call.engine.archive_workflow,
    }[command]
    result = await engine_call(
        method(call.namespace, workflow_id, run_id=run_id, reason=body.reason, request_id=body.request_id)
    )
    return copy_reply(result)


async def cancel(call: Call[ReasonedCommandBody]) -> Reply:
    return await _reasoned(call, "cancel")


async def terminate(call: Call[ReasonedCommandBody]) -> Reply:
    return await _reasoned(call, "terminate")


async def archive(call: Call[ReasonedCommandBody]) -> Reply:
    return await _reasoned(call, "archive")


async def repair(call: Call[RepairBody]) -> Reply:
    workflow_id, run_id = _target(call)
    result = await engine_call(
        call.engine.repair_workflow(
            call.namespace, workflow_id, run_id=run_id, request_id=call.input.request_id
        )
    )
    return copy_reply(result)


_ANSWERS = (200, 404, 409)
OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        path,
        operation_id,
        handler,
        body=model,
        envelope=envelope,
        summary=summary,
        responses=_ANSWERS,
    )
    for path, operation_id, handler, model, envelope, summary in (
        (routes.WORKFLOW_CANCEL, "cancel_workflow", cancel, ReasonedCommandBody, "cancel",
         "Cancel a workflow's current run at once."),
        (routes.WORKFLOW_TERMINATE, "terminate_workflow", terminate, ReasonedCommandBody, "terminate",
         "Terminate a workflow's current run at once."),
        (routes.WORKFLOW_REPAIR, "repair_workflow", repair, RepairBody, "repair",
         "Re-dispatch the lost work of a workflow's current run."),
        (routes.WORKFLOW_ARCHIVE, "archive_workflow", archive, ReasonedCommandBody, "archive",
         "Archive a workflow's closed current run."),
        (routes.WORKFLOW_RUN_CANCEL, "cancel_run", cancel, ReasonedCommandBody, "cancel",
         "Cancel a run (the current one) at once."),
        (routes.WORKFLOW_RUN_TERMINATE, "terminate_run", terminate, ReasonedCommandBody, "terminate",
         "Terminate a run (the current one) at once."),
        (routes.WORKFLOW_RUN_REPAIR, "repair_run", repair, RepairBody, "repair",
         "Re-dispatch the lost work of a run (the current one)."),
        (routes.WORKFLOW_RUN_ARCHIVE, "archive_run", archive, ReasonedCommandBody, "archive",
         "Archive a closed run (the current one)."),
    )
]  # fmt: skip
