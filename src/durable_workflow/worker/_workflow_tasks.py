"""Running one leased workflow task: fetch the full history, replay, report the commands."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any, cast

from .._external_payloads import parse_resolving
from .._wire import HistoryPageRead, MalformedHistoryPage, MalformedTask, WorkflowTaskRead
from ..errors import DurableWorkflowError, PayloadError, ServerError, TransportError
from ..interceptors import WorkflowTaskInterceptorContext, build_chain
from ..protocol import codec
from ..protocol.errors import AMBIGUOUS_COMPLETION_REASONS
from ..protocol.payload_storage import ExternalPayloadIntegrityError
from ..protocol.wire import CommandBody, HistoryEvent, TaskOutcomeResponse, WorkflowTask
from ..workflow._commands import commands_to_wire
from ..workflow._engine import ReplayEngine
from ..workflow._history_compat import start_input as history_start_input
from ..workflow._outcome import ReplayOutcome
from ..workflow._replay import replay, replay_kept
from ._delivery import deliver, is_transient_answer
from ._eager import ACTIVITY
from ._runtime import TaskRuntime
from ._sticky import CachedRun

logger = logging.getLogger("durable_workflow.worker")


class _Fence:
    """The lease a workflow task's calls are fenced by."""

    def __init__(self, task: WorkflowTaskRead | MalformedTask) -> None:
        self.task_id = task.task_id
        self.lease_owner = task.lease_owner
        self.attempt = task.attempt

    def kwargs(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "lease_owner": self.lease_owner,
            "workflow_task_attempt": self.attempt,
        }


async def _load_history(
    runtime: TaskRuntime,
    fence: _Fence,
    events: list[HistoryEvent],
    token: str | None,
) -> list[HistoryEvent]:
    """``events`` and every page after them, following ``token``."""
    events = list(events)
    while token:
        raw_page = await runtime.client.workflow_task_history(
            task_id=fence.task_id,
            next_history_page_token=token,
            lease_owner=fence.lease_owner,
            workflow_task_attempt=fence.attempt,
        )
        page = await parse_resolving(HistoryPageRead.from_wire, raw_page, runtime.payloads)
        events.extend(page.events)
        token = page.next_page_token
    return events


async def _task_history(
    runtime: TaskRuntime, task: WorkflowTaskRead, fence: _Fence
) -> tuple[list[HistoryEvent], CachedRun | None]:
    """The task's history, and the cached run to continue with it (then the history is the new events only).

    A partial history (the sticky extension) is used only with a cached run it continues;
    otherwise the full history is read from its start, as for any task.
    """
    cache = runtime.cache if runtime.cache is not None and runtime.cache.enabled else None
    # Update tasks answer the update against a state of their own: the kept one is untouched.
    entry = cache.take(task.run_id) if cache is not None and task.update_id is None else None
    if entry is not None and entry.workflow_type != task.workflow_type:
        entry.close()
        entry = None
    first = task.first_page
    try:
        events = await _load_history(runtime, fence, first.events, first.next_page_token)
    except BaseException:
        if entry is not None:
            entry.close()
        raise
    after = task.history_after_sequence if task.full_history_token is not None else None
    partial = after is not None
    if entry is not None:
        if after is not None:
            if entry.continues(after, events):
                return events, entry
        elif entry.new_events(events) is not None:
            return events[entry.length :], entry
        logger.info("workflow task %s: the cached replay does not match its history", fence.task_id)
        entry.close()
    if partial:
        events = await _load_history(runtime, fence, [], task.full_history_token)
    return events, None


async def _fail_task(
    runtime: TaskRuntime, fence: _Fence, message: str, failure_type: str, stack_trace: str | None = None
) -> None:
    async def send() -> object:
        return await runtime.client.fail_workflow_task(
            **fence.kwargs(), message=message, failure_type=failure_type, stack_trace=stack_trace
        )

    try:
        await deliver(runtime.delivery, send, f"workflow task {fence.task_id} failure")
    except DurableWorkflowError as exc:
        logger.warning("could not report workflow task %s failure: %s", fence.task_id, exc)


