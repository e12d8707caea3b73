"""Running one leased activity attempt and reporting its outcome."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Mapping
from typing import Any

from .. import activity as activity_mod
from .._external_payloads import parse_resolving
from .._wire import ActivityTaskRead, MalformedTask
from ..errors import ActivityCancelled, DurableWorkflowError, NonRetryableError, PayloadError, ServerError
from ..interceptors import ActivityInterceptorContext, build_chain
from ..protocol import codec
from ..protocol import errors as reasons
from ..protocol.wire import ActivityHeartbeatResponse, ActivityTask, TaskOutcomeResponse
from ._delivery import deliver
from ._eager import WORKFLOW
from ._runtime import TaskRuntime

logger = logging.getLogger("durable_workflow.worker")

# A late outcome of an attempt whose run was cancelled or terminated is answered "ignored":
# expected, not a problem worth a warning.
_IGNORED_REASONS = frozenset({reasons.RUN_CANCELLED, reasons.RUN_TERMINATED})


def _log_unrecorded(what: str, task_id: str, exc: DurableWorkflowError) -> None:
    if isinstance(exc, ServerError) and exc.reason in _IGNORED_REASONS:
        logger.info("activity %s %s ignored: the run was %s", task_id, what, exc.reason.removeprefix("run_"))
    else:
        logger.warning("activity %s %s not recorded: %s", task_id, what, exc)


class _Attempt:
    """One leased attempt: its fence and the calls that report on it."""

    def __init__(self, runtime: TaskRuntime, task: ActivityTaskRead | MalformedTask) -> None:
        self.runtime = runtime
        self.task_id = task.task_id
        self.attempt_id = task.attempt_id
        self.lease_owner = task.lease_owner
        self.activity_type = task.activity_type if isinstance(task, ActivityTaskRead) else ""

    def fence(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "activity_attempt_id": self.attempt_id,
            "lease_owner": self.lease_owner,
        }

    async def fail(
        self,
        message: str,
        failure_type: str | None,
        *,
        stack_trace: str | None = None,
        non_retryable: bool = False,
        kind: str | None = None,
        cancelled: bool | None = None,
    ) -> None:
        async def send() -> object:
            return await self.runtime.client.fail_activity_task(
                **self.fence(),
                message=message,
                failure_type=failure_type,
                stack_trace=stack_trace,
                non_retryable=non_retryable,
                kind=kind,
                cancelled=cancelled,
            )

        try:
            await deliver(self.runtime.delivery, send, f"activity {self.task_id} failure")
        except DurableWorkflowError as exc:  # stale attempt, run closed...: nothing left to do
            _log_unrecorded("failure", self.task_id, exc)

    async def fail_with(self, exc: BaseException, *, non_retryable: bool) -> None:
        """Report the exception the activity raised (with its traceback)."""
        await self.fail(
            str(exc) or type(exc).__name__,
            type(exc).__name__,
            stack_trace="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            non_retryable=non_retryable,
            kind="application",
        )

    async def complete(self, result: Any) -> None:
        # With a workflow slot free, the run's next workflow task comes back with the answer
        # instead of through a poll (see _eager.py); without one the old request, exactly.
        eager = self.runtime.eager
        wants = eager is not None and eager.wants_next_workflow_task()
        reservation = await eager.reserve(WORKFLOW, 1) if eager is not None and wants else None
        asks = reservation is not None and reservation.count > 0

        async def send() -> TaskOutcomeResponse:
            client, name = self.runtime.client, self.activity_type
            if asks:
                return await client.complete_activity_task(
                    **self.fence(),
                    result=result,
                    codec=codec.AVRO,
                    activity_name=name,
                    eager_workflow_task=True,
                )
            return await client.complete_activity_task(
                **self.fence(), result=result, codec=codec.AVRO, activity_name=name
            )

        try:
            answer = await deliver(self.runtime.delivery, send, f"activity {self.task_id} completion")
            if reservation is not None:
                handed = answer.get("eager_workflow_task")
                reservation.take([handed] if isinstance(handed, Mapping) else ())
        finally:
            if reservation is not None:
                reservation.close()

    async def heartbeat(self, **kwargs: Any) -> ActivityHeartbeatResponse | None:
        try:
            response = await self.runtime.client.heartbeat_activity_task(**self.fence(), **kwargs)
        except DurableWorkflowError as exc:
            # A lost heartbeat must not kill the activity; the server's heartbeat timeout decides.
            logger.warning("activity %s heartbeat failed: %s", self.task_id, exc)
            return None
        return response if isinstance(response, Mapping) else None


async def _call(defn: activity_mod.ActivityDefinition, args: list[Any]) -> Any:
    if defn.is_async:
        return await defn.fn(*args)
    # Sync activities run in a thread (which copies the context, so activity.context() works).
    result = await asyncio.to_thread(defn.fn, *args)
    if asyncio.iscoroutine(result):
        result = await result
    return result


async def handle_activity_task(runtime: TaskRuntime, raw: ActivityTask) -> str:
    """Run one activity attempt and report it; returns the metrics outcome tag."""
    try:
        task = await parse_resolving(
            ActivityTaskRead.from_wire,
            raw,
            runtime.payloads,
            worker_id=runtime.worker_id,
            task_queue=runtime.task_queue,
        )
    except MalformedTask as exc:
        # Retrying cannot make these arguments readable (nor a changed stored object whole
        # again): fail the activity for good.
        await _Attempt(runtime, exc).fail(
            f"cannot decode activity arguments: {exc}",
            "PayloadError" if exc.failure_type == "MalformedTask" else exc.failure_type,
            non_retryable=True,
            kind="decode_failure",
        )
        return "failed"
    attempt = _Attempt(runtime, task)
    defn = runtime.activities.get(attempt.activity_type)
    if defn is None:
        logger.warning("no activity registered for %r (task %s)", attempt.activity_type, attempt.task_id)
        await attempt.fail(f"no activity registered for '{attempt.activity_type}'", "UnknownActivityType")
        return "failed"

    codec_name = task.payload_codec
    try:
        codec.require_task_codec(codec_name)
        decoded = codec.decode_envelope(task.arguments) if task.arguments is not None else None
    except codec.PayloadCodecError as exc:
        await attempt.fail(
            f"cannot decode activity arguments (codec {codec_name!r}): {exc}",
            "PayloadError",
            non_retryable=True,
            kind="decode_failure",
        )
        return "failed"
    args = list(decoded) if isinstance(decoded, (list, tuple)) else ([] if decoded is None else [decoded])

    info = activity_mod.ActivityInfo.from_read(task)
    ctx = activity_mod.ActivityContext(info, heartbeat=attempt.heartbeat)

    async def run_activity(context: ActivityInterceptorContext) -> Any:
        return await _call(defn, list(context.args))

    chain = build_chain(runtime.interceptors, "execute_activity", run_activity)
    token = activity_mod._set_context(ctx)
    try:
        context = ActivityInterceptorContext(
            runtime.worker_id, runtime.task_queue, task.raw, attempt.activity_type, args
        )
        result = await chain(context)
    except ActivityCancelled:
        ctx._mark_cancelled()
        await attempt.fail(
            "activity cancelled", "ActivityCancelled", non_retryable=True, kind="cancellation", cancelled=True
        )
        return "cancelled"
    except Exception as exc:
        await attempt.fail_with(exc, non_retryable=isinstance(exc, NonRetryableError))
        return "failed"
    finally:
        activity_mod._reset_context(token)

    try:
        codec.encode(result)
    except codec.PayloadCodecError as exc:
        await attempt.fail(
            f"activity result cannot be encoded: {exc}",
            "PayloadError",
            non_retryable=True,
            kind="malformed_output",
        )
        return "failed"
    try:
        await attempt.complete(result)
    except PayloadError as exc:  # e.g. larger than the payload limit: retrying cannot help
        await attempt.fail(
            f"activity result cannot be sent: {exc}",
            type(exc).__name__,
            non_retryable=True,
            kind="malformed_output",
        )
        return "failed"
    except DurableWorkflowError as exc:  # stale attempt, run cancelled...: the outcome is moot
        _log_unrecorded("completion", attempt.task_id, exc)
        return "dropped"
    logger.info("activity %s (%s) completed", attempt.task_id, attempt.activity_type)
    return "completed"
