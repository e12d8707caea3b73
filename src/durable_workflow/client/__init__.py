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
from ._bridge_results import BridgeAdapterOutcome
from ._client import Client
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

# The error-mapping table (``_errors.REASON_TABLE`` / ``exception_for``), metric outcome tags and
# payload-limit defaults (``_base``) are internals; they stay importable from those modules.
__all__ = [
    "ActivityTimeoutPassResult",
    "ActivityTimeoutStatus",
    "BridgeAdapterOutcome",
    "Client",
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
    "WorkflowExecution",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]
