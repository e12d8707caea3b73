"""The task-queue and worker views, cohort changes and the pruning read through indexes (SQLite plans).

Each statement the operations send is explained on the same database: none may ``SCAN`` a
table whose size grows with the work done (tasks, attempts, runs, history, query tasks, workers).
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity
from tests.server.engine.statements import recorded

GROWING = (
    "workflow_tasks", "activity_tasks", "activity_attempts", "activity_executions", "workflow_runs",
    "history_events", "query_tasks", "workers", "task_queue_build_ids",
)  # fmt: skip


async def test_no_statement_scans_a_growing_table(
    make_engine: EngineFactory, db_url: str, clock: FakeClock
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("query plans are checked on SQLite")
    engine = await make_engine(worker_prune_after_seconds=3600.0)
    d = Driver(engine)
    await d.register(build_id="b1", supported_workflow_types=["greeter"], supported_activity_types=["greet"])
    await d.start()
    task = await d.poll_wf()
    assert task is not None
    await d.complete_wf(task, [activity()])
    assert await d.poll_act() is not None
    await d.start("wf-2")

    with recorded(engine) as seen:
        await engine.list_task_queues(NS)
        await engine.describe_task_queue(NS, "q1")
        await engine.list_task_queue_build_ids(NS, "q1")
        await engine.drain_task_queue_build_id(NS, "q1", "b1")
        await engine.resume_task_queue_build_id(NS, "q1", "b1")
        await engine.promote_task_queue_build_id(NS, "q1", "b1")
        for status in (None, "active", "stale"):
            await engine.list_workers(NS, status=status)
        await engine.list_workers(NS, task_queue="q1")
        await engine.describe_worker(NS, "w1")
        clock.advance(7200)
        await engine.tick()  # prunes w1
        await engine.deregister_worker(NS, "w1")

    raw = sqlite3.connect(db_url.split("///", 1)[1])
    try:
        checked = 0
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
                continue
            plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()]
            scans = [step for step in plan if step.startswith("SCAN ") and step.split()[1] in GROWING]
            assert not scans, f"{statement}\n{plan}"
            checked += 1
        assert checked > 20
    finally:
        raw.close()
