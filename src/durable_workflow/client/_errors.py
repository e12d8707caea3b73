"""Mapping of server error answers to the SDK's typed exceptions — the one table.

Inputs are the HTTP status, the decoded body and the *operation* (``signal``, ``query``, ...).
The operation comes from ``body.control_plane.operation`` when the server sends it, otherwise
from the client method that made the call, so a ``run_not_active`` on a signal is a
``SignalFailed`` even when a minimal server omits the ``control_plane`` block.

Unlike SDK 0.4.84 this never guesses from the workflow id text (``"workflow" in id``), maps 403
to :class:`Forbidden`, ``run_not_found`` to :class:`WorkflowNotFound`, and the 404s the product
documentation promises (worker, search attribute) to their typed classes. Every class here is a
``ServerError`` subclass, so ``except ServerError`` keeps catching everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import (
    Forbidden,
    InvalidArgument,
    NamespaceNotFound,
    QueryFailed,
    ScheduleAlreadyExists,
    ScheduleNotFound,
    SearchAttributeNotFound,
    ServerError,
    SignalFailed,
    Unauthorized,
    UpdateRejected,
    WorkerNotFound,
    WorkflowAlreadyStarted,
    WorkflowNotFound,
)
from ..protocol import errors as r

_QUERY_REASONS = frozenset(
    {
        r.QUERY_NOT_FOUND,
        r.REJECTED_UNKNOWN_QUERY,
        r.INVALID_QUERY_ARGUMENTS,
        r.QUERY_REJECTED,
        r.QUERY_WORKER_UNAVAILABLE,
        r.QUERY_WORKER_INCOMPATIBLE,
        r.QUERY_WORKFLOW_STATE_UNAVAILABLE,
        r.QUERY_WORKER_TIMEOUT,
        r.QUERY_WORKER_EXECUTION_TIMEOUT,
        r.QUERY_TASK_NOT_CLAIMED,
    }
)

# (status, reason) → exception class. ``None`` as status means "whatever the status".
REASON_TABLE: dict[tuple[int | None, str], type[ServerError]] = {
    # 404: missing resources
    (404, r.INSTANCE_NOT_FOUND): WorkflowNotFound,
    (404, r.WORKFLOW_NOT_FOUND): WorkflowNotFound,
    (404, r.RUN_NOT_FOUND): WorkflowNotFound,
    (404, r.NAMESPACE_NOT_FOUND): NamespaceNotFound,
    (404, r.SCHEDULE_NOT_FOUND): ScheduleNotFound,
    (404, r.WORKER_NOT_FOUND): WorkerNotFound,
    (404, r.ATTRIBUTE_NOT_FOUND): SearchAttributeNotFound,
    (404, r.UNKNOWN_SIGNAL): SignalFailed,
    # A worker that validates updates before acceptance knows no update of that name.
    (404, r.UNKNOWN_UPDATE): UpdateRejected,
    # 409: conflicts
    (409, r.DUPLICATE_NOT_ALLOWED): WorkflowAlreadyStarted,
    (409, r.INSTANCE_ALREADY_STARTED): WorkflowAlreadyStarted,
    (409, r.SCHEDULE_ALREADY_EXISTS): ScheduleAlreadyExists,
    (409, r.UPDATE_REJECTED): UpdateRejected,
    # The product documentation promises InvalidArgument for these duplicates/refusals.
    (409, r.NAMESPACE_ALREADY_EXISTS): InvalidArgument,
    (409, "attribute_already_exists"): InvalidArgument,
    (409, "system_attribute"): InvalidArgument,
    (409, "name_reserved"): InvalidArgument,
    # 422: argument contracts of signals and queries
    (422, r.INVALID_SIGNAL_ARGUMENTS): SignalFailed,
    # Query failures keep their class whatever status the server chose (404/409/422/504).
    **{(None, reason): QueryFailed for reason in _QUERY_REASONS},
}

# ``run_not_active`` (409) depends on what was attempted.
RUN_NOT_ACTIVE_BY_OPERATION: dict[str, type[ServerError]] = {
    "signal": SignalFailed,
    "query": QueryFailed,
    "update": UpdateRejected,
}


def _message(status: int, body: Any) -> str:
    if isinstance(body, Mapping):
        for key in ("message", "error"):
            text = body.get(key)
            if isinstance(text, str) and text:
                return text
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return f"server answered HTTP {status}"


def operation_of(body: Any, fallback: str | None) -> str | None:
    """The control-plane operation named in ``body`` (``control_plane.operation``) or ``fallback``."""
    if isinstance(body, Mapping):
        block = body.get("control_plane")
        if isinstance(block, Mapping) and isinstance(block.get("operation"), str):
            return str(block["operation"])
        legacy = body.get("control_plane_operation")
        if isinstance(legacy, str):
            return legacy
    return fallback


def exception_for(status: int, body: Any, *, operation: str | None = None) -> ServerError:
    """Build (not raise) the typed exception for an error answer.

    Args:
        status: HTTP status code (>= 400).
        body: Decoded JSON body, or the raw text when the body was not JSON.
        operation: What the caller attempted (``signal``, ``query``, ``update``, ...), used when
            the body carries no ``control_plane.operation``.
    """
    reason = body.get("reason") if isinstance(body, Mapping) else None
    reason = reason if isinstance(reason, str) and reason else None
    message = _message(status, body)
    kwargs: dict[str, Any] = {"status_code": status, "reason": reason, "body": body}

    cls: type[ServerError] | None = None
    if status == 401:
        cls = Unauthorized
    elif status == 403:
        cls = Forbidden
    elif reason is not None:
        cls = REASON_TABLE.get((status, reason)) or REASON_TABLE.get((None, reason))
        if cls is None and status == 409 and reason == r.RUN_NOT_ACTIVE:
            cls = RUN_NOT_ACTIVE_BY_OPERATION.get(operation_of(body, operation) or "")
    elif status == 409 and isinstance(body, Mapping) and body.get("outcome") == "rejected_duplicate":
        # The reference server reports a duplicate start with no reason at all.
        cls = WorkflowAlreadyStarted
    if cls is None and status == 422:
        cls = InvalidArgument

    if cls is None:
        return ServerError(message, **kwargs)
    if issubclass(cls, InvalidArgument):
        errors: Any = None
        if isinstance(body, Mapping):
            errors = body.get("errors") or body.get("validation_errors")
        return cls(message, errors if isinstance(errors, dict) else None, **kwargs)
    return cls(message, **kwargs)
