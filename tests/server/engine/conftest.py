"""Engine-test fixtures (helpers live in ``engine_driver``)."""

from __future__ import annotations

import pytest
from engine_driver import Driver

from durable_workflow_server.engine.service import Engine


@pytest.fixture
async def driver(engine: Engine) -> Driver:
    d = Driver(engine)
    await d.register()
    return d
