"""Worker-plane routes. Every response gets the worker envelope (see envelope.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from starlette.types import Receive

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol import routes

from ..engine.api import RegisterWorkerRequest
from ..engine.util import best_effort_in_background
from . import limits
from .errors import ApiError
from .models.messages import PollQueryTaskBody
from .models.worker import (
    CompleteActivityTaskBody,
    CompleteWorkflowTaskBody,
    FailActivityTaskBody,
    FailWorkflowTaskBody,
    HeartbeatActivityTaskBody,
    PollActivityTaskBody,
    PollWorkflowTaskBody,
    RegisterWorkerBody,
    WorkerHeartbeatBody,
    WorkflowTaskFence,
    WorkflowTaskHistoryBody,
)
from .routing import Call, Operation, Reply, copy_reply, engine_call

MAX_POLL_TIMEOUT = 60.0
_NOT_FOUND_REASONS = frozenset({reasons.TASK_NOT_FOUND, reasons.ATTEMPT_NOT_FOUND})
_ACTIVITY_FENCE_REASONS = frozenset({reasons.TASK_MISMATCH, reasons.LEASE_OWNER_MISMATCH})
POLL_OVERRIDES = {reasons.WORKER_NOT_REGISTERED: 412}


_Task = TypeVar("_Task", bound=Mapping[str, Any])


async def unless_disconnected(
    receive: Receive, poll: Awaitable[_Task | None], release: Callable[[_Task], Awaitable[Any]]
) -> _Task | None:
    """Run a long poll, abandoning it when the worker hangs up.

    A worker that stops (or a client whose process exits) drops its parked poll; without this
    the handler would sit out the whole long-poll timeout, and a shutting-down server would wait
    for it. The request body is already read, so the next ASGI message is the disconnect.

    A task the poll leased for a worker that has hung up (the poll answered in the same instant,
    or while being cancelled) is handed back with ``release`` at once, so it is redelivered now
    instead of after its lease runs out.
    """
    polling = asyncio.ensure_future(poll)

    async def hang_up() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(hang_up())
    try:
        await asyncio.wait({polling, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        # This handler itself was cancelled (a shutdown): the poll must not live on as an orphan
        # that claims the next task for nobody, and a task it leased already is handed back.
        if polling.done():
            _release_in_background(polling, release)
        else:
            polling.cancel()
        raise
    finally:
        watcher.cancel()
    # Any end of the watcher (a disconnect, or a receive channel that broke) means nobody is
    # listening any more.
    hung_up = watcher.done() and not watcher.cancelled()
    if not hung_up and polling.done():
        return polling.result()
    if hung_up:
        watcher.exception()  # retrieved, so a broken receive is not reported as unhandled
    if not polling.done():
        polling.cancel()
    outcome = (await asyncio.gather(polling, return_exceptions=True))[0]
    if outcome is not None and not isinstance(outcome, BaseException):  # a leased task
        with contextlib.suppress(Exception):
            await asyncio.shield(release(outcome))
    return None


def _release_in_background(
    polling: asyncio.Future[_Task | None], release: Callable[[_Task], Awaitable[Any]]
) -> None:
    """Hand back what a finished poll leased, without awaiting it (the caller is being cancelled)."""
    if polling.cancelled() or polling.exception() is not None:
        return
    leased = polling.result()
    if leased is None:
        return
    best_effort_in_background(release(leased))


def _outcome_status(body: Mapping[str, Any]) -> int:
    """Outcome endpoints answer 200 iff ``reason`` is null."""
    reason = body.get("reason")
    if reason is None:
        return 200
    return 404 if reason in _NOT_FOUND_REASONS else 409


def _outcome(body: Mapping[str, Any]) -> Reply:
    return copy_reply(body, _outcome_status(body))


def poll_timeout(body: PollWorkflowTaskBody | PollActivityTaskBody | PollQueryTaskBody) -> float | None:
    """A long poll's optional ``timeout_seconds`` / ``poll_timeout_seconds``, clamped to [0, 60]."""
    for value in (body.timeout_seconds, body.poll_timeout_seconds):
        if value is not None:
            return min(max(value, 0.0), MAX_POLL_TIMEOUT)
    return None


# ---------------------------------------------------------------------- workers


