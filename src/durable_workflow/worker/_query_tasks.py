"""Answering one leased query task: replay the committed history, then ask the workflow object.

A query task is either a query (``@workflow.query`` handler) or, when its ``query_task_kind`` is
``update_validation``, the pre-accept check of an update (its ``.validator``). Either way the
replay's commands are discarded: nothing is recorded. Refusals carry a ``reason`` the caller
sees: ``rejected_unknown_query`` (404 to the caller), ``query_rejected`` (the handler raised),
``query_workflow_state_unavailable`` (the history does not replay), and for validations
``update_rejected`` / ``unknown_update``.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from .._external_payloads import parse_resolving
from .._wire import QueryTaskRead
from ..errors import DurableWorkflowError, ServerError
from ..interceptors import QueryTaskInterceptorContext, build_chain
from ..protocol import codec
from ..protocol import errors as reasons
from ..protocol.payload_storage import ExternalPayloadIntegrityError
from ..protocol.wire import QueryTask
from ..workflow._history_compat import start_input as history_start_input
from ..workflow._query import (
    HandlerFailed,
    UnknownQuery,
    UnknownUpdate,
    UpdateRefused,
    answer_query,
    validate_update,
)
from ..workflow._receivers import as_args
from ._delivery import deliver
from ._runtime import TaskRuntime

logger = logging.getLogger("durable_workflow.worker")

UPDATE_VALIDATION = "update_validation"
# Answers the server treats as final: the task is gone or someone else holds it now.
_FINAL_REASONS = frozenset(
    {
        reasons.LEASE_EXPIRED,
        reasons.QUERY_TASK_NOT_FOUND,
        reasons.QUERY_TASK_NOT_LEASED,
        reasons.QUERY_TASK_TIMED_OUT,
    }
)
# The result of an update validation that passed (the server only reads that it completed).
VALIDATION_PASSED = {"accepted": True}


class _Refusal(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def _send(runtime: TaskRuntime, what: str, send: Any) -> str:
    try:
        await deliver(runtime.delivery, send, what)
        return "completed"
    except ServerError as exc:
        if exc.reason in _FINAL_REASONS:
            logger.info("%s dropped: %s", what, exc.reason)
            return "dropped"
        logger.warning("%s refused: %s", what, exc)
        return "error"
    except DurableWorkflowError as exc:
        logger.warning("%s could not be delivered: %s", what, exc)
        return "error"


def _inputs(task: QueryTaskRead) -> tuple[Any, list[Any], str]:
    codec_name = codec.require_task_codec(task.payload_codec)
    workflow_arguments = task.raw.get("workflow_arguments")
    if isinstance(workflow_arguments, dict) and workflow_arguments.get("blob") is not None:
        start_input = codec.decode_envelope(workflow_arguments)
    else:
        start_input = history_start_input(task.history_events, codec_name)
    args = as_args(codec.decode_envelope(task.query_arguments)) if task.query_arguments else []
    return start_input, args, codec_name


async def handle_query_task(runtime: TaskRuntime, raw: QueryTask) -> str:
    """Answer one query task and report it; returns the metrics outcome tag."""
    task = QueryTaskRead.from_wire(raw, worker_id=runtime.worker_id)
    validation = raw.get("query_task_kind") == UPDATE_VALIDATION
    what = f"query task {task.query_task_id}"
    # External payloads are resolved before the interceptors (they see plain envelopes, as the
    # workflow and activity interceptors do); a missing or changed stored object refuses this
    # query (the caller sees why) instead of breaking the poll loop.
    # Without a driver there is nothing to resolve: the task parsed above is the one to run.
    current, unreadable = task, None
    if runtime.payloads is not None:
        try:
            current = await parse_resolving(
                QueryTaskRead.from_wire, raw, runtime.payloads, worker_id=runtime.worker_id
            )
        except (ExternalPayloadIntegrityError, ValueError) as exc:
            unreadable = exc

    async def answer(context: QueryTaskInterceptorContext) -> str | None:
        definition = runtime.workflows.get(task.workflow_type)
        if definition is None:
            raise _Refusal(
                reasons.QUERY_WORKFLOW_TYPE_NOT_REGISTERED,
                f"no workflow registered for {task.workflow_type!r} on worker {runtime.worker_id}",
            )
        try:
            if unreadable is not None:
                raise unreadable
            start_input, args, codec_name = _inputs(current)
        except (codec.PayloadCodecError, ExternalPayloadIntegrityError, ValueError) as exc:
            raise _Refusal(
                "query_payload_decode_failed", f"cannot decode the query arguments: {exc}"
            ) from exc
        call = validate_update if validation else answer_query
        value = await asyncio.to_thread(
            call,
            definition,
            current.history_events,
            start_input,
            task.query_name,
            args,
            run_id=task.run_id,
            workflow_id=task.workflow_id,
            payload_codec=codec_name,
        )
        return codec.encode(VALIDATION_PASSED if validation else value)

    chain = build_chain(runtime.interceptors, "execute_query_task", answer)
    try:
        encoded = await chain(QueryTaskInterceptorContext(runtime.worker_id, runtime.task_queue, current.raw))
        result = codec.decode(encoded) if encoded is not None else None
    except Exception as exc:
        reason, message = _refusal(exc, task.query_name)
        failure_type = type(exc.__cause__ or exc).__name__
        stack_trace = traceback.format_exc()
        logger.info("%s refused (%s): %s", what, reason, message)

        async def refuse() -> object:
            return await runtime.client.fail_query_task(
                query_task_id=task.query_task_id,
                lease_owner=task.lease_owner,
                query_task_attempt=task.attempt,
                message=message,
                reason=reason,
                failure_type=failure_type,
                stack_trace=stack_trace,
            )

        outcome = await _send(runtime, f"{what} failure", refuse)
        return "failed" if outcome == "completed" else outcome

    async def complete() -> object:
        return await runtime.client.complete_query_task(
            query_task_id=task.query_task_id,
            lease_owner=task.lease_owner,
            query_task_attempt=task.attempt,
            result=result,
            workflow_id=task.workflow_id,
            run_id=task.run_id,
            query_name=task.query_name,
        )

    return await _send(runtime, f"{what} result", complete)


def _refusal(exc: BaseException, name: str) -> tuple[str, str]:
    """The reason and message a failed query task reports."""
    if isinstance(exc, _Refusal):
        return exc.reason, str(exc)
    if isinstance(exc, UnknownQuery):
        return reasons.REJECTED_UNKNOWN_QUERY, str(exc)
    if isinstance(exc, UnknownUpdate):
        return reasons.UNKNOWN_UPDATE, str(exc)
    if isinstance(exc, UpdateRefused):
        return reasons.UPDATE_REJECTED, str(exc)
    if isinstance(exc, HandlerFailed):
        return reasons.QUERY_REJECTED, str(exc)
    if isinstance(exc, codec.PayloadCodecError):
        return "query_result_encode_failed", f"the result of {name!r} cannot be encoded: {exc}"
    return reasons.QUERY_WORKFLOW_STATE_UNAVAILABLE, f"the workflow state cannot be rebuilt: {exc}"
