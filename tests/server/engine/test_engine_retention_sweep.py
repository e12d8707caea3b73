"""The background retention sweep prunes expired closed runs every interval, and nothing else."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import Driver, complete


async def _completed(driver: Driver, workflow_id: str) -> str:
    run_id = str((await driver.start(workflow_id))["run_id"])
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    return run_id


async def _runs(engine: Engine) -> set[str]:
    async with engine.store.read() as conn:
        return {str(r) for r in (await conn.execute(sa.select(t.workflow_runs.c.run_id))).scalars()}


async def test_the_sweep_prunes_closed_runs_past_the_window_each_interval(
    make_engine: Any, clock: Any
) -> None:
    engine: Engine = await make_engine(retention_sweep_interval_seconds=60, retention_window_seconds=30)
    driver = Driver(engine)
    await driver.register()
    old = await _completed(driver, "wf-old")
    clock.advance(31)
    assert old in await _runs(engine)
    recent = await _completed(driver, "wf-recent")
    still_open = str((await driver.start("wf-open"))["run_id"])

    await engine.tick()  # the first sweep runs at once: only the run closed 31 s ago goes
    assert await _runs(engine) == {recent, still_open}

    clock.advance(31)  # the recent run has expired too, but the next sweep is not due yet
    await engine.tick()
    assert recent in await _runs(engine)
    clock.advance(30)
    await engine.tick()
    assert await _runs(engine) == {still_open}  # an open run is never pruned


async def test_without_an_interval_nothing_is_swept(make_engine: Any, clock: Any) -> None:
    engine: Engine = await make_engine()
    driver = Driver(engine)
    await driver.register()
    old = await _completed(driver, "wf-old")
    clock.advance(400 * 86_400)  # far past any namespace's retention_days
    await engine.tick()
    assert old in await _runs(engine)
