"""Two server processes on one PostgreSQL database fire every schedule exactly once.

Two ``Engine`` instances (what two server processes are: each has its own connection pool and
background loop) share a fresh database. Over a simulated day of minute-level fires the test
advances the shared injected clock one minute at a time and runs both engines' sweeps at once,
so both race for every due fire. Each schedule must have started exactly one workflow per
minute (1440), with no workflow id twice, no fire left behind, and both engines must have fired.
Collected only with ``DW_TEST_POSTGRES_URL`` (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.schedules import fires
from durable_workflow_server.engine.schedules.starting import FireResult
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.helpers.dbmatrix import fresh_postgres_url
from tests.server.conftest import FakeClock, engine_settings
from tests.server.engine.schedule_helpers import NS, create

MINUTES = 24 * 60
SCHEDULES = ("alpha", "beta")


@pytest.fixture
async def engines(request: pytest.FixtureRequest, clock: FakeClock) -> Any:
    settings = engine_settings(fresh_postgres_url(request), clock)
    pair = [Engine(settings, background_loop=False) for _ in range(2)]
    for engine in pair:
        await engine.open()
    yield pair
    for engine in pair:
        await engine.close()


def _count_fires(engine: Engine, counts: Counter[str], name: str) -> None:
    original = engine.start_claimed

    async def counting(claimed: fires.Claimed) -> FireResult:
        counts[name] += 1
        return await original(claimed)

    engine.start_claimed = counting  # type: ignore[method-assign]


@pytest.mark.timeout(900)
async def test_two_engines_fire_each_minute_of_a_day_exactly_once(
    engines: list[Engine], clock: FakeClock
) -> None:
    a, b = engines
    for schedule_id in SCHEDULES:
        await create(a, schedule_id, overlap_policy="allow_all")
    per_engine: Counter[str] = Counter()
    _count_fires(a, per_engine, "a")
    _count_fires(b, per_engine, "b")
    start = clock.current
    for _ in range(MINUTES):
        clock.advance(60)
        await asyncio.gather(a.tick(), b.tick())

    async with a._read() as tx:
        ids = (await tx.conn.execute(sa.select(t.workflow_instances.c.workflow_id))).scalars().all()
        runs = (await tx.conn.execute(sa.select(sa.func.count()).select_from(t.workflow_runs))).scalar()
        left = (await tx.conn.execute(sa.select(sa.func.count()).select_from(t.schedule_fires))).scalar()
    assert runs == len(ids) == len(set(ids)) == MINUTES * len(SCHEDULES)
    assert left == 0
    for schedule_id in SCHEDULES:
        expected = {
            f"{schedule_id}-{(start + timedelta(minutes=m)).strftime('%Y%m%dT%H%M%SZ')}"
            for m in range(1, MINUTES + 1)
        }
        assert {i for i in ids if i.startswith(f"{schedule_id}-")} == expected
        described = await b.describe_schedule(NS, schedule_id)
        assert described["fires_count"] == MINUTES
        assert described["info"]["skipped_trigger_count"] == 0
        page = await a.schedule_history(NS, schedule_id, limit=500, after_sequence=0)
        sequences: list[int] = []
        while True:
            sequences += [e["sequence"] for e in page["events"]]
            if not page["has_more"]:
                break
            page = await a.schedule_history(
                NS, schedule_id, limit=500, after_sequence=page["next_cursor"] or 0
            )
        assert sequences == list(range(1, MINUTES + 2))  # ScheduleCreated + one ScheduleTriggered a minute
    assert per_engine["a"] + per_engine["b"] == MINUTES * len(SCHEDULES)
    assert per_engine["a"] > 0 and per_engine["b"] > 0  # both processes really raced for the fires
    assert clock.current == start + timedelta(days=1)
