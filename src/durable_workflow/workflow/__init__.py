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
)
from ._context import WorkflowContext
from ._definition import defn, query, signal, update

# Author-facing only. The replay engine (``_replay.replay``, ``ReplayOutcome``), query
# evaluation (``_query``), definitions (``_definition.get_definition``) and the wire encoding
# of commands (``_commands.commands_to_wire``) stay in their private modules; tests and the
# worker import them from there. ``durable_workflow.testing`` is the public way to replay.
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
]
