"""The async HTTP client of the SDK.

``Client`` is imported with the package; every other name (the typed results of each noun)
on first access (PEP 562), so a program that only describes a workflow, as ``dw`` does, does
not pay for the result classes of schedules, task queues and the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._client import Client

if TYPE_CHECKING:
    from ..protocol.maintenance import (
        ActivityTimeoutPassResult,
        ActivityTimeoutStatus,
        RepairPassResult,
        RepairStatus,
        RetentionPassResult,
        RetentionStatus,
    )
    from ._bridge_results import BridgeAdapterOutcome
    from ._debug_results import DebugFinding, WorkflowDebugView
    from ._handle import WorkflowHandle
    from ._message_results import QueryResult, UpdateResult
    from ._namespace_results import ExternalPayloadStoragePolicy, NamespaceDescription, NamespaceList
    from ._results import (
        WaitingOn,
        WorkflowCommandResult,
        WorkflowExecution,
        WorkflowList,
        WorkflowRun,
        WorkflowRunList,
    )
    from ._schedule_handle import ScheduleHandle
    from ._schedule_results import (
        ScheduleBackfillFire,
        ScheduleBackfillResult,
        ScheduleDescription,
        ScheduleHistoryEvent,
        ScheduleHistoryPage,
        ScheduleList,
        ScheduleOperationResult,
        ScheduleTriggerResult,
    )
    from ._schedule_types import ScheduleAction, ScheduleSpec
    from ._search_attribute_results import SearchAttributeList
    from ._storage_results import StoragePayloadTestResult, StorageTestResult
    from ._task_queue_results import (
        TaskQueueAdmission,
        TaskQueueBuildIdCohort,
        TaskQueueBuildIdRollout,
        TaskQueueBuildIdRolloutState,
        TaskQueueDescription,
        TaskQueueLease,
        TaskQueueList,
        TaskQueuePoller,
        TaskQueueQueryAdmission,
        TaskQueueStats,
        TaskQueueTaskAdmission,
        TaskQueueTaskCounts,
        WorkerDescription,
        WorkerList,
    )

# Public name -> the module that defines it (as the TYPE_CHECKING imports above say; a test
# checks that the two agree with ``__all__``).
_EXPORTS: dict[str, str] = {
    "ActivityTimeoutPassResult": "..protocol.maintenance",
    "ActivityTimeoutStatus": "..protocol.maintenance",
    "BridgeAdapterOutcome": "._bridge_results",
    "DebugFinding": "._debug_results",
    "ExternalPayloadStoragePolicy": "._namespace_results",
    "NamespaceDescription": "._namespace_results",
    "NamespaceList": "._namespace_results",
    "QueryResult": "._message_results",
    "RepairPassResult": "..protocol.maintenance",
    "RepairStatus": "..protocol.maintenance",
    "RetentionPassResult": "..protocol.maintenance",
    "RetentionStatus": "..protocol.maintenance",
    "ScheduleAction": "._schedule_types",
    "ScheduleBackfillFire": "._schedule_results",
    "ScheduleBackfillResult": "._schedule_results",
    "ScheduleDescription": "._schedule_results",
    "ScheduleHandle": "._schedule_handle",
    "ScheduleHistoryEvent": "._schedule_results",
    "ScheduleHistoryPage": "._schedule_results",
    "ScheduleList": "._schedule_results",
    "ScheduleOperationResult": "._schedule_results",
    "ScheduleSpec": "._schedule_types",
    "ScheduleTriggerResult": "._schedule_results",
    "SearchAttributeList": "._search_attribute_results",
    "StoragePayloadTestResult": "._storage_results",
    "StorageTestResult": "._storage_results",
    "TaskQueueAdmission": "._task_queue_results",
    "TaskQueueBuildIdCohort": "._task_queue_results",
    "TaskQueueBuildIdRollout": "._task_queue_results",
    "TaskQueueBuildIdRolloutState": "._task_queue_results",
    "TaskQueueDescription": "._task_queue_results",
    "TaskQueueLease": "._task_queue_results",
    "TaskQueueList": "._task_queue_results",
    "TaskQueuePoller": "._task_queue_results",
    "TaskQueueQueryAdmission": "._task_queue_results",
    "TaskQueueStats": "._task_queue_results",
    "TaskQueueTaskAdmission": "._task_queue_results",
    "TaskQueueTaskCounts": "._task_queue_results",
    "UpdateResult": "._message_results",
    "WaitingOn": "._results",
    "WorkerDescription": "._task_queue_results",
    "WorkerList": "._task_queue_results",
    "WorkflowCommandResult": "._results",
    "WorkflowDebugView": "._debug_results",
    "WorkflowExecution": "._results",
    "WorkflowHandle": "._handle",
    "WorkflowList": "._results",
    "WorkflowRun": "._results",
    "WorkflowRunList": "._results",
}

# The error-mapping table (``_errors.REASON_TABLE`` / ``exception_for``), metric outcome tags and
# payload-limit defaults (``_base``) are internals; they stay importable from those modules.
__all__ = [
    "ActivityTimeoutPassResult",
    "ActivityTimeoutStatus",
    "BridgeAdapterOutcome",
    "Client",
    "DebugFinding",
    "ExternalPayloadStoragePolicy",
    "NamespaceDescription",
    "NamespaceList",
    "QueryResult",
    "RepairPassResult",
    "RepairStatus",
    "RetentionPassResult",
    "RetentionStatus",
    "ScheduleAction",
    "ScheduleBackfillFire",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleHistoryEvent",
    "ScheduleHistoryPage",
    "ScheduleList",
    "ScheduleOperationResult",
    "ScheduleSpec",
    "ScheduleTriggerResult",
    "SearchAttributeList",
    "StoragePayloadTestResult",
    "StorageTestResult",
    "TaskQueueAdmission",
    "TaskQueueBuildIdCohort",
    "TaskQueueBuildIdRollout",
    "TaskQueueBuildIdRolloutState",
    "TaskQueueDescription",
    "TaskQueueLease",
    "TaskQueueList",
    "TaskQueuePoller",
    "TaskQueueQueryAdmission",
    "TaskQueueStats",
    "TaskQueueTaskAdmission",
    "TaskQueueTaskCounts",
    "UpdateResult",
    "WaitingOn",
    "WorkerDescription",
    "WorkerList",
    "WorkflowCommandResult",
    "WorkflowDebugView",
    "WorkflowExecution",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first access and cache the value."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