async def _complete(
    runtime: TaskRuntime, fence: _Fence, commands: list[CommandBody], *, sticky: bool = False
) -> str:
    # Activity slots free now, declared so the activities scheduled here come back with the
    # answer instead of through a poll (see _eager.py); none reserved: the old request exactly.
    eager = runtime.eager
    wanted = eager.activity_slots_for(commands, runtime.task_queue, runtime.activities) if eager else 0
    reservation = await eager.reserve(ACTIVITY, wanted) if eager is not None and wanted else None
    slots = reservation.count if reservation is not None else 0
    # ``sticky`` only when the server advertises the extension and the run's replay is kept;
    # a plane client that predates either extension is never handed its argument.
    extra: dict[str, Any] = {"sticky": True} if sticky else {}
    if slots:
        extra["eager_activity_slots"] = slots

    async def send() -> TaskOutcomeResponse:
        return await runtime.client.complete_workflow_task(**fence.kwargs(), commands=commands, **extra)

    try:
        answer = await deliver(runtime.delivery, send, f"workflow task {fence.task_id} completion")
        if reservation is not None:
            reservation.take(answer.get("eager_activity_tasks") or ())
        return "completed"
    except ServerError as exc:
        if exc.reason in AMBIGUOUS_COMPLETION_REASONS:
            # Someone else owns the task now (lease expired, run closed...): our result is
            # moot and reporting a failure would be fenced off anyway.
            logger.info("workflow task %s completion dropped: %s", fence.task_id, exc.reason)
            return "dropped"
        if not is_transient_answer(exc):
            await _fail_task(
                runtime,
                fence,
                f"workflow task completion failed after commands were produced: {exc}",
                type(exc).__name__,
            )
            return "failed"
        last: Exception = exc
    except TransportError as exc:
        last = exc
    finally:
        if reservation is not None:
            reservation.close()
    # The lease expires and the task is handed out again: nothing is lost.
    logger.error("workflow task %s completion failed after retries: %s", fence.task_id, last)
    return "error"


