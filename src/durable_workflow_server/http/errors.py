"""HTTP error envelopes: one exception type for the HTTP layer and the reason → status table.

The engine names *what* went wrong (a ``reason`` from :mod:`durable_workflow.protocol.errors`);
this module decides *which HTTP status* that is, so the status policy lives in one place.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import errors as r

from ..engine.errors import DomainError, ValidationFailed

# Reasons whose status is not the default 409 (a refusal of a well-formed request).
_STATUS_BY_REASON: dict[str, int] = {
    # transport / middleware
    r.MALFORMED_JSON: 400,
    r.MISSING_CONTROL_PLANE_VERSION: 400,
    r.UNSUPPORTED_CONTROL_PLANE_VERSION: 400,
    r.MISSING_PROTOCOL_VERSION: 400,
    r.UNSUPPORTED_PROTOCOL_VERSION: 400,
    r.INVALID_PAGE_TOKEN: 400,
    r.UNAUTHORIZED: 401,
    r.FORBIDDEN: 403,
    r.NOT_FOUND: 404,
    r.METHOD_NOT_ALLOWED: 405,
    r.PAYLOAD_TOO_LARGE: 413,
    r.UNSUPPORTED_MEDIA_TYPE: 415,
    r.SERVER_ERROR: 500,
    r.DATABASE_UNAVAILABLE: 503,  # the database is unreachable for now: retry (Retry-After)
    # not found
    r.NAMESPACE_NOT_FOUND: 404,
    r.INSTANCE_NOT_FOUND: 404,
    r.WORKFLOW_NOT_FOUND: 404,
    r.RUN_NOT_FOUND: 404,
    r.UNKNOWN_SIGNAL: 404,
    r.UNKNOWN_UPDATE: 404,
    r.QUERY_NOT_FOUND: 404,
    r.REJECTED_UNKNOWN_QUERY: 404,
    r.SCHEDULE_NOT_FOUND: 404,
    r.WORKER_NOT_FOUND: 404,
    r.ATTRIBUTE_NOT_FOUND: 404,
    r.WORKER_NOT_REGISTERED: 404,  # 412 on polls, see the worker routes
    r.TASK_NOT_FOUND: 404,
    r.ATTEMPT_NOT_FOUND: 404,
    r.HISTORY_NOT_AVAILABLE: 404,
    "query_task_not_found": 404,
    # unprocessable
    r.VALIDATION_FAILED: 422,
    r.INVALID_SIGNAL_ARGUMENTS: 422,
    r.INVALID_UPDATE_ARGUMENTS: 422,
    r.UPDATE_FAILED: 422,
    r.INVALID_QUERY_ARGUMENTS: 422,
    r.STRUCTURAL_LIMIT_EXCEEDED: 422,
    r.UNSUPPORTED_PAYLOAD_CODEC: 422,
    r.INVALID_PAYLOAD_FRAMING: 422,
    r.UNSUPPORTED_PAYLOAD_SCHEMA: 422,
    "memo_too_large": 422,
    "invalid_time_range": 422,
    "invalid_after_sequence": 422,
    "search_attribute_limit_reached": 422,
    r.EXTERNAL_STORAGE_NOT_CONFIGURED: 422,
    r.EXTERNAL_STORAGE_DISABLED: 422,
    r.STORAGE_DRIVER_UNAVAILABLE: 422,
    # capacity / time
    "query_task_queue_full": 429,
    "query_task_queue_unavailable": 503,
    "bridge_event_in_flight": 503,  # the first delivery's outcome is not known yet: retry
    r.QUERY_WORKER_TIMEOUT: 504,
    r.QUERY_WORKER_EXECUTION_TIMEOUT: 504,
    r.QUERY_TASK_NOT_CLAIMED: 504,
}

DEFAULT_REFUSAL_STATUS = 409


def status_for_reason(reason: str | None) -> int:
    """HTTP status for a refusal ``reason`` (409 for anything not listed)."""
    if reason is None:
        return DEFAULT_REFUSAL_STATUS
    return _STATUS_BY_REASON.get(reason, DEFAULT_REFUSAL_STATUS)


class ApiError(Exception):
    """An error response the HTTP layer sends as ``{"message", "reason", **extra}``.

    Raised by guards and route handlers; rendered by :class:`~.routing.RoutePlan` with the
    envelope of the matched route's plane (headers, ``control_plane`` block).
    """

    # Positional-only, because engine refusals carry context fields such as ``status`` (the run
    # status) that must land in ``extra`` instead of colliding with these parameters.
    def __init__(self, status: int, reason: str | None, message: str, /, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.reason is not None:
            body["reason"] = self.reason
        for key, value in self.extra.items():
            body.setdefault(key, value)
        return body

    @classmethod
    def from_domain(cls, error: DomainError, status: int | None = None) -> ApiError:
        """Wrap an engine refusal, choosing the status from the reason unless given."""
        return cls(status or status_for_reason(error.reason), error.reason, error.message, **error.extra)


def validation_error(errors: dict[str, list[str]]) -> ApiError:
    """The 422 ``validation_failed`` envelope for field errors (same message rule as the engine)."""
    return ApiError.from_domain(ValidationFailed(errors))
