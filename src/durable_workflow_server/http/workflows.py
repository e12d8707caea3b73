"""Control-plane workflow routes: start, list, describe, runs, the debug view, history and its export."""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import routes
from durable_workflow.protocol.capabilities import RESULT_WAIT_HEADER

from ..engine.api import StartWorkflowRequest
from ..settings import Settings
from . import limits
from .errors import ApiError
from .models.workflows import (
    HISTORY_PAGE_SIZE_DEFAULT,
    LIST_PAGE_SIZE_DEFAULT,
    DebugQuery,
    DescribeQuery,
    HistoryQuery,
    ListWorkflowsQuery,
    StartWorkflowBody,
)
from .routing import Call, Operation, Reply, copy_reply, engine_call


def _check_token(token: str | None, name: str) -> None:
    if token and not limits.page_token_in_range(token):
        raise ApiError(400, reasons.INVALID_PAGE_TOKEN, f"The {name} is out of range.")


async def start_workflow(call: Call[StartWorkflowBody]) -> Reply:
    body = call.input
    request = StartWorkflowRequest(
        workflow_type=body.workflow_type,
        input=body.input,
        workflow_id=body.workflow_id,
        task_queue=body.task_queue,
        business_key=body.business_key,
        memo=body.memo,
        search_attributes=body.search_attributes,
        duplicate_policy=body.duplicate_policy or "fail",
        execution_timeout_seconds=body.execution_timeout_seconds,
        run_timeout_seconds=body.run_timeout_seconds,
        eager_worker_id=body.eager_worker_id,
    )
    result = await engine_call(call.engine.start_workflow(call.namespace, request))
    status = 200 if result.get("outcome") == "returned_existing_active" else 201
    return copy_reply(result, status, _result_wait(call.settings))


def _result_wait(settings: Settings) -> dict[str, str]:
    """The header offering the result wait (``wait_seconds`` on describe), with its longest hold."""
    return {RESULT_WAIT_HEADER: f"{settings.long_poll_timeout:g}"}


async def list_workflows(call: Call[ListWorkflowsQuery]) -> Reply:
    query = call.input
    _check_token(query.next_page_token, "next_page_token")
    result = await engine_call(
        call.engine.list_workflows(
            call.namespace,
            workflow_type=query.workflow_type or None,
            status=query.status,
            query=query.query or None,
            page_size=query.page_size or LIST_PAGE_SIZE_DEFAULT,
            next_page_token=query.next_page_token or None,
            task_queue=query.task_queue or None,
            started_after=query.started_after,
            started_before=query.started_before,
            closed_after=query.closed_after,
            closed_before=query.closed_before,
        )
    )
    return copy_reply(result)


async def describe_workflow(call: Call[DescribeQuery]) -> Reply:
    workflow_id, wait = call.path["workflow_id"], call.input.wait_seconds
    if wait:  # the blocking form: answered when the run closes (or the wait ends)
        body = await engine_call(call.engine.wait_workflow_closed(call.namespace, workflow_id, float(wait)))
    else:
        body = await engine_call(call.engine.describe_workflow(call.namespace, workflow_id))
    return copy_reply(body, headers=_result_wait(call.settings))


async def list_runs(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.list_runs(call.namespace, call.path["workflow_id"])))


async def describe_run(call: Call[Any]) -> Reply:
    path = call.path
    return copy_reply(
        await engine_call(call.engine.describe_run(call.namespace, path["workflow_id"], path["run_id"]))
    )


async def debug_workflow(call: Call[DebugQuery]) -> Reply:
    flag = bool(call.input.include_last_event_payload)
    return copy_reply(
        await engine_call(
            call.engine.debug_workflow(
                call.namespace, call.path["workflow_id"], include_last_event_payload=flag
            )
        )
    )


async def debug_run(call: Call[DebugQuery]) -> Reply:
    path, flag = call.path, bool(call.input.include_last_event_payload)
    return copy_reply(
        await engine_call(
            call.engine.debug_run(
                call.namespace, path["workflow_id"], path["run_id"], include_last_event_payload=flag
            )
        )
    )


async def history(call: Call[HistoryQuery]) -> Reply:
    query = call.input
    _check_token(query.next_page_token, "next_page_token")
    result = await engine_call(
        call.engine.history_page(
            call.namespace,
            call.path["workflow_id"],
            call.path["run_id"],
            page_size=query.page_size or HISTORY_PAGE_SIZE_DEFAULT,
            next_page_token=query.next_page_token or None,
            wait_new_event=bool(query.wait_new_event),
        )
    )
    return copy_reply(result)


async def export_history(call: Call[Any]) -> Reply:
    # A plain bundle: its integrity checksum covers exactly these keys, so nothing is added.
    path = call.path
    return copy_reply(
        await engine_call(call.engine.export_history(call.namespace, path["workflow_id"], path["run_id"]))
    )


_READ = (200, 404)
OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        routes.WORKFLOWS,
        "start_workflow",
        start_workflow,
        body=StartWorkflowBody,
        envelope="start",
        summary="Start a workflow run.",
        responses=(201, 200, 409),
    ),
    Operation(
        "GET",
        routes.WORKFLOWS,
        "list_workflows",
        list_workflows,
        query=ListWorkflowsQuery,
        envelope="list",
        summary="List workflows, newest first.",
    ),
    Operation(
        "GET",
        routes.WORKFLOW,
        "describe_workflow",
        describe_workflow,
        query=DescribeQuery,
        envelope="describe",
        summary="Describe a workflow's current run.",
        responses=_READ,
    ),
    Operation(
        "GET",
        routes.WORKFLOW_RUNS,
        "list_runs",
        list_runs,
        envelope="list_runs",
        summary="List a workflow's runs.",
        responses=_READ,
    ),
    Operation(
        "GET",
        routes.WORKFLOW_RUN,
        "describe_run",
        describe_run,
        envelope="describe_run",
        summary="Describe one run.",
        responses=_READ,
    ),
    Operation(
        "GET",
        routes.WORKFLOW_RUN_HISTORY,
        "history",
        history,
        query=HistoryQuery,
        envelope="history",
        summary="Read a page of a run's history.",
        responses=_READ,
    ),
    Operation(
        "GET",
        routes.WORKFLOW_RUN_HISTORY_EXPORT,
        "export_history",
        export_history,
        summary="Export a run's whole history as a checksummed bundle.",
        responses=_READ,
    ),
]

# The debug view's two routes (routed after pause/resume, as protocol.routes.ALL orders them).
DEBUG: list[Operation] = [
    Operation(
        "GET",
        routes.WORKFLOW_DEBUG,
        "debug_workflow",
        debug_workflow,
        query=DebugQuery,
        envelope="debug_workflow",
        summary="The debug view of a workflow's current run: status, pending work, queue, failures.",
        responses=_READ,
    ),
    Operation(
        "GET",
        routes.WORKFLOW_RUN_DEBUG,
        "debug_run",
        debug_run,
        query=DebugQuery,
        envelope="debug_workflow",
        summary="The debug view of one run.",
        responses=_READ,
    ),
]
