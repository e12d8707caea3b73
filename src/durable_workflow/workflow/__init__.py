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
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    commands_to_wire,
)
from ._context import WorkflowContext
from ._definition import WorkflowDefinition, defn, get_definition, query, signal, update
from ._replay import ReplayOutcome, replay

__all__ = [
    "ActivityRetryPolicy",
    "ChildWorkflowRetryPolicy",
    "Command",
    "CompleteWorkflow",
    "ContinueAsNew",
    "FailWorkflow",
    "RecordSideEffect",
    "RecordVersionMarker",
    "ReplayOutcome",
    "ScheduleActivity",
    "StartChildWorkflow",
    "StartTimer",
    "UpsertSearchAttributes",
    "WorkflowContext",
    "WorkflowDefinition",
    "commands_to_wire",
    "defn",
    "get_definition",
    "query",
    "replay",
    "signal",
    "update",
]
