"""Workflow code for the ``dw workflow:replay`` tests: the code a run was recorded with, and the
same workflow after a change that reorders its steps (non-deterministic for recorded runs)."""

from __future__ import annotations

from typing import Any

from durable_workflow import activity, workflow

TYPE = "cli.replay-order"


@activity.defn(name="cli.reserve")
async def reserve(item: str) -> str:
    return f"reserved {item}"


@activity.defn(name="cli.charge")
async def charge(item: str) -> str:
    return f"charged {item}"


@workflow.defn(name=TYPE)
class Order:
    def run(self, ctx: Any, item: str) -> Any:
        reserved = yield ctx.schedule_activity("cli.reserve", [item])
        charged = yield ctx.schedule_activity("cli.charge", [item])
        return {"reserved": reserved, "charged": charged}


@workflow.defn(name=TYPE)
class ChargeFirst:
    """Someone decided to charge before reserving: recorded runs no longer replay."""

    def run(self, ctx: Any, item: str) -> Any:
        charged = yield ctx.schedule_activity("cli.charge", [item])  # MOVED-UP
        reserved = yield ctx.schedule_activity("cli.reserve", [item])
        return {"reserved": reserved, "charged": charged}


NOT_A_WORKFLOW = object()
