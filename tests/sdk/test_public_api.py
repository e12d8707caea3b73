"""Pin the public surface: names users import, and the module paths they import them from."""

from __future__ import annotations

import importlib

import durable_workflow

DOCUMENTED_TOP_LEVEL = {
    # quickstart and guide
    "Client",
    "Worker",
    "workflow",
    "activity",
    "ContinueAsNew",
    "ActivityRetryPolicy",
    "ChildWorkflowRetryPolicy",
    "NonRetryableError",
    "ActivityCancelled",
    "InMemoryMetrics",
    "PrometheusMetrics",
    "PassthroughWorkerInterceptor",
    "ActivityInterceptorContext",
    "ReplayOutcome",
    "Replayer",
    # error table of the docs
    "WorkflowNotFound",
    "WorkflowAlreadyStarted",
    "WorkflowFailed",
    "WorkflowCancelled",
    "WorkflowTerminated",
    "ChildWorkflowFailed",
    "QueryFailed",
    "UpdateRejected",
    "ScheduleNotFound",
    "ScheduleAlreadyExists",
    # schedules (the docs import these from durable_workflow)
    "ScheduleSpec",
    "ScheduleAction",
    "NamespaceNotFound",
    "InvalidArgument",
    "Unauthorized",
    "ServerError",
}


def test_all_is_sorted_and_complete() -> None:
    exported = durable_workflow.__all__
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(durable_workflow, name), name


def test_documented_names_are_exported() -> None:
    missing = DOCUMENTED_TOP_LEVEL - set(durable_workflow.__all__)
    assert not missing


def test_module_paths_users_import() -> None:
    for module, names in {
        "durable_workflow.errors": ["WorkflowFailed", "WorkflowCancelled", "ActivityCancelled"],
        "durable_workflow.sync": ["Client"],
        "durable_workflow.client": ["Client", "WorkflowHandle"],
        "durable_workflow.worker": ["Worker"],
        "durable_workflow.workflow": ["defn", "signal", "query", "update", "WorkflowContext"],
        "durable_workflow.activity": ["defn", "context"],
        # the External Payload Storage section of the product docs
        "durable_workflow": [
            "ExternalPayloadCache",
            "LocalFilesystemExternalStorage",
            "external_storage_envelope",
            "to_avro_payload_value",
        ],
        "durable_workflow.external_storage": [
            "fetch_external_payload",
            "store_external_payload",
            "external_storage_driver_from_policy",
            "EXTERNAL_PAYLOAD_REFERENCE_SCHEMA",
            "ExternalStorageDriver",
            "S3ExternalStorage",
            "GCSExternalStorage",
            "AzureBlobExternalStorage",
            "ExternalPayloadReference",
            "ExternalPayloadIntegrityError",
            "delete_external_payload",
        ],
        "durable_workflow.testing": [
            "WorkflowEnvironment",
            "WorkflowRunRecord",
            "replay_history",
            "replay_history_file",
            "Replayer",
            "ReplayOutcome",
        ],
    }.items():
        loaded = importlib.import_module(module)
        for name in names:
            assert hasattr(loaded, name), f"{module}.{name}"


def test_cancellation_errors_escape_except_exception() -> None:
    for cls in (durable_workflow.WorkflowCancelled, durable_workflow.WorkflowTerminated):
        assert issubclass(cls, BaseException) and not issubclass(cls, Exception)
    assert not issubclass(durable_workflow.ActivityCancelled, Exception)


