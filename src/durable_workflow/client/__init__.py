"""The async HTTP client of the SDK."""

from __future__ import annotations

from ..protocol.maintenance import (
    ActivityTimeoutPassResult,
    ActivityTimeoutStatus,
    RepairPassResult,
    RepairStatus,
    RetentionPassResult,
    RetentionStatus,
)
from ._client import Client
from ._handle import WorkflowHandle
from ._namespace_results import NamespaceDescription, NamespaceList
from ._results import (
    WaitingOn,
    WorkflowCommandResult,
    WorkflowExecution,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)

# The error-mapping table (``_errors.REASON_TABLE`` / ``exception_for``), metric outcome tags and
# payload-limit defaults (``_base``) are internals; they stay importable from those modules.
__all__ = [
    "ActivityTimeoutPassResult",
    "ActivityTimeoutStatus",
    "Client",
    "NamespaceDescription",
    "NamespaceList",
    "RepairPassResult",
    "RepairStatus",
    "RetentionPassResult",
    "RetentionStatus",
    "WaitingOn",
    "WorkflowCommandResult",
    "WorkflowExecution",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]