async def register(call: Call[RegisterWorkerBody]) -> Reply:
    body = call.input
    request = RegisterWorkerRequest(
        worker_id=body.worker_id,
        task_queue=body.task_queue,
        runtime=body.runtime,
        sdk_version=body.sdk_version,
        build_id=body.build_id,
        supported_workflow_types=body.supported_workflow_types,
        workflow_definition_fingerprints=body.workflow_definition_fingerprints,
        supported_activity_types=body.supported_activity_types,
        max_concurrent_workflow_tasks=body.max_concurrent_workflow_tasks,
        max_concurrent_activity_tasks=body.max_concurrent_activity_tasks,
        capabilities=body.capabilities,
        task_slots=body.task_slots,
        process_metrics=body.process_metrics,
    )
    result = await engine_call(call.engine.register_worker(call.namespace, request))
    return copy_reply(result, 201)


async def heartbeat(call: Call[WorkerHeartbeatBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.heartbeat_worker(
            call.namespace,
            body.worker_id,
            task_slots=body.task_slots,
            process_metrics=body.process_metrics,
            stopping=bool(body.stopping),
        )
    )
    return copy_reply(result)


# ---------------------------------------------------------------------- workflow tasks


async def poll_workflow_task(call: Call[PollWorkflowTaskBody]) -> Reply:
    body = call.input
    engine, namespace = call.engine, call.namespace
    task = await unless_disconnected(
        call.receive,
        engine_call(
            engine.poll_workflow_task(
                namespace,
                worker_id=body.worker_id,
                task_queue=body.task_queue,
                build_id=body.build_id,
                poll_request_id=body.poll_request_id,
                history_page_size=body.history_page_size,
                timeout=poll_timeout(body),
                held_task_ids=body.held_task_ids,
                hand_back_grace_seconds=body.hand_back_grace_seconds,
            ),
            status_overrides=POLL_OVERRIDES,
        ),
        lambda leased: engine.release_workflow_task(
            namespace,
            leased["task_id"],
            lease_owner=leased["lease_owner"],
            workflow_task_attempt=leased["workflow_task_attempt"],
        ),
    )
    return Reply({"task": task})


async def workflow_task_history(call: Call[WorkflowTaskHistoryBody]) -> Reply:
    body = call.input
    if not limits.page_token_in_range(body.next_history_page_token):
        raise ApiError(400, reasons.INVALID_PAGE_TOKEN, "The next_history_page_token is out of range.")
    result = await engine_call(
        call.engine.workflow_task_history(
            call.namespace,
            call.path["task_id"],
            lease_owner=body.lease_owner,
            workflow_task_attempt=body.workflow_task_attempt,
            next_history_page_token=body.next_history_page_token,
            history_page_size=body.history_page_size,
        )
    )
    return copy_reply(result)


async def heartbeat_workflow_task(call: Call[WorkflowTaskFence]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.heartbeat_workflow_task(
            call.namespace,
            call.path["task_id"],
            lease_owner=body.lease_owner,
            workflow_task_attempt=body.workflow_task_attempt,
        )
    )
    return _outcome(result)


async def complete_workflow_task(call: Call[CompleteWorkflowTaskBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.complete_workflow_task(
            call.namespace,
            call.path["task_id"],
            lease_owner=body.lease_owner,
            workflow_task_attempt=body.workflow_task_attempt,
            commands=[command.wire() for command in body.commands],
            eager_activity_slots=body.eager_activity_slots,
            # Only when asked (the sticky extension): the engine call is otherwise unchanged.
            **({"sticky": True} if body.sticky else {}),
        )
    )
    return _outcome(result)


async def fail_workflow_task(call: Call[FailWorkflowTaskBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.fail_workflow_task(
            call.namespace,
            call.path["task_id"],
            lease_owner=body.lease_owner,
            workflow_task_attempt=body.workflow_task_attempt,
            failure=body.failure.wire(),
        )
    )
    return _outcome(result)


# ---------------------------------------------------------------------- activity tasks


async def poll_activity_task(call: Call[PollActivityTaskBody]) -> Reply:
    body = call.input
    engine, namespace = call.engine, call.namespace
    task = await unless_disconnected(
        call.receive,
        engine_call(
            engine.poll_activity_task(
                namespace,
                worker_id=body.worker_id,
                task_queue=body.task_queue,
                build_id=body.build_id,
                timeout=poll_timeout(body),
                held_task_ids=body.held_task_ids,
                hand_back_grace_seconds=body.hand_back_grace_seconds,
            ),
            status_overrides=POLL_OVERRIDES,
        ),
        lambda leased: engine.release_activity_task(
            namespace,
            leased["task_id"],
            activity_attempt_id=leased["activity_attempt_id"],
            lease_owner=leased["lease_owner"],
        ),
    )
    return Reply({"task": task})


async def complete_activity_task(call: Call[CompleteActivityTaskBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.complete_activity_task(
            call.namespace,
            call.path["task_id"],
            activity_attempt_id=body.activity_attempt_id,
            lease_owner=body.lease_owner,
            result=body.result,
            eager_workflow_task=bool(body.eager_workflow_task),
            history_page_size=body.history_page_size,
        )
    )
    return _outcome(result)


async def fail_activity_task(call: Call[FailActivityTaskBody]) -> Reply:
    body = call.input
    result = await engine_call(
        call.engine.fail_activity_task(
            call.namespace,
            call.path["task_id"],
            activity_attempt_id=body.activity_attempt_id,
            lease_owner=body.lease_owner,
            failure=body.failure.wire(),
        )
    )
    return _outcome(result)


async def heartbeat_activity_task(call: Call[HeartbeatActivityTaskBody]) -> Reply:
    body = call.input
    progress: dict[str, Any] = {}
    for key, value in (
        ("message", body.message),
        ("current", body.current),
        ("total", body.total),
        ("unit", body.unit),
    ):
        if value is not None:
            progress[key] = value
    if body.details is not None:
        progress["details"] = body.details
    result = await engine_call(
        call.engine.heartbeat_activity_task(
            call.namespace,
            call.path["task_id"],
            activity_attempt_id=body.activity_attempt_id,
            lease_owner=body.lease_owner,
            progress=progress,
        )
    )
    # A heartbeat that tells the worker to stop is still a successful heartbeat (200); only a
    # missing task/attempt or a fence violation is an error.
    reason = result["reason"]
    status = 404 if reason in _NOT_FOUND_REASONS else 409 if reason in _ACTIVITY_FENCE_REASONS else 200
    return copy_reply(result, status)


_OUTCOME = (200, 404, 409)
OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        routes.WORKER_REGISTER,
        "register_worker",
        register,
        body=RegisterWorkerBody,
        summary="Register a worker.",
        responses=(201,),
    ),
    Operation(
        "POST",
        routes.WORKER_HEARTBEAT,
        "heartbeat_worker",
        heartbeat,
        body=WorkerHeartbeatBody,
        summary="Report a worker alive.",
        responses=(200, 404),
    ),
    Operation(
        "POST",
        routes.WORKFLOW_TASK_POLL,
        "poll_workflow_task",
        poll_workflow_task,
        body=PollWorkflowTaskBody,
        summary="Long-poll and lease a workflow task.",
        responses=(200, 409, 412),
    ),
    Operation(
        "POST",
        routes.WORKFLOW_TASK_HISTORY,
        "workflow_task_history",
        workflow_task_history,
        body=WorkflowTaskHistoryBody,
        summary="Next history page of a leased workflow task.",
        responses=_OUTCOME,
    ),
    Operation(
        "POST",
        routes.WORKFLOW_TASK_HEARTBEAT,
        "heartbeat_workflow_task",
        heartbeat_workflow_task,
        body=WorkflowTaskFence,
        summary="Renew a workflow-task lease.",
        responses=_OUTCOME,
    ),
    Operation(
        "POST",
        routes.WORKFLOW_TASK_COMPLETE,
        "complete_workflow_task",
        complete_workflow_task,
        body=CompleteWorkflowTaskBody,
        summary="Complete a workflow task with commands.",
        responses=_OUTCOME,
    ),
    Operation(
        "POST",
        routes.WORKFLOW_TASK_FAIL,
        "fail_workflow_task",
        fail_workflow_task,
        body=FailWorkflowTaskBody,
        summary="Report a workflow task's failure.",
        responses=_OUTCOME,
    ),
    Operation(
        "POST",
        routes.ACTIVITY_TASK_POLL,
        "poll_activity_task",
        poll_activity_task,
        body=PollActivityTaskBody,
        summary="Long-poll and lease an activity attempt.",
        responses=(200, 409, 412),
    ),
    Operation(
        "POST",
        routes.ACTIVITY_TASK_COMPLETE,
        "complete_activity_task",
        complete_activity_task,
        body=CompleteActivityTaskBody,
        summary="Record an activity attempt's result.",
        responses=_OUTCOME,
    ),
    Operation(
        "POST",
        routes.ACTIVITY_TASK_FAIL,
        "fail_activity_task",
        fail_activity_task,
        body=FailActivityTaskBody,
        summary="Record an activity attempt's failure.",
        responses=_OUTCOME,
    ),
    Operation(
        "POST",
        routes.ACTIVITY_TASK_HEARTBEAT,
        "heartbeat_activity_task",
        heartbeat_activity_task,
        body=HeartbeatActivityTaskBody,
        summary="Renew an activity attempt's lease.",
        responses=_OUTCOME,
    ),
]
