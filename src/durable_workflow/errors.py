"""The SDK's exception hierarchy.

::

    DurableWorkflowError (Exception)
    ├── ServerError                      unexpected server answer (status, body)
    │   ├── Unauthorized                 401
    │   ├── Forbidden                    403 (token valid, role not allowed)
    │   ├── InvalidArgument              422 / validation
    │   ├── NotFound
    │   │   ├── WorkflowNotFound
    │   │   ├── NamespaceNotFound
    │   │   ├── ScheduleNotFound
    │   │   ├── WorkerNotFound
    │   │   └── SearchAttributeNotFound
    │   ├── WorkflowAlreadyStarted       409 duplicate_not_allowed
    │   ├── ScheduleAlreadyExists
    │   ├── QueryFailed
    │   ├── SignalFailed
    │   └── UpdateRejected
    ├── TransportError                   the server could not be reached (after retries)
    ├── PayloadError                     a payload could not be encoded/decoded
    │   └── PayloadTooLarge              an encoded payload exceeds the client's size limit
    ├── WorkflowFailed                   a workflow ended in ``failed``
    ├── ActivityFailed                   an activity failed (thrown into workflow code)
    ├── ChildWorkflowFailed              a child workflow failed (thrown into workflow code)
    │   ├── ChildWorkflowCancelled
    │   └── ChildWorkflowTerminated
    ├── NonRetryableError                raise from an activity to fail it without retries
    └── NonDeterministicReplayError      workflow code diverged from its recorded history

    BaseException (deliberately not Exception: ``except Exception`` must not swallow them)
    ├── WorkflowCancelled
    ├── WorkflowTerminated
    └── ActivityCancelled
"""

from __future__ import annotations

from typing import Any


class DurableWorkflowError(Exception):
    """Base class of every ordinary error the SDK raises."""


class ServerError(DurableWorkflowError):
    """The server answered with an error status. ``reason`` is its machine-readable code."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        reason: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.reason = reason
        self.body = body


class Unauthorized(ServerError):
    """Authentication failed (401): missing or unknown token."""


class Forbidden(ServerError):
    """The token is valid but its role may not call this route (403)."""


class InvalidArgument(ServerError):
    """The server refused the request's fields. ``errors`` maps field → messages."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors or {}


class NotFound(ServerError):
    """Base class of the typed 404s."""


class WorkflowNotFound(NotFound):
    """The workflow id (or run) does not exist in the namespace."""


class NamespaceNotFound(NotFound):
    """The namespace does not exist."""


class ScheduleNotFound(NotFound):
    """The schedule id does not exist."""


class WorkerNotFound(NotFound):
    """The worker id is not registered."""


class SearchAttributeNotFound(NotFound):
    """The custom search attribute does not exist."""


class WorkflowAlreadyStarted(ServerError):
    """A workflow with this id is already open and the duplicate policy refused a new run."""


class ScheduleAlreadyExists(ServerError):
    """A schedule with this id already exists."""


class QueryFailed(ServerError):
    """The query could not be answered (unknown query, handler error, no worker, timeout)."""


class SignalFailed(ServerError):
    """The signal was refused (unknown signal, invalid arguments, closed run)."""


class UpdateRejected(ServerError):
    """The update was rejected by the workflow (validator) before it was applied."""


class TransportError(DurableWorkflowError):
    """The server could not be reached, even after the transport retry policy gave up."""


class PayloadError(DurableWorkflowError):
    """A payload could not be encoded or decoded. ``reason`` is the codec reason code."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class PayloadTooLarge(PayloadError):
    """An encoded payload is larger than the client's ``payload_size_limit_bytes``.

    Raised locally, before the request is sent, because the server would refuse the body with
    413 ``payload_too_large`` anyway.
    """

    def __init__(self, message: str, *, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(message, reason="payload_too_large")
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes


class PayloadSizeWarning(UserWarning):
    """An encoded payload crossed the client's warning threshold (a share of the size limit)."""


