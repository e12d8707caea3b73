"""The async HTTP client of the SDK."""

from __future__ import annotations

from ._base import (
    DEFAULT_PAYLOAD_SIZE_LIMIT_BYTES,
    DEFAULT_PAYLOAD_WARNING_THRESHOLD_PERCENT,
    OUTCOME_HTTP_ERROR,
    OUTCOME_SUCCESS,
    OUTCOME_TRANSPORT_ERROR,
)
from ._client import Client
from ._errors import REASON_TABLE, exception_for
from ._handle import WorkflowHandle
from ._results import WorkflowCommandResult, WorkflowExecution, WorkflowList, WorkflowRun, WorkflowRunList
from ._workflows import TERMINAL_STATUSES

__all__ = [
    "DEFAULT_PAYLOAD_SIZE_LIMIT_BYTES",
    "DEFAULT_PAYLOAD_WARNING_THRESHOLD_PERCENT",
    "OUTCOME_HTTP_ERROR",
    "OUTCOME_SUCCESS",
    "OUTCOME_TRANSPORT_ERROR",
    "REASON_TABLE",
    "TERMINAL_STATUSES",
    "Client",
    "WorkflowCommandResult",
    "WorkflowExecution",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
    "exception_for",
]
