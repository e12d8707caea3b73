"""The background loop's housekeeping runs only when its probe saw a row to delete, and then does.

The pass's one probe (``background_loop.EARLIEST_DUE``) also reads the earliest poll-retry entry
expiry, query task expiry and worker heartbeat; the purges and the registration prune are skipped
when it finds nothing for them (``tests/e2e/test_statement_budget.py`` counts an idle pass). These
tests pin that skipping them never keeps a row past its time (query tasks:
``test_engine_queries.py``; stale registrations: ``test_engine_workers_registry.py``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.conftest import FakeClock
from tests.server.engine.engine_driver import Driver


async def _poll_requests(engine: Engine) -> list[dict[str, Any]]:
    async with engine.store.read() as conn:
        return [dict(row) for row in await conn.fetch(sa.select(t.poll_requests))]


async def test_a_poll_retry_entry_is_purged_by_the_loop_once_expired_and_not_before(
    driver: Driver, clock: FakeClock
) -> None:
    engine = driver.engine
    await driver.register(supported_workflow_types=["greeter"])
    await driver.start()
    task = await driver.poll_wf(poll_request_id="poll-1")
    assert task is not None
    (entry,) = await _poll_requests(engine)
    lease_seconds = engine.settings.workflow_task_lease_seconds
    clock.advance(lease_seconds + 1)  # the lease ran out (the pass requeues it), the entry not yet
    await engine.tick()
    assert [row["poll_request_id"] for row in await _poll_requests(engine)] == ["poll-1"]
    clock.advance(5)  # the entry's own expiry: lease end + 5 s
    await engine.tick()
    assert await _poll_requests(engine) == []
    assert entry["expires_at"] <= engine.now()
