"""A new run's opening rows (events, run, first task): written whole or not at all, on both databases.

On PostgreSQL they go in one statement (engine/runs/opening.py), on SQLite in three; a failure
of any of them is the same ``IntegrityError``, which a start retries from the start.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine import control
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.util import new_id
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import Driver


def _run_ids(monkeypatch: pytest.MonkeyPatch, *ids: str) -> None:
    """The start's next run ids are ``ids``, then fresh ones."""
    chosen: Iterator[str] = iter(ids)
    monkeypatch.setattr(control, "new_id", lambda: next(chosen, None) or new_id())


async def _rows_of_run(engine: Engine, run_id: str) -> dict[str, list[str]]:
    async with engine.store.read() as conn:
        found = {}
        for table, column in (
            (t.workflow_runs, t.workflow_runs.c.workflow_id),
            (t.history_events, t.history_events.c.event_type),
            (t.workflow_tasks, t.workflow_tasks.c.workflow_id),
        ):
            rows = await conn.execute(sa.select(column).where(table.c.run_id == run_id))
            found[table.name] = sorted(str(row[0]) for row in rows)
    return found


async def test_a_start_whose_run_row_conflicts_is_retried_and_keeps_nothing_of_the_try(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_ids(monkeypatch, "run-taken", "run-taken")
    first = await driver.start("wf-0")
    assert first["run_id"] == "run-taken"
    # wf-1's first try writes its instance, then its run's rows collide with wf-0's run (the
    # run id and its history sequences): the whole try is rolled back and run again.
    second = await driver.start("wf-1")
    assert second["outcome"] == "started_new" and second["run_id"] != "run-taken"
    assert await _rows_of_run(driver.engine, "run-taken") == {
        "workflow_runs": ["wf-0"],
        "history_events": ["StartAccepted", "WorkflowStarted"],
        "workflow_tasks": ["wf-0"],
    }
    assert await _rows_of_run(driver.engine, second["run_id"]) == {
        "workflow_runs": ["wf-1"],
        "history_events": ["StartAccepted", "WorkflowStarted"],
        "workflow_tasks": ["wf-1"],
    }
    task = await driver.poll_wf()
    assert task is not None and task["workflow_id"] == "wf-0"
    task = await driver.poll_wf()
    assert task is not None and task["workflow_id"] == "wf-1"


async def test_a_start_whose_run_row_always_conflicts_raises_the_integrity_error(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_ids(monkeypatch, "run-taken", "run-taken", "run-taken", "run-taken")
    await driver.start("wf-0")
    with pytest.raises(sa.exc.IntegrityError):
        await driver.start("wf-1")
    async with driver.engine.store.read() as conn:
        instances = await conn.execute(sa.select(t.workflow_instances.c.workflow_id))
        assert [row[0] for row in instances] == ["wf-0"]  # nothing of wf-1 committed
