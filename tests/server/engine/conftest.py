"""Engine-test fixtures (helpers live in ``engine_driver``)."""

from __future__ import annotations

import os

import pytest

from durable_workflow_server.engine.service import Engine
from tests.helpers.dbmatrix import POSTGRES_ENV
from tests.server.engine.engine_driver import Driver

# Like the db_url matrix: the PostgreSQL-only tests do not exist at all without PostgreSQL.
collect_ignore = (
    []
    if os.environ.get(POSTGRES_ENV)
    else [
        "test_engine_cross_process.py",
        "test_engine_lock_order.py",
        "test_engine_messages_cross_process.py",
        "test_engine_schedules_two_servers.py",
    ]
)


@pytest.fixture
async def driver(engine: Engine) -> Driver:
    d = Driver(engine)
    await d.register()
    return d
