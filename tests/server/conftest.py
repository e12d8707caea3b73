"""Server-suite fixtures: the database matrix, an injectable clock and a started Engine.

Every server test runs on a real SQLite file in ``tmp_path``; when ``DW_TEST_POSTGRES_URL`` is
set it runs again on PostgreSQL, each test in a freshly created database that is dropped after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from durable_workflow_server.engine.service import Engine
from durable_workflow_server.settings import Settings
from tests.helpers.dbmatrix import DATABASES, fresh_postgres_url


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a real SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dw.sqlite3'}"
    return fresh_postgres_url(request)


class FakeClock:
    """A settable UTC clock: the engine's only source of time in tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# A parked long poll re-probes only this rarely, so a poll that gets work inside its timeout got
# it through a wake-up: a test of wake-ups cannot pass on a re-probe.
NO_REPROBE = 3600.0


def engine_settings(db_url: str, clock: Callable[[], datetime], **overrides: Any) -> Settings:
    """Millisecond-scale timings so polls, loops and retries never make a test wait seconds."""
    values: dict[str, Any] = {
        "database_url": db_url,
        "long_poll_timeout": 0.5,
        "poll_reprobe_interval": NO_REPROBE,
        "timer_loop_interval": 0.05,
        "workflow_task_retry_delay_seconds": 0.0,
        "workflow_task_lease_seconds": 30.0,
        "activity_task_lease_seconds": 30.0,
        # Tests move the clock by days; a registration is pruned only where a test asks for it,
        # and worker liveness (leases released, timeouts decided as lost for a silent worker)
        # is enforced only where a test asks for it: elsewhere no test worker heartbeats.
        "worker_prune_after_seconds": None,
        "worker_liveness_timeout_seconds": None,
        "clock": clock,
    }
    values.update(overrides)
    return Settings(**values)


EngineFactory = Callable[..., Awaitable[Engine]]


@pytest.fixture
async def make_engine(db_url: str, clock: FakeClock) -> AsyncIterator[EngineFactory]:
    """Open engines on the test database; all closed at the end.

    ``make_engine(background_loop=False, **settings_overrides)``. Time is the test's
    :class:`FakeClock`, so by default nothing sweeps on its own: the test calls ``engine.tick()``
    after advancing the clock (a loop sweeping by itself would see the new time at an arbitrary
    moment, racing the test's own steps). Tests of the loop itself pass ``background_loop=True``.
    """
    opened: list[Engine] = []

    async def factory(*, background_loop: bool = False, **overrides: Any) -> Engine:
        engine = Engine(engine_settings(db_url, clock, **overrides), background_loop=background_loop)
        await engine.open()
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        await engine.close()


@pytest.fixture
async def engine(make_engine: EngineFactory) -> Engine:
    return await make_engine()
