"""The slow claim pass re-reads its candidates: a task another poller closed meanwhile is left alone."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from durable_workflow_server.engine.workflow_tasks.claims import claim_workflow_task
from durable_workflow_server.store import tables as t
from durable_workflow_server.store.rows import WorkflowTaskRow
from tests.server.engine.engine_driver import Driver, complete


async def _task_row(driver: Driver, task_id: str) -> dict[str, Any]:
    async with driver.engine.store.read() as conn:
        row = (
            await conn.execute(sa.select(t.workflow_tasks).where(t.workflow_tasks.c.task_id == task_id))
        ).one()
    return dict(row._mapping)


async def test_a_task_completed_while_its_run_was_busy_keeps_its_status(driver: Driver) -> None:
    await driver.register()
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    # What a poller saw while the run was held by the poller that is now completing it.
    stale = cast(WorkflowTaskRow, await _task_row(driver, task["task_id"]))
    assert (await driver.complete_wf(task, [complete("done")]))["run_status"] == "completed"

    async with driver.engine._tx() as tx:
        claimed, busy = await claim_workflow_task(
            tx,
            namespace="default",
            queue="q1",
            worker_id="w2",
            workflow_types=[],
            lease_seconds=30.0,
            busy=[stale],
        )
    assert claimed is None and busy == []
    row = await _task_row(driver, task["task_id"])
    assert row["status"] == "completed", "the slow pass rewrote a closed task"
    assert started["run_id"] == row["run_id"]
