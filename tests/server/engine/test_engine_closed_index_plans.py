"""The reads of ``ix_workflow_runs_namespace_closed`` take it, partial (0018_partial_closed_index).

The index holds only closed runs; a planner takes a partial index only where the query's
``WHERE`` implies its condition (a comparison on ``closed_at`` does). Each statement that reads
it is explained here with its bound parameters (SQLite) or its values (PostgreSQL, sequential
scans priced out) and must name the index on both databases, with no sequential scan. A sticky
worker's runs, which name the namespace too, must keep to the sticky index.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from durable_workflow_server.engine.maintenance import rows as maintenance_rows
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.workflow_tasks import sticky
from durable_workflow_server.store import tables as t
from tests.server.conftest import EngineFactory
from tests.server.engine.engine_driver import NS, Driver, activity, complete

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
PARAMETERS = {
    "b_now": NOW,
    "b_limit": 10,
    "b_namespace": NS,
    "b_queue": "q1",
    "b_types": ["greeter"],
    "b_build_key": "",
    "b_worker_id": "w1",
}


def _statements() -> list[tuple[str, Any]]:
    """(index the statement must read, statement)."""
    closed, cutoff = "ix_workflow_runs_namespace_closed", NOW - timedelta(days=1)
    runs = t.workflow_runs
    return [
        (closed, maintenance_rows.expired_runs(NS, cutoff, 10)),
        (closed, sa.select(runs.c.run_id).where(runs.c.namespace == NS, runs.c.closed_at >= cutoff)),
        (closed, sa.select(runs.c.run_id).where(runs.c.namespace == NS, runs.c.closed_at < cutoff)),
        ("ix_workflow_runs_sticky_worker", sticky._RUNS_OF_WORKER),
    ]


async def _fill(engine: Engine) -> None:
    """A closed run, a leased activity with a deadline, a leased and a ready workflow task."""
    d = Driver(engine)
    await d.register()
    await d.start("closed")
    task = await d.poll_wf()
    assert task is not None
    await d.complete_wf(task, [complete("done")])
    await d.start("open")
    task = await d.poll_wf()
    assert task is not None
    await d.complete_wf(task, [activity(start_to_close_timeout=60)])
    assert await d.poll_act() is not None
    await d.start("leased")
    assert await d.poll_wf() is not None
    await d.start("ready")


async def _plan(engine: Engine, db_url: str, statement: Any) -> str:
    """The plan of ``statement`` as the engine sends it (bound parameters, lists expanded)."""
    postgres = engine.store.dialect == "postgresql"
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "

    def explain(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> tuple[str, Any]:
        return (prefix + sql if sql.lstrip().upper().startswith("SELECT") else sql), params

    bound = statement.params(**PARAMETERS)
    if not postgres:
        explaining = sa.create_engine("sqlite://" + db_url.split("://", 1)[1])
        sa.event.listen(explaining, "before_cursor_execute", explain, retval=True)
        try:
            with explaining.connect() as connection:
                return " ".join(str(row[3]) for row in connection.execute(bound))
        finally:
            explaining.dispose()
    async with engine._tx() as tx:
        for table in ("workflow_tasks", "activity_tasks", "workflow_runs"):
            await tx.conn.execute(sa.text(f"ANALYZE {table}"))
    explaining_pg = create_async_engine("postgresql+asyncpg://" + db_url.split("://", 1)[1])
    sa.event.listen(explaining_pg.sync_engine, "before_cursor_execute", explain, retval=True)
    plan: list[str] = []

    def taken(_c: Any, cursor: Any, sql: str, *_: Any) -> None:
        # Read here: the result would give the plan's text to the statement's column types.
        if sql.startswith(prefix):
            plan.extend(str(row[0]) for row in cursor.fetchall())

    sa.event.listen(explaining_pg.sync_engine, "after_cursor_execute", taken)
    try:
        async with explaining_pg.begin() as connection:
            # A few rows fit one page, where a sequential scan is cheaper: priced out here, the
            # plan shows whether the partial index can serve the statement at all.
            await connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
            await connection.execute(bound)
        return " ".join(plan)
    finally:
        await explaining_pg.dispose()


async def test_close_time_reads_use_the_partial_index(make_engine: EngineFactory, db_url: str) -> None:
    engine = await make_engine()
    await _fill(engine)
    for index, statement in _statements():
        plan = await _plan(engine, db_url, statement)
        assert index in plan, f"{statement}\n{plan}"
        assert "Seq Scan" not in plan, f"{statement}\n{plan}"
