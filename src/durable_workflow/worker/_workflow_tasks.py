"""Running one leased workflow task: fetch the full history, replay, report the commands."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import traceback
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import DurableWorkflowError, PayloadError, ServerError, TransportError
from ..interceptors import WorkflowTaskInterceptorContext, build_chain
from ..protocol import codec
from ..protocol.errors import AMBIGUOUS_COMPLETION_REASONS
from ..workflow import commands_to_wire, replay
from ..workflow._history_compat import start_input as history_start_input
from ._delivery import deliver, is_transient_answer

if TYPE_CHECKING:
    from ._worker import Worker

logger = logging.getLogger("durable_workflow.worker")


def _decompress_events(task: Mapping[str, Any], key: str = "history_events") -> list[dict[str, Any]]:
    encoding = task.get("history_events_encoding")
    blob = task.get("history_events_compressed")
    if not blob or not encoding:
        return list(task.get(key) or [])
    raw = base64.b64decode(blob)
    data = gzip.decompress(raw) if encoding == "gzip" else zlib.decompress(raw, -zlib.MAX_WBITS)
    events = json.loads(data)
    return list(events) if isinstance(events, list) else []


class _Fence:
    def __init__(self, worker: Worker, task: Mapping[str, Any]) -> None:
        self.task_id = str(task.get("task_id", ""))
        self.lease_owner = str(task.get("lease_owner") or worker.worker_id)
        attempt = task.get("workflow_task_attempt")
        self.attempt = int(attempt) if isinstance(attempt, (int, str)) and str(attempt).isdigit() else 1

    def kwargs(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "lease_owner": self.lease_owner,
            "workflow_task_attempt": self.attempt,
        }


async def _load_history(worker: Worker, task: Mapping[str, Any], fence: _Fence) -> list[dict[str, Any]]:
    events = _decompress_events(task)
    token = task.get("next_history_page_token")
    while token:
        page = await worker.client.workflow_task_history(
            task_id=fence.task_id,
            next_history_page_token=token,
            lease_owner=fence.lease_owner,
            workflow_task_attempt=fence.attempt,
        )
        events.extend(_decompress_events(page))
        token = page.get("next_history_page_token")
    return events


async def _fail_task(
    worker: Worker, fence: _Fence, message: str, failure_type: str, stack_trace: str | None = None
) -> None:
    async def send() -> object:
        return await worker.client.fail_workflow_task(
            **fence.kwargs(), message=message, failure_type=failure_type, stack_trace=stack_trace
        )

    try:
        await deliver(worker, send, f"workflow task {fence.task_id} failure")
    except DurableWorkflowError as exc:
        logger.warning("could not report workflow task %s failure: %s", fence.task_id, exc)


async def _complete(worker: Worker, fence: _Fence, commands: list[dict[str, Any]]) -> str:
    async def send() -> object:
        return await worker.client.complete_workflow_task(**fence.kwargs(), commands=commands)

    try:
        await deliver(worker, send, f"workflow task {fence.task_id} completion")
        return "completed"
    except ServerError as exc:
        if exc.reason in AMBIGUOUS_COMPLETION_REASONS:
            # Someone else owns the task now (lease expired, run closed...): our result is
            # moot and reporting a failure would be fenced off anyway.
            logger.info("workflow task %s completion dropped: %s", fence.task_id, exc.reason)
            return "dropped"
        if not is_transient_answer(exc):
            await _fail_task(
                worker,
                fence,
                f"workflow task completion failed after commands were produced: {exc}",
                type(exc).__name__,
            )
            return "failed"
        last: Exception = exc
    except TransportError as exc:
        last = exc
    # The lease expires and the task is handed out again: nothing is lost.
    logger.error("workflow task %s completion failed after retries: %s", fence.task_id, last)
    return "error"


async def handle_workflow_task(worker: Worker, task: Mapping[str, Any]) -> str:
    """Replay one workflow task and report the outcome; returns the metrics outcome tag."""
    fence = _Fence(worker, task)
    workflow_type = str(task.get("workflow_type") or "")
    try:
        events = await _load_history(worker, task, fence)
    except ServerError as exc:
        if exc.reason in AMBIGUOUS_COMPLETION_REASONS:
            return "dropped"
        # Replaying a partial history could emit commands for steps already taken: refuse.
        await _fail_task(worker, fence, f"could not load the full history: {exc}", "HistoryUnavailable")
        return "failed"
    except TransportError as exc:  # the lease expires and the task comes back: nothing is lost
        logger.warning("workflow task %s: history unavailable: %s", fence.task_id, exc)
        return "error"

    definition = worker._workflows.get(workflow_type)
    if definition is None:
        logger.warning("no workflow registered for type %r (task %s)", workflow_type, fence.task_id)
        await _fail_task(
            worker,
            fence,
            f"no workflow registered for '{workflow_type}' on worker {worker.worker_id} "
            f"(registered: {sorted(worker._workflows)})",
            "UnknownWorkflowType",
        )
        return "failed"

    async def run_replay(context: WorkflowTaskInterceptorContext) -> list[dict[str, Any]] | None:
        current = context.task
        try:
            codec_name = codec.task_payload_codec(current)
            if current.get("arguments") is not None:
                start_input = codec.decode_payload(current.get("arguments"), codec_name)
            else:
                start_input = history_start_input(events, codec_name)
        except codec.PayloadCodecError as exc:
            raise PayloadError(f"cannot decode the workflow input: {exc}", reason=exc.reason) from exc
        outcome = await asyncio.to_thread(
            replay,
            definition,
            events,
            start_input,
            run_id=str(current.get("run_id") or ""),
            workflow_id=str(current.get("workflow_id") or ""),
            task_queue=current.get("task_queue") or worker.task_queue,
            payload_codec=codec_name,
            # An update-carrying task is answered with exactly one complete/fail_update command.
            update_id=str(current["workflow_update_id"]) if current.get("workflow_update_id") else None,
        )
        return commands_to_wire(outcome.commands)

    chain = build_chain(worker.interceptors, "execute_workflow_task", run_replay)
    context = WorkflowTaskInterceptorContext(worker.worker_id, worker.task_queue, task)
    try:
        commands = await chain(context)
    except Exception as exc:
        logger.error("replay of %s (task %s) failed: %s", workflow_type, fence.task_id, exc)
        await _fail_task(worker, fence, f"replay failed: {exc}", type(exc).__name__, traceback.format_exc())
        return "failed"
    if not commands:
        logger.info("workflow task %s produced no commands; leaving it to the lease", fence.task_id)
        return "skipped"
    outcome = await _complete(worker, fence, commands)
    if outcome == "completed":
        logger.info(
            "workflow task %s (%s) completed with %s",
            fence.task_id,
            workflow_type,
            [c.get("type") for c in commands],
        )
        worker._notify_progress(str(task.get("workflow_id") or ""))
    return outcome
