"""Durable workflows for Python: the SDK.

Workflows are generators that yield commands (activities, timers, side effects, ...); every
step is recorded in a history on the server and replayed, so a workflow survives crashes and
restarts. Start here::

    from durable_workflow import Client, Worker, activity, workflow

This module only re-exports, lazily (PEP 562): ``import durable_workflow.protocol`` (what the
server does) must not pull in the HTTP client, the worker or the testing harness.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import activity, workflow
    from .client import (
        Client,
        ExternalPayloadStoragePolicy,
        NamespaceDescription,
        NamespaceList,
        ScheduleAction,
        ScheduleBackfillFire,
        ScheduleBackfillResult,
        ScheduleDescription,
        ScheduleHandle,
        ScheduleHistoryEvent,
        ScheduleHistoryPage,
        ScheduleList,
        ScheduleOperationResult,
        ScheduleSpec,
        ScheduleTriggerResult,
        StoragePayloadTestResult,
        StorageTestResult,
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
        WorkflowCommandResult,
        WorkflowExecution,
        WorkflowHandle,
        WorkflowList,
        WorkflowRun,
        WorkflowRunList,
    )
    from .errors import (
        ActivityCancelled,
        ActivityFailed,
        ChildWorkflowCancelled,
        ChildWorkflowFailed,
        ChildWorkflowTerminated,
        DurableWorkflowError,
        Forbidden,
        InvalidArgument,
        NamespaceNotFound,
        NonDeterministicReplayError,
        NonRetryableError,
        PayloadError,
        PayloadSizeWarning,
        PayloadTooLarge,
        QueryFailed,
        ScheduleAlreadyExists,
        ScheduleNotFound,
        SearchAttributeNotFound,
        ServerError,
        SignalFailed,
        TransportError,
        Unauthorized,
        UpdateRejected,
        WorkerNotFound,
        WorkflowAlreadyStarted,
        WorkflowCancelled,
        WorkflowFailed,
        WorkflowNotFound,
        WorkflowTerminated,
    )
    from .external_storage import (
        ExternalPayloadCache,
        ExternalPayloadIntegrityError,
        LocalFilesystemExternalStorage,
        external_storage_envelope,
        to_avro_payload_value,
    )
    from .interceptors import (
        ActivityInterceptorContext,
        PassthroughWorkerInterceptor,
        QueryTaskInterceptorContext,
        WorkerInterceptor,
        WorkflowTaskInterceptorContext,
    )
    from .metrics import InMemoryMetrics, MetricsRecorder, NoopMetrics, PrometheusMetrics
    from .retry_policy import TransportRetryPolicy
    from .testing import Replayer, ReplayOutcome
    from .worker import Worker
    from .workflow import (
        ActivityRetryPolicy,
        ChildWorkflowRetryPolicy,
        ContinueAsNew,
        WorkflowContext,
    )

# Public name -> the module that defines it (a submodule name maps to itself).
#
# The same names appear three times, on purpose: the TYPE_CHECKING imports give type checkers
# each name's type, ``__all__`` must be a literal list for them to read the star-export, and
# this table is what runs. Deriving any of them at runtime would mean parsing this file's source
# (absent from bytecode-only installs) or a computed ``__all__`` (unreadable to type checkers),
# so tests/sdk/test_protocol_standalone.py checks that the three agree instead.
_EXPORTS: dict[str, str] = {
    "ActivityCancelled": ".errors",
    "ActivityFailed": ".errors",
    "ActivityInterceptorContext": ".interceptors",
    "ActivityRetryPolicy": ".workflow",
    "ChildWorkflowCancelled": ".errors",
    "ChildWorkflowFailed": ".errors",
    "ChildWorkflowRetryPolicy": ".workflow",
    "ChildWorkflowTerminated": ".errors",
    "Client": ".client",
    "ContinueAsNew": ".workflow",
    "DurableWorkflowError": ".errors",
    "ExternalPayloadCache": ".external_storage",
    "ExternalPayloadIntegrityError": ".external_storage",
    "ExternalPayloadStoragePolicy": ".client",
    "Forbidden": ".errors",
    "InMemoryMetrics": ".metrics",
    "InvalidArgument": ".errors",
    "LocalFilesystemExternalStorage": ".external_storage",
    "MetricsRecorder": ".metrics",
    "NamespaceDescription": ".client",
    "NamespaceList": ".client",
    "NamespaceNotFound": ".errors",
    "NonDeterministicReplayError": ".errors",
    "NonRetryableError": ".errors",
    "NoopMetrics": ".metrics",
    "PassthroughWorkerInterceptor": ".interceptors",
    "PayloadError": ".errors",
    "PayloadSizeWarning": ".errors",
    "PayloadTooLarge": ".errors",
    "PrometheusMetrics": ".metrics",
    "QueryFailed": ".errors",
    "QueryTaskInterceptorContext": ".interceptors",
    "ReplayOutcome": ".testing",
    "Replayer": ".testing",
    "ScheduleAction": ".client",
    "ScheduleAlreadyExists": ".errors",
    "ScheduleBackfillFire": ".client",
    "ScheduleBackfillResult": ".client",
    "ScheduleDescription": ".client",
    "ScheduleHandle": ".client",
    "ScheduleHistoryEvent": ".client",
    "ScheduleHistoryPage": ".client",
    "ScheduleList": ".client",
    "ScheduleNotFound": ".errors",
    "ScheduleOperationResult": ".client",
    "ScheduleSpec": ".client",
    "ScheduleTriggerResult": ".client",
    "SearchAttributeNotFound": ".errors",
    "ServerError": ".errors",
    "SignalFailed": ".errors",
    "StoragePayloadTestResult": ".client",
    "StorageTestResult": ".client",
    "TaskQueueAdmission": ".client",
    "TaskQueueBuildIdCohort": ".client",
    "TaskQueueBuildIdRollout": ".client",
    "TaskQueueBuildIdRolloutState": ".client",
    "TaskQueueDescription": ".client",
    "TaskQueueLease": ".client",
    "TaskQueueList": ".client",
    "TaskQueuePoller": ".client",
    "TaskQueueQueryAdmission": ".client",
    "TaskQueueStats": ".client",
    "TaskQueueTaskAdmission": ".client",
    "TaskQueueTaskCounts": ".client",
    "TransportError": ".errors",
    "TransportRetryPolicy": ".retry_policy",
    "Unauthorized": ".errors",
    "UpdateRejected": ".errors",
    "Worker": ".worker",
    "WorkerDescription": ".client",
    "WorkerInterceptor": ".interceptors",
    "WorkerList": ".client",
    "WorkerNotFound": ".errors",
    "WorkflowAlreadyStarted": ".errors",
    "WorkflowCancelled": ".errors",
    "WorkflowCommandResult": ".client",
    "WorkflowContext": ".workflow",
    "WorkflowExecution": ".client",
    "WorkflowFailed": ".errors",
    "WorkflowHandle": ".client",
    "WorkflowList": ".client",
    "WorkflowNotFound": ".errors",
    "WorkflowRun": ".client",
    "WorkflowRunList": ".client",
    "WorkflowTaskInterceptorContext": ".interceptors",
    "WorkflowTerminated": ".errors",
    "activity": ".activity",
    "external_storage_envelope": ".external_storage",
    "to_avro_payload_value": ".external_storage",
    "workflow": ".workflow",
}

__all__ = [
    "ActivityCancelled",
    "ActivityFailed",
    "ActivityInterceptorContext",
    "ActivityRetryPolicy",
    "ChildWorkflowCancelled",
    "ChildWorkflowFailed",
    "ChildWorkflowRetryPolicy",
    "ChildWorkflowTerminated",
    "Client",
    "ContinueAsNew",
    "DurableWorkflowError",
    "ExternalPayloadCache",
    "ExternalPayloadIntegrityError",
    "ExternalPayloadStoragePolicy",
    "Forbidden",
    "InMemoryMetrics",
    "InvalidArgument",
    "LocalFilesystemExternalStorage",
    "MetricsRecorder",
    "NamespaceDescription",
    "NamespaceList",
    "NamespaceNotFound",
    "NonDeterministicReplayError",
    "NonRetryableError",
    "NoopMetrics",
    "PassthroughWorkerInterceptor",
    "PayloadError",
    "PayloadSizeWarning",
    "PayloadTooLarge",
    "PrometheusMetrics",
    "QueryFailed",
    "QueryTaskInterceptorContext",
    "ReplayOutcome",
    "Replayer",
    "ScheduleAction",
    "ScheduleAlreadyExists",
    "ScheduleBackfillFire",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleHistoryEvent",
    "ScheduleHistoryPage",
    "ScheduleList",
    "ScheduleNotFound",
    "ScheduleOperationResult",
    "ScheduleSpec",
    "ScheduleTriggerResult",
    "SearchAttributeNotFound",
    "ServerError",
    "SignalFailed",
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
    "TransportError",
    "TransportRetryPolicy",
    "Unauthorized",
    "UpdateRejected",
    "Worker",
    "WorkerDescription",
    "WorkerInterceptor",
    "WorkerList",
    "WorkerNotFound",
    "WorkflowAlreadyStarted",
    "WorkflowCancelled",
    "WorkflowCommandResult",
    "WorkflowContext",
    "WorkflowExecution",
    "WorkflowFailed",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowNotFound",
    "WorkflowRun",
    "WorkflowRunList",
    "WorkflowTaskInterceptorContext",
    "WorkflowTerminated",
    "activity",
    "external_storage_envelope",
    "to_avro_payload_value",
    "workflow",
]


# Submodules reachable as attributes (``dw.errors.WorkflowFailed``, ``dw.testing.WorkflowEnvironment``)
# without an explicit ``import durable_workflow.errors``; each is imported on first access.
_SUBMODULES = frozenset(
    {
        "activity",
        "client",
        "errors",
        "external_storage",
        "interceptors",
        "metrics",
        "protocol",
        "retry_policy",
        "sync",
        "testing",
        "worker",
        "workflow",
    }
)


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access and cache the value."""
    if name in _SUBMODULES:
        # import_module also binds the submodule on this package, so this runs once per name.
        return importlib.import_module(f".{name}", __name__)
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
