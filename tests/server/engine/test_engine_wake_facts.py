"""An activity completion reads the wake rule's facts with the update of its execution.

``activities.outcomes.complete_waking`` answers, in its ``UPDATE`` of the execution
(``RETURNING runs.steps.OTHER_STEPS_COLUMNS``), the kind of the run's first unresolved step and
whether the completed step's batch still has one, instead of reading every step afterwards
(``runs.steps.run_steps``). Here, after each completion, what it wrote (the run's ``wait_kind``,
a queued workflow task or none) is checked against the rule applied to the steps as read
afterwards, across batches mixing activities, timers and children, on both databases.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.runs.rows import load_run
from durable_workflow_server.engine.runs.steps import run_steps, wait_kind
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.helpers.statements import StatementLog
from tests.server.engine.engine_driver import NS, Driver, activity, timer

TYPES: dict[str, Any] = {"supported_workflow_types": ["greeter"], "supported_activity_types": ["a", "b"]}


def _child() -> dict[str, Any]:
    return {
        "type": "start_child_workflow",
        "workflow_type": "kid",
        "queue": "kids",
        "arguments": codec.envelope(["x"]),
    }


async def _expected(engine: Engine, run_id: str, batch_id: str) -> tuple[str | None, bool]:
    """The rule over the steps as read now: (the run's wait kind, whether the run was woken)."""
    async with engine._read() as tx:
        steps = await run_steps(tx, run_id)
    return wait_kind(steps), not any(s.batch_id == batch_id and not s.resolved for s in steps)


async def _written(engine: Engine, run_id: str) -> tuple[str | None, bool]:
    wt = t.workflow_tasks
    async with engine._read() as tx:
        run = await load_run(tx, run_id, lock=False)
        assert run is not None
        open_tasks = await tx.all(
            sa.select(wt.c.task_id).where(wt.c.run_id == run_id, wt.c.status.in_(("ready", "leased")))
        )
    return run["wait_kind"], bool(open_tasks)


@pytest.mark.parametrize(
    ("commands", "order"),
    [
        ([activity("a"), activity("b"), timer(60)], ["a", "b"]),
        ([activity("a"), activity("b"), timer(60)], ["b", "a"]),
        ([timer(60), activity("a")], ["a"]),
        ([_child(), activity("a"), activity("b")], ["b", "a"]),
        ([activity("a"), activity("b")], ["b", "a"]),
    ],
    ids=["activities-then-timer", "out-of-order", "timer-first", "child-first", "activities-only"],
)
@pytest.mark.parametrize("eager", [False, True])
@pytest.mark.parametrize("returning", [True, False], ids=["returning", "read-after"])
async def test_each_completion_writes_what_the_rule_over_the_steps_gives(
    engine: Engine,
    commands: list[dict[str, Any]],
    order: list[str],
    eager: bool,
    returning: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without RETURNING (SQLite before 3.35) the steps are read after the update, as before.
    monkeypatch.setattr(engine.store, "supports_returning", returning)
    driver = Driver(engine)
    await driver.register("w1", **TYPES)
    started = await driver.start(eager_worker_id="w1")
    run_id, task = started["run_id"], started["eager_workflow_task"]
    assert task is not None
    await driver.complete_wf(task, commands)
    leased = {}
    for _ in order:
        act = await driver.poll_act()
        assert act is not None
        leased[act["activity_type"]] = act
    for name in order:
        with StatementLog(engine.store) as log:
            await driver.complete_act(leased[name], name.upper(), eager_workflow_task=eager)
        # With RETURNING the facts came with the execution's update: the steps are not read.
        read_after = "engine/runs/steps:run_steps" in {entry.caller for entry in log.entries}
        assert read_after is not returning
        assert await _written(engine, run_id) == await _expected(engine, run_id, task["task_id"])
    described = await engine.describe_workflow(NS, "wf-1")
    assert described["run_id"] == run_id
