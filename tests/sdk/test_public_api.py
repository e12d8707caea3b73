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
