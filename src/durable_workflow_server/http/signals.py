"""Control-plane signal routes: the instance form and the run-targeted form."""

from __future__ import annotations

from durable_workflow.protocol import routes

from ..engine.signals.receiving import SignalRequest
from .errors import validation_error
from .models.signals import SignalWorkflowBody
from .operation_names import operation_name_errors
from .routing import Call, Operation, Reply, copy_reply, engine_call


async def signal_workflow(call: Call[SignalWorkflowBody]) -> Reply:
    name = call.path["name"]
    problems = operation_name_errors(name, "signal_name")
    if problems:
        raise validation_error(problems)
    request = SignalRequest(
        workflow_id=call.path["workflow_id"],
        signal_name=name,
        codec=call.input.input["codec"],
        blob=call.input.input["blob"],
        run_id=call.path.get("run_id"),
        request_id=call.input.request_id,
    )
    return copy_reply(await engine_call(call.engine.signal_workflow(call.namespace, request)), 202)


_RESPONSES = (202, 404, 409)
OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        routes.WORKFLOW_SIGNAL,
        "signal_workflow",
        signal_workflow,
        body=SignalWorkflowBody,
        envelope="signal",
        summary="Send a signal to a workflow's current run.",
        responses=_RESPONSES,
    ),
    Operation(
        "POST",
        routes.WORKFLOW_RUN_SIGNAL,
        "signal_run",
        signal_workflow,
        body=SignalWorkflowBody,
        envelope="signal",
        summary="Send a signal to one run (it must be the current run).",
        responses=_RESPONSES,
    ),
]
