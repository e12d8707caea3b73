"""What a recorded resolution means to the code: a value, or an exception thrown at the yield."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ActivityFailed, ChildWorkflowCancelled, ChildWorkflowFailed, ChildWorkflowTerminated
from ..protocol.history import EventType as E
from ._commands import Command, RecordSideEffect
from ._history_compat import RecordedStep, decode_value, event_payload, event_type


def _failure_message(payload: Mapping[str, Any], default: str) -> str:
    exc = payload.get("exception")
    exc_message = exc.get("message") if isinstance(exc, Mapping) else None
    return str(payload.get("message") or exc_message or payload.get("closed_reason") or default)


def resolved_value(cmd: Command, step: RecordedStep, codec: str | None) -> tuple[Any, BaseException | None]:
    """The value (or the exception to throw) a recorded resolution gives the yield of ``cmd``."""
    event = step.resolution
    assert event is not None
    etype = event_type(event)
    payload = event_payload(event)
    if etype in (E.ACTIVITY_COMPLETED, E.CHILD_RUN_COMPLETED):
        raw = payload.get("result") if payload.get("result") is not None else payload.get("output")
        return decode_value(raw, payload, codec), None
    if etype in (E.ACTIVITY_FAILED, E.ACTIVITY_TIMED_OUT, E.ACTIVITY_CANCELLED):
        default = {E.ACTIVITY_TIMED_OUT: "activity timed out", E.ACTIVITY_CANCELLED: "activity cancelled"}
        implied = {E.ACTIVITY_TIMED_OUT: "timeout", E.ACTIVITY_CANCELLED: "cancelled"}
        return None, ActivityFailed(
            _failure_message(payload, default.get(etype, "activity failed")),
            activity_type=step.name,
            exception_type=payload.get("exception_type"),
            exception_class=payload.get("exception_class"),
            failure_category=payload.get("failure_category") or implied.get(etype),
            non_retryable=bool(payload.get("non_retryable")),
        )
    if etype in (E.CHILD_RUN_FAILED, E.CHILD_RUN_CANCELLED, E.CHILD_RUN_TERMINATED):
        cls: type[ChildWorkflowFailed] = {
            E.CHILD_RUN_FAILED: ChildWorkflowFailed,
            E.CHILD_RUN_CANCELLED: ChildWorkflowCancelled,
            E.CHILD_RUN_TERMINATED: ChildWorkflowTerminated,
        }[etype]
        return None, cls(
            _failure_message(payload, "child workflow failed"),
            workflow_type=step.name,
            exception_type=payload.get("exception_type"),
            exception_class=payload.get("exception_class"),
            failure_category=payload.get("failure_category"),
        )
    if etype == E.SIDE_EFFECT_RECORDED:
        value = decode_value(payload.get("result"), payload, codec)
        if isinstance(cmd, RecordSideEffect):
            cmd.result = value  # so a re-emitted group can still be put on the wire
        return value, None
    if etype == E.VERSION_MARKER_RECORDED:
        version = payload.get("version", 0)
        return int(version) if version is not None else 0, None
    if etype == E.CONDITION_WAIT_SATISFIED:
        return True, None
    if etype in (E.CONDITION_WAIT_TIMED_OUT, E.TIMER_FIRED) and step.kind == "condition_wait":
        return False, None
    return None, None  # TimerFired, SearchAttributesUpserted
