"""Queries: the control-plane query routes and the worker's query-task routes.

A query is answered by a live worker through a query task (see docs/protocol.md, "Queries"):
the caller's request is parked until the worker's answer or the query timeout.
"""

from __future__ import annotations

from typing import cast

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import routes
from durable_workflow.protocol.wire import Envelope

from ..engine.errors import DomainError, WorkerRefusal
from ..engine.queries.shapes import QueryFailure
from .errors import ApiError
from .models.messages import (
    CompleteQueryTaskBody,
    FailQueryTaskBody,
    PollQueryTaskBody,
    QueryWorkflowBody,
)
from .operation_names import check_operation_name
from .routing import Call, Operation, Reply, copy_reply, engine_call
from .worker_plane import POLL_OVERRIDES, poll_timeout, unless_disconnected


def worker_refusal_status(reason: str) -> int:
    """A worker's refusal: 404 when it says the name is unknown, 409 otherwise."""
    return 404 if reason == reasons.REJECTED_UNKNOWN_QUERY else 409


async def query(call: Call[QueryWorkflowBody]) -> Reply:
    name = check_operation_name("query", call.path["name"])
    try:
        result = await call.engine.query_workflow(
            call.namespace,
            call.path["workflow_id"],
            name,
            run_id=call.path.get("run_id"),
            arguments=call.input.arguments(),
        )
    except WorkerRefusal as exc:
        raise ApiError.from_domain(exc, worker_refusal_status(exc.reason)) from exc
    except DomainError as exc:
        raise ApiError.from_domain(exc) from exc
    return copy_reply(result)


async def poll_query_task(call: Call[PollQueryTaskBody]) -> Reply:
    body = call.input
    engine, namespace = call.engine, call.namespace
    task = await unless_disconnected(
        call.receive,
        engine_call(
            engine.poll_query_task(
                namespace,
                worker_id=body.worker_id,
                task_queue=body.task_queue,
                timeout=poll_timeout(body),
            ),
            status_overrides=POLL_OVERRIDES,
        ),
        lambda leased: engine.release_query_task(
            namespace,
            leased["query_task_id"],
            lease_owner=leased["lease_owner"],
            query_task_attempt=leased["query_task_attempt"],
        ),
    )
    return Reply({"task": task})


async def complete_query_task(call: Call[CompleteQueryTaskBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.complete_query_task(
            call.namespace,
            call.path["query_task_id"],
            lease_owner=body.lease_owner,
            query_task_attempt=body.query_task_attempt,
            result=body.result,
            # validated: a {codec, blob} envelope or a {codec, external_storage} reference
            result_envelope=cast(Envelope | None, body.result_envelope),
        )
    )
    return copy_reply(result)


async def fail_query_task(call: Call[FailQueryTaskBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.fail_query_task(
            call.namespace,
            call.path["query_task_id"],
            lease_owner=body.lease_owner,
            query_task_attempt=body.query_task_attempt,
            failure=cast(QueryFailure, body.failure.wire()),
        )
    )
    return copy_reply(result)


_QUERY_STATUSES = (200, 404, 409, 504)
CONTROL: list[Operation] = [
    Operation(
        "POST",
        path,
        operation_id,
        query,
        body=QueryWorkflowBody,
        envelope="query",
        summary=summary,
        responses=_QUERY_STATUSES,
    )
    for path, operation_id, summary in (
        (routes.WORKFLOW_QUERY, "query_workflow", "Query a workflow's current run through a live worker."),
        (routes.WORKFLOW_RUN_QUERY, "query_run", "Query one run (the current one) through a live worker."),
    )
]
_OUTCOME = (200, 404, 409)
WORKER: list[Operation] = [
    Operation(
        "POST",
        routes.QUERY_TASK_POLL,
        "poll_query_task",
        poll_query_task,
        body=PollQueryTaskBody,
        summary="Long-poll and lease a query task.",
        responses=(200, 409, 412),
    ),
    Operation(
        "POST",
        routes.QUERY_TASK_COMPLETE,
        "complete_query_task",
        complete_query_task,
        body=CompleteQueryTaskBody,
        summary="Answer a query task.",
        responses=_OUTCOME,
    ),
    Operation(
        "POST",
        routes.QUERY_TASK_FAIL,
        "fail_query_task",
        fail_query_task,
        body=FailQueryTaskBody,
        summary="Refuse a query task; its reason reaches the caller.",
        responses=_OUTCOME,
    ),
]
