"""Worker-plane routes (worker-plane.md §2). Every response gets the worker envelope (envelope.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from durable_workflow.protocol import errors as reasons

from ..engine.api import RegisterWorkerRequest
from ..engine.errors import DomainError
from .envelope import respond
from .errors import ApiError
from .middleware import WORKER_PLANE, RequestContext
from .validation import Fields, check_result_payload

router = APIRouter(prefix="/worker")
Ctx = Annotated[RequestContext, Depends(WORKER_PLANE)]

RUNTIMES = ("php", "python", "typescript", "go", "java", "external")
MAX_POLL_TIMEOUT = 60.0
_NOT_FOUND_REASONS = frozenset({reasons.TASK_NOT_FOUND, reasons.ATTEMPT_NOT_FOUND})
_ACTIVITY_FENCE_REASONS = frozenset({reasons.TASK_MISMATCH, reasons.LEASE_OWNER_MISMATCH})
FAILURE_KINDS = (
    "application", "timeout", "cancellation", "malformed_output", "handler_crash", "decode_failure",
    "unsupported_payload",
)  # fmt: skip
TIMEOUT_TYPES = ("schedule_to_start", "start_to_close", "schedule_to_close", "heartbeat", "deadline_exceeded")


async def _call(coro: Any, *, status_overrides: dict[str, int] | None = None) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] | None = await coro
    except DomainError as exc:
        status = (status_overrides or {}).get(exc.reason)
        raise ApiError.from_domain(exc, status) from exc
    return None if result is None else dict(result)


async def _unless_disconnected(
    request: Request, poll: Awaitable[Any], release: Callable[[dict[str, Any]], Awaitable[Any]]
) -> Any:
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
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(hang_up())
    try:
        await asyncio.wait({polling, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        # This handler itself was cancelled: the poll must not live on as an orphan that
        # claims the next task for nobody.
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
    outcome: Any = (await asyncio.gather(polling, return_exceptions=True))[0]
    if isinstance(outcome, dict):
        with contextlib.suppress(Exception):
            await asyncio.shield(release(outcome))
    return None


def _outcome_status(body: dict[str, Any]) -> int:
    """Outcome endpoints answer 200 iff ``reason`` is null (worker-plane.md §2.7, §2.10)."""
    reason = body.get("reason")
    if reason is None:
        return 200
    return 404 if reason in _NOT_FOUND_REASONS else 409


def _poll_timeout(fields: Fields) -> float | None:
    """Optional ``timeout_seconds`` / ``poll_timeout_seconds`` (later specs), clamped to [0, 60]."""
    for name in ("timeout_seconds", "poll_timeout_seconds"):
        value = fields.number(name)
        if value is not None:
            return min(max(value, 0.0), MAX_POLL_TIMEOUT)
    return None


def _fence(fields: Fields) -> tuple[str, int]:
    lease_owner = fields.string("lease_owner", required=True, max_len=255)
    attempt = fields.integer("workflow_task_attempt", required=True, minimum=1)
    return lease_owner or "", attempt or 0


def _activity_fence(fields: Fields) -> tuple[str, str]:
    attempt_id = fields.string("activity_attempt_id", required=True, max_len=255)
    lease_owner = fields.string("lease_owner", required=True, max_len=255)
    return attempt_id or "", lease_owner or ""


def _failure(fields: Fields, *, activity: bool) -> dict[str, Any]:
    failure = fields.obj("failure", required=True)
    if failure is None:
        return {}
    nested = Fields(failure)
    nested.string("message", required=True)
    nested.string("type", max_len=255)
    nested.string("stack_trace")
    if activity:
        nested.boolean("non_retryable")
        nested.boolean("retryable")
        nested.boolean("cancelled")
        nested.boolean("malformed_output")
        nested.string("kind", choices=FAILURE_KINDS)
        nested.string("timeout_type", choices=TIMEOUT_TYPES)
    for field, messages in nested.errors.items():
        for message in messages:
            fields.add(f"failure.{field}", message.replace("The ", "The failure ", 1))
    return failure


# ---------------------------------------------------------------------- workers


@router.post("/register")
async def register(ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    request = RegisterWorkerRequest(
        worker_id=fields.string("worker_id", max_len=255),
        task_queue=fields.string("task_queue", required=True, max_len=255) or "",
        runtime=fields.string("runtime", required=True, choices=RUNTIMES) or "",
        sdk_version=fields.string("sdk_version", max_len=64),
        build_id=fields.string("build_id", max_len=255),
        supported_workflow_types=fields.string_list("supported_workflow_types"),
        workflow_definition_fingerprints=fields.string_map("workflow_definition_fingerprints"),
        supported_activity_types=fields.string_list("supported_activity_types"),
        max_concurrent_workflow_tasks=fields.integer("max_concurrent_workflow_tasks", minimum=1),
        max_concurrent_activity_tasks=fields.integer("max_concurrent_activity_tasks", minimum=1),
        capabilities=fields.string_list("capabilities"),
        task_slots=fields.obj("task_slots"),
        process_metrics=fields.obj("process_metrics"),
    )
    fields.check()
    body = await _call(ctx.engine.register_worker(ctx.namespace, request))
    return respond(ctx.request, body or {}, 201)


@router.post("/heartbeat")
async def heartbeat(ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    worker_id = fields.string("worker_id", required=True, max_len=255)
    task_slots = fields.obj("task_slots")
    process_metrics = fields.obj("process_metrics")
    fields.check()
    body = await _call(
        ctx.engine.heartbeat_worker(
            ctx.namespace, worker_id or "", task_slots=task_slots, process_metrics=process_metrics
        )
    )
    return respond(ctx.request, body or {})


# ---------------------------------------------------------------------- workflow tasks

_POLL_OVERRIDES = {reasons.WORKER_NOT_REGISTERED: 412}


@router.post("/workflow-tasks/poll")
async def poll_workflow_task(ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    worker_id = fields.string("worker_id", required=True, max_len=255)
    task_queue = fields.string("task_queue", required=True, max_len=255)
    build_id = fields.string("build_id", max_len=255)
    poll_request_id = fields.string("poll_request_id", max_len=255)
    page_size = fields.integer("history_page_size", minimum=1, maximum=ctx.settings.history_page_size_max)
    fields.string("accept_history_encoding", max_len=64)
    timeout = _poll_timeout(fields)
    fields.check()
    task = await _unless_disconnected(
        ctx.request,
        _call(
            ctx.engine.poll_workflow_task(
                ctx.namespace,
                worker_id=worker_id or "",
                task_queue=task_queue or "",
                build_id=build_id,
                poll_request_id=poll_request_id,
                history_page_size=page_size,
                timeout=timeout,
            ),
            status_overrides=_POLL_OVERRIDES,
        ),
        lambda leased: ctx.engine.release_workflow_task(
            ctx.namespace,
            leased["task_id"],
            lease_owner=leased["lease_owner"],
            workflow_task_attempt=leased["workflow_task_attempt"],
        ),
    )
    return respond(ctx.request, {"task": task})


@router.post("/workflow-tasks/{task_id}/history")
async def workflow_task_history(task_id: str, ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    lease_owner, attempt = _fence(fields)
    token = fields.string("next_history_page_token", required=True, max_len=512)
    page_size = fields.integer("history_page_size", minimum=1, maximum=ctx.settings.history_page_size_max)
    fields.string("accept_history_encoding", max_len=64)
    fields.check()
    body = await _call(
        ctx.engine.workflow_task_history(
            ctx.namespace,
            task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=attempt,
            next_history_page_token=token or "",
            history_page_size=page_size,
        )
    )
    return respond(ctx.request, body or {})


@router.post("/workflow-tasks/{task_id}/heartbeat")
async def heartbeat_workflow_task(task_id: str, ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    lease_owner, attempt = _fence(fields)
    fields.check()
    body = await _call(
        ctx.engine.heartbeat_workflow_task(
            ctx.namespace, task_id, lease_owner=lease_owner, workflow_task_attempt=attempt
        )
    )
    body = body or {}
    return respond(ctx.request, body, _outcome_status(body))


@router.post("/workflow-tasks/{task_id}/complete")
async def complete_workflow_task(task_id: str, ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    lease_owner, attempt = _fence(fields)
    commands = _commands(fields)
    fields.check()
    body = await _call(
        ctx.engine.complete_workflow_task(
            ctx.namespace, task_id, lease_owner=lease_owner, workflow_task_attempt=attempt, commands=commands
        )
    )
    body = body or {}
    return respond(ctx.request, body, _outcome_status(body))


def _commands(fields: Fields) -> list[dict[str, Any]]:
    value = fields.raw("commands")
    if not isinstance(value, list) or not value:
        message = "The commands field is required." if value is None or value == [] else None
        fields.add("commands", message or "The commands field must be an array.")
        return []
    for index, command in enumerate(value):
        if not isinstance(command, dict):
            fields.add(f"commands.{index}", f"The commands.{index} field must be an object.")
        elif not isinstance(command.get("type"), str) or not command["type"]:
            fields.add(f"commands.{index}.type", f"The commands.{index}.type field is required.")
    return list(value)


@router.post("/workflow-tasks/{task_id}/fail")
async def fail_workflow_task(task_id: str, ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    lease_owner, attempt = _fence(fields)
    failure = _failure(fields, activity=False)
    fields.check()
    body = await _call(
        ctx.engine.fail_workflow_task(
            ctx.namespace, task_id, lease_owner=lease_owner, workflow_task_attempt=attempt, failure=failure
        )
    )
    body = body or {}
    return respond(ctx.request, body, _outcome_status(body))


# ---------------------------------------------------------------------- activity tasks


@router.post("/activity-tasks/poll")
async def poll_activity_task(ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    worker_id = fields.string("worker_id", required=True, max_len=255)
    task_queue = fields.string("task_queue", required=True, max_len=255)
    build_id = fields.string("build_id", max_len=255)
    fields.string("poll_request_id", max_len=255)
    timeout = _poll_timeout(fields)
    fields.check()
    task = await _unless_disconnected(
        ctx.request,
        _call(
            ctx.engine.poll_activity_task(
                ctx.namespace,
                worker_id=worker_id or "",
                task_queue=task_queue or "",
                build_id=build_id,
                timeout=timeout,
            ),
            status_overrides=_POLL_OVERRIDES,
        ),
        lambda leased: ctx.engine.release_activity_task(
            ctx.namespace,
            leased["task_id"],
            activity_attempt_id=leased["activity_attempt_id"],
            lease_owner=leased["lease_owner"],
        ),
    )
    return respond(ctx.request, {"task": task})


@router.post("/activity-tasks/{task_id}/complete")
async def complete_activity_task(task_id: str, ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    attempt_id, lease_owner = _activity_fence(fields)
    result = check_result_payload(fields, "result")
    fields.check()
    body = await _call(
        ctx.engine.complete_activity_task(
            ctx.namespace, task_id, activity_attempt_id=attempt_id, lease_owner=lease_owner, result=result
        )
    )
    body = body or {}
    return respond(ctx.request, body, _outcome_status(body))


@router.post("/activity-tasks/{task_id}/fail")
async def fail_activity_task(task_id: str, ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    attempt_id, lease_owner = _activity_fence(fields)
    failure = _failure(fields, activity=True)
    fields.check()
    body = await _call(
        ctx.engine.fail_activity_task(
            ctx.namespace, task_id, activity_attempt_id=attempt_id, lease_owner=lease_owner, failure=failure
        )
    )
    body = body or {}
    return respond(ctx.request, body, _outcome_status(body))


@router.post("/activity-tasks/{task_id}/heartbeat")
async def heartbeat_activity_task(task_id: str, ctx: Ctx) -> JSONResponse:
    fields = Fields(ctx.body)
    attempt_id, lease_owner = _activity_fence(fields)
    progress: dict[str, Any] = {}
    message = fields.string("message", max_len=1000)
    current = fields.number("current")
    total = fields.number("total")
    unit = fields.string("unit", max_len=64)
    details = fields.obj("details")
    for key, value in (("message", message), ("current", current), ("total", total), ("unit", unit)):
        if value is not None:
            progress[key] = value
    if details is not None:
        progress["details"] = details
    fields.check()
    body = await _call(
        ctx.engine.heartbeat_activity_task(
            ctx.namespace, task_id, activity_attempt_id=attempt_id, lease_owner=lease_owner, progress=progress
        )
    )
    body = body or {}
    # A heartbeat that tells the worker to stop is still a successful heartbeat (200); only a
    # missing task/attempt or a fence violation is an error.
    reason = body.get("reason")
    status = 404 if reason in _NOT_FOUND_REASONS else 409 if reason in _ACTIVITY_FENCE_REASONS else 200
    return respond(ctx.request, body, status)
