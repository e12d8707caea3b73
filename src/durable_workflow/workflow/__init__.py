"""Workflow definitions, the deterministic context, commands and the replay engine.

Typical use::

    from durable_workflow import workflow

    @workflow.defn(name="greeter")
    class GreeterWorkflow:
        def run(self, ctx, *args):
            result = yield ctx.schedule_activity("greet", list(args))
            return result
"""

from __future__ import annotations

from ._commands import (
    ActivityRetryPolicy,
    ChildWorkflowRetryPolicy,
    Command,
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    FailUpdate,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
    commands_to_wire,
)
from ._context import WorkflowContext
from ._definition import WorkflowDefinition, defn, get_definition, query, signal, update
from ._diagnostics import YieldSite
from ._query import UnknownQuery, query_workflow
from ._replay import ReplayOutcome, replay

__all__ = [
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
    "ReplayOutcome",
    "ScheduleActivity",
    "StartChildWorkflow",
    "StartTimer",
    "UnknownQuery",
    "UpsertSearchAttributes",
    "WaitCondition",
    "WorkflowContext",
    "WorkflowDefinition",
    "YieldSite",
    "commands_to_wire",
    "defn",
    "get_definition",
    "query",
    "query_workflow",
    "replay",
    "signal",
    "update",
]
