"""Durable workflows for Python: the SDK.

Workflows are generators that yield commands (activities, timers, side effects, ...); every
step is recorded in a history on the server and replayed, so a workflow survives crashes and
restarts. Start here::

    from durable_workflow import Client, Worker, activity, workflow

This module only re-exports; everything is defined in the submodules.
"""

from . import activity, workflow
from .client import (
    Client,
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
from .interceptors import (
    ActivityInterceptorContext,
    PassthroughWorkerInterceptor,
    QueryTaskInterceptorContext,
    WorkerInterceptor,
    WorkflowTaskInterceptorContext,
)
from .metrics import InMemoryMetrics, MetricsRecorder, NoopMetrics, PrometheusMetrics
from .retry_policy import TransportRetryPolicy
from .testing import Replayer
from .worker import Worker
from .workflow import (
    ActivityRetryPolicy,
    ChildWorkflowRetryPolicy,
    ContinueAsNew,
    ReplayOutcome,
    WorkflowContext,
)

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
    "Forbidden",
    "InMemoryMetrics",
    "InvalidArgument",
    "MetricsRecorder",
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
    "ScheduleAlreadyExists",
    "ScheduleNotFound",
    "SearchAttributeNotFound",
    "ServerError",
    "SignalFailed",
    "TransportError",
    "TransportRetryPolicy",
    "Unauthorized",
    "UpdateRejected",
    "Worker",
    "WorkerInterceptor",
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
    "workflow",
]
