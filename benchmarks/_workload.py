"""The one benchmark workload: a workflow of one activity that returns its input."""

from __future__ import annotations

from typing import Any

from durable_workflow import activity, workflow


@activity.defn(name="bench-echo")
async def echo(value: int) -> int:
    """The activity: return the input."""
    return value


@workflow.defn(name="bench-one-activity")
class OneActivity:
    """The workflow: one activity, its result returned."""

    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("bench-echo", [value]))
