"""Control-plane update routes: the instance form and the run-targeted form."""

from __future__ import annotations

from typing import cast

from durable_workflow.protocol import routes

from ..engine.api import UpdateRequest
from ..engine.updates.shapes import WaitFor
from .models.messages import UpdateWorkflowBody
from .operation_names import check_operation_name
from .routing import Call, Operation, Reply, copy_reply, engine_call

# The update's status → the answer's HTTP status (control-plane contract).
_STATUS = {"accepted": 202, "completed": 200, "failed": 422}


async def update(call: Call[UpdateWorkflowBody]) -> Reply:
    body = call.input
    request = UpdateRequest(
        workflow_id=call.path["workflow_id"],
        update_name=check_operation_name("update", call.path["name"]),
        arguments=body.arguments(),
        run_id=call.path.get("run_id"),
        request_id=body.request_id,
        wait_for=cast(WaitFor, body.wait_for or "accepted"),
        wait_timeout_seconds=body.wait_timeout_seconds,
    )
    result = await engine_call(call.engine.update_workflow(call.namespace, request))
    return copy_reply(result, _STATUS.get(str(result.get("update_status")), 200))


OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        path,
        operation_id,
        update,
        body=UpdateWorkflowBody,
        envelope="update",
        summary=summary,
        responses=(202, 200, 404, 409),
    )
    for path, operation_id, summary in (
        (routes.WORKFLOW_UPDATE, "update_workflow", "Send an update to a workflow's current run."),
        (routes.WORKFLOW_RUN_UPDATE, "update_run", "Send an update to one run (it must be the current run)."),
    )
]
