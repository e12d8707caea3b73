"""Control-plane pause and resume (an extension of the contract, advertised in cluster-info as
``capabilities.workflow_pause``). Both answer ``200`` with the shared command result."""

from __future__ import annotations

from durable_workflow.protocol import routes

from .models.commands import ReasonedCommandBody, RepairBody
from .routing import Call, Operation, Reply, copy_reply, engine_call


async def pause(call: Call[ReasonedCommandBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.pause_workflow(
            call.namespace, call.path["workflow_id"], reason=body.reason, request_id=body.request_id
        )
    )
    return copy_reply(result)


async def resume(call: Call[RepairBody]) -> Reply:
    result = await engine_call(
        call.engine.resume_workflow(
            call.namespace, call.path["workflow_id"], request_id=call.input.request_id
        )
    )
    return copy_reply(result)


OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        routes.WORKFLOW_PAUSE,
        "pause_workflow",
        pause,
        body=ReasonedCommandBody,
        envelope="pause",
        summary="Pause a workflow's current run: no new workflow tasks or activity dispatches.",
        responses=(200, 409),
    ),
    Operation(
        "POST",
        routes.WORKFLOW_RESUME,
        "resume_workflow",
        resume,
        body=RepairBody,
        envelope="resume",
        summary="Resume a paused run: its held tasks become ready.",
        responses=(200, 409),
    ),
]