class WorkflowFailed(DurableWorkflowError):
    """The workflow ended in the ``failed`` state."""

    def __init__(
        self,
        message: str,
        exception_type: str | None = None,
        *,
        workflow_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exception_type = exception_type
        self.workflow_id = workflow_id
        self.run_id = run_id


class ActivityFailed(DurableWorkflowError):
    """An activity failed for good; thrown into the workflow at the ``yield`` that awaited it."""

    def __init__(
        self,
        message: str,
        *,
        activity_type: str | None = None,
        exception_type: str | None = None,
        exception_class: str | None = None,
        failure_category: str | None = None,
        non_retryable: bool = False,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.activity_type = activity_type
        self.exception_type = exception_type
        self.exception_class = exception_class
        self.failure_category = failure_category
        self.non_retryable = non_retryable
        self.details = details


class ChildWorkflowFailed(DurableWorkflowError):
    """A child workflow failed; thrown into the parent at the ``yield`` that awaited it."""

    def __init__(
        self,
        message: str,
        *,
        workflow_type: str | None = None,
        exception_type: str | None = None,
        exception_class: str | None = None,
        failure_category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.workflow_type = workflow_type
        self.exception_type = exception_type
        self.exception_class = exception_class
        self.failure_category = failure_category


class ChildWorkflowCancelled(ChildWorkflowFailed):
    """The child workflow was cancelled."""


class ChildWorkflowTerminated(ChildWorkflowFailed):
    """The child workflow was terminated."""


class NonRetryableError(DurableWorkflowError):
    """Raise from an activity to fail it at once, whatever its retry policy says."""


class NonDeterministicReplayError(DurableWorkflowError):
    """Workflow code yielded something other than what its history recorded.

    The message is written for a person; the same facts are attributes for programs:
    ``workflow_type``, ``run_id``, ``step`` (1-based step number), ``recorded`` and ``yielded``
    (descriptions of what history holds and what the code does now) and ``location``
    (``file:line`` of the workflow code), each ``None`` when not known.
    """

    def __init__(
        self,
        message: str,
        *,
        workflow_type: str | None = None,
        run_id: str | None = None,
        step: int | None = None,
        recorded: str | None = None,
        yielded: str | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(message)
        self.workflow_type = workflow_type
        self.run_id = run_id
        self.step = step
        self.recorded = recorded
        self.yielded = yielded
        self.location = location


class WorkflowCancelled(BaseException):
    """The workflow was cancelled. A BaseException so ``except Exception`` does not swallow it."""

    def __init__(self, message: str = "workflow cancelled", reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class WorkflowTerminated(BaseException):
    """The workflow was terminated. A BaseException so ``except Exception`` does not swallow it."""

    def __init__(self, message: str = "workflow terminated", reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class ActivityCancelled(BaseException):
    """The running activity was asked to stop (seen on heartbeat). Catch by name to clean up."""


__all__ = [
    "ActivityCancelled",
    "ActivityFailed",
    "ChildWorkflowCancelled",
    "ChildWorkflowFailed",
    "ChildWorkflowTerminated",
    "DurableWorkflowError",
    "Forbidden",
    "InvalidArgument",
    "NamespaceNotFound",
    "NonDeterministicReplayError",
    "NonRetryableError",
    "NotFound",
    "PayloadError",
    "PayloadSizeWarning",
    "PayloadTooLarge",
    "QueryFailed",
    "ScheduleAlreadyExists",
    "ScheduleNotFound",
    "SearchAttributeNotFound",
    "ServerError",
    "SignalFailed",
    "TransportError",
    "Unauthorized",
    "UpdateRejected",
    "WorkerNotFound",
    "WorkflowAlreadyStarted",
    "WorkflowCancelled",
    "WorkflowFailed",
    "WorkflowNotFound",
    "WorkflowTerminated",
]