async def handle_workflow_task(runtime: TaskRuntime, raw: WorkflowTask) -> str:
    """Replay one workflow task and report the outcome; returns the metrics outcome tag."""
    try:
        task = await parse_resolving(
            WorkflowTaskRead.from_wire,
            raw,
            runtime.payloads,
            worker_id=runtime.worker_id,
            task_queue=runtime.task_queue,
        )
    except MalformedTask as exc:
        # Reported, not raised: a task left to its lease would come back, as broken, forever.
        logger.error("workflow task %s cannot be read: %s", exc.task_id, exc)
        await _fail_task(runtime, _Fence(exc), str(exc), exc.failure_type)
        return "failed"
    fence = _Fence(task)
    workflow_type = task.workflow_type
    try:
        events, entry = await _task_history(runtime, task, fence)
    except (MalformedHistoryPage, ExternalPayloadIntegrityError) as exc:
        failure_type = (
            type(exc).__name__ if isinstance(exc, ExternalPayloadIntegrityError) else "MalformedTask"
        )
        await _fail_task(runtime, fence, f"a history page cannot be read: {exc}", failure_type)
        return "failed"
    except ServerError as exc:
        if exc.reason in AMBIGUOUS_COMPLETION_REASONS:
            return "dropped"
        # Replaying a partial history could emit commands for steps already taken: refuse.
        await _fail_task(runtime, fence, f"could not load the full history: {exc}", "HistoryUnavailable")
        return "failed"
    except TransportError as exc:  # the lease expires and the task comes back: nothing is lost
        logger.warning("workflow task %s: history unavailable: %s", fence.task_id, exc)
        return "error"

    definition = runtime.workflows.get(workflow_type)
    if definition is None:
        if entry is not None:
            entry.close()
        logger.warning("no workflow registered for type %r (task %s)", workflow_type, fence.task_id)
        await _fail_task(
            runtime,
            fence,
            f"no workflow registered for '{workflow_type}' on worker {runtime.worker_id} "
            f"(registered: {sorted(runtime.workflows)})",
            "UnknownWorkflowType",
        )
        return "failed"

    cache = runtime.cache if runtime.cache is not None and runtime.cache.enabled else None
    keeping = cache is not None and task.update_id is None
    kept: list[ReplayEngine] = []  # the suspended replay to cache once the completion is accepted

    async def continued() -> ReplayOutcome | None:
        """The cached replay resumed with the new events; ``None`` (and dropped) if that fails."""
        nonlocal events
        assert entry is not None
        try:
            outcome = await asyncio.to_thread(entry.engine.resume, events)
        except Exception as exc:  # a full replay decides: it is what the run's code does
            logger.info(
                "workflow task %s: continuing the cached replay failed (%s); replaying", fence.task_id, exc
            )
            entry.close()
            # The full history: the events before the new ones are the engine's own copy.
            events = [*cast("list[HistoryEvent]", entry.engine.events[: entry.length]), *events]
            return None
        if entry.engine.suspended:
            kept.append(entry.engine)
        return outcome

    async def run_replay(context: WorkflowTaskInterceptorContext) -> list[CommandBody] | None:
        # The task as parsed above, unless an interceptor handed on another one: that one is
        # read through the same parser (its history is the one already loaded).
        current = task
        if context.task is not task.raw:
            current = await parse_resolving(
                WorkflowTaskRead.from_wire,
                context.task,
                runtime.payloads,
                worker_id=runtime.worker_id,
                task_queue=runtime.task_queue,
            )
        outcome = await continued() if entry is not None else None
        if outcome is not None:
            return commands_to_wire(outcome.commands)
        try:
            codec_name = codec.require_task_codec(current.payload_codec)
            if current.arguments is not None:
                start_input = codec.decode_envelope(current.arguments)
            else:
                start_input = history_start_input(events, codec_name)
        except codec.PayloadCodecError as exc:
            raise PayloadError(f"cannot decode the workflow input: {exc}", reason=exc.reason) from exc
        options: dict[str, Any] = {
            "run_id": current.run_id,
            "workflow_id": current.workflow_id,
            "task_queue": current.task_queue,
            "payload_codec": codec_name,
            # A signal without a handler fails the task (named in the failure) instead of
            # being dropped: the run waits for code that handles it.
            "strict_signals": True,
        }
        if keeping and current.update_id is None:
            full, engine = await asyncio.to_thread(replay_kept, definition, events, start_input, **options)
            if engine is not None:
                kept.append(engine)
        else:
            full = await asyncio.to_thread(
                replay, definition, events, start_input, update_id=current.update_id, **options
            )
        return commands_to_wire(full.commands)

    chain = build_chain(runtime.interceptors, "execute_workflow_task", run_replay)
    # The task as read: with external payloads resolved, so interceptors see plain envelopes.
    context = WorkflowTaskInterceptorContext(runtime.worker_id, runtime.task_queue, task.raw)
    try:
        commands = await chain(context)
    except Exception as exc:
        for engine in kept:
            engine.close()
        logger.error("replay of %s (task %s) failed: %s", workflow_type, fence.task_id, exc)
        await _fail_task(runtime, fence, f"replay failed: {exc}", type(exc).__name__, traceback.format_exc())
        return "failed"
    if not commands:
        for engine in kept:
            engine.close()
        logger.info("workflow task %s produced no commands; leaving it to the lease", fence.task_id)
        return "skipped"
    outcome = await _complete(runtime, fence, commands, sticky=bool(kept) and runtime.sticky_completions)
    _keep(runtime, task.run_id, workflow_type, kept if outcome == "completed" else [], kept)
    if outcome == "completed":
        logger.info(
            "workflow task %s (%s) completed with %s",
            fence.task_id,
            workflow_type,
            [c.get("type") for c in commands],
        )
        runtime.notify_progress(task.workflow_id)
    return outcome


def _keep(
    runtime: TaskRuntime, run_id: str, workflow_type: str, keep: list[ReplayEngine], made: list[ReplayEngine]
) -> None:
    """Cache the run's suspended replay once the server accepted the commands it produced; close the rest."""
    for engine in made:
        if engine not in keep:
            engine.close()
    entry = CachedRun.of(keep[-1], workflow_type) if keep else None
    if runtime.cache is not None and entry is not None:
        runtime.cache.put(run_id, entry)
    elif entry is not None:
        entry.close()