# The exact public surface of each module. A change here is an API change: update the docs too.
EXACT_ALL: dict[str, list[str]] = {
    "durable_workflow": [
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
        "ScheduleSpec",
        "ScheduleTriggerResult",
        "SearchAttributeNotFound",
        "ServerError",
        "SignalFailed",
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
    ],
    "durable_workflow.workflow": [
        "ActivityRetryPolicy",
        "ChildWorkflowRetryPolicy",
        "Command",
        "CompleteUpdate",
        "CompleteWorkflow",
        "ContinueAsNew",
        "FailUpdate",
        "FailWorkflow",
        "RecordSideEffect",
        "RecordVersionMarker",
        "ScheduleActivity",
        "StartChildWorkflow",
        "StartTimer",
        "UpsertSearchAttributes",
        "WaitCondition",
        "WorkflowContext",
        "defn",
        "query",
        "signal",
        "update",
    ],
    "durable_workflow.activity": [
        "ActivityContext",
        "ActivityInfo",
        "context",
        "defn",
    ],
    "durable_workflow.client": [
        "BridgeAdapterOutcome",
        "Client",
        "ExternalPayloadStoragePolicy",
        "NamespaceDescription",
        "NamespaceList",
        "ScheduleAction",
        "ScheduleBackfillFire",
        "ScheduleBackfillResult",
        "ScheduleDescription",
        "ScheduleHandle",
        "ScheduleHistoryEvent",
        "ScheduleHistoryPage",
        "ScheduleList",
        "ScheduleSpec",
        "ScheduleTriggerResult",
        "SearchAttributeList",
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
        "WaitingOn",
        "WorkerDescription",
        "WorkerList",
        "WorkflowCommandResult",
        "WorkflowExecution",
        "WorkflowHandle",
        "WorkflowList",
        "WorkflowRun",
        "WorkflowRunList",
    ],
    "durable_workflow.worker": [
        "ServerCompatibilityError",
        "Worker",
        "WorkerPlaneClient",
    ],
    "durable_workflow.testing": [
        "ReplayOutcome",
        "Replayer",
        "WorkflowEnvironment",
        "WorkflowRunRecord",
        "load_history_file",
        "replay_history",
        "replay_history_file",
    ],
    "durable_workflow.errors": [
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
    ],
    "durable_workflow.sync": [
        "Client",
        "ScheduleHandle",
        "WorkflowHandle",
    ],
    "durable_workflow.external_storage": [
        "DEFAULT_THRESHOLD_BYTES",
        "EXTERNAL_PAYLOAD_REFERENCE_SCHEMA",
        "AzureBlobExternalStorage",
        "ExternalPayloadCache",
        "ExternalPayloadIntegrityError",
        "ExternalPayloadReference",
        "ExternalStorageDriver",
        "GCSExternalStorage",
        "LocalFilesystemExternalStorage",
        "S3ExternalStorage",
        "delete_external_payload",
        "external_storage_driver_from_policy",
        "external_storage_envelope",
        "fetch_external_payload",
        "store_external_payload",
        "to_avro_payload_value",
    ],
    "durable_workflow.metrics": [
        "CLIENT_REQUESTS",
        "CLIENT_REQUEST_DURATION_SECONDS",
        "METRIC_NAMES",
        "WORKER_POLLS",
        "WORKER_POLL_DURATION_SECONDS",
        "WORKER_TASKS",
        "WORKER_TASK_DURATION_SECONDS",
        "InMemoryMetrics",
        "MetricsRecorder",
        "NoopMetrics",
        "PrometheusMetrics",
    ],
    "durable_workflow.interceptors": [
        "ActivityInterceptorContext",
        "PassthroughWorkerInterceptor",
        "QueryTaskInterceptorContext",
        "WorkerInterceptor",
        "WorkflowTaskInterceptorContext",
    ],
    "durable_workflow.retry_policy": [
        "DEFAULT_RETRY_POLICY",
        "TransportRetryPolicy",
    ],
    "durable_workflow.protocol": [
        "PayloadCodecError",
        "codec",
        "commands",
        "errors",
        "history",
        "payload_storage",
        "routes",
        "text",
        "versions",
        "wire",
    ],
}

# Internals that left the author-facing namespaces, and where they live now.
MOVED_INTERNALS: dict[str, tuple[str, str]] = {
    "replay": ("durable_workflow.workflow", "durable_workflow.workflow._replay"),
    "ReplayOutcome": ("durable_workflow.workflow", "durable_workflow.workflow._replay"),
    "query_workflow": ("durable_workflow.workflow", "durable_workflow.workflow._query"),
    "UnknownQuery": ("durable_workflow.workflow", "durable_workflow.workflow._query"),
    "commands_to_wire": ("durable_workflow.workflow", "durable_workflow.workflow._commands"),
    "get_definition": ("durable_workflow.workflow", "durable_workflow.workflow._definition"),
    "WorkflowDefinition": ("durable_workflow.workflow", "durable_workflow.workflow._definition"),
    "YieldSite": ("durable_workflow.workflow", "durable_workflow.workflow._diagnostics"),
    "REASON_TABLE": ("durable_workflow.client", "durable_workflow.client._errors"),
    "exception_for": ("durable_workflow.client", "durable_workflow.client._errors"),
    "TERMINAL_STATUSES": ("durable_workflow.client", "durable_workflow.client._workflows"),
    "OUTCOME_SUCCESS": ("durable_workflow.client", "durable_workflow.client._base"),
    "DEFAULT_PAYLOAD_SIZE_LIMIT_BYTES": ("durable_workflow.client", "durable_workflow.client._base"),
    "check_server_compatibility": ("durable_workflow.worker", "durable_workflow.worker._compat"),
}


def test_each_public_module_exports_exactly_its_pinned_names() -> None:
    for module, expected in EXACT_ALL.items():
        loaded = importlib.import_module(module)
        assert list(loaded.__all__) == expected, module
        for name in expected:
            assert getattr(loaded, name) is not None, f"{module}.{name}"


def test_internals_live_in_their_private_modules_only() -> None:
    for name, (public, private) in MOVED_INTERNALS.items():
        assert not hasattr(importlib.import_module(public), name), f"{public}.{name}"
        assert hasattr(importlib.import_module(private), name), f"{private}.{name}"
