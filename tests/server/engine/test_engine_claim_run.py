"""A poll's claim moves the candidate's run on in the statement that tries it (``CLAIM_RUN``).

What it writes (running, the run's stickiness for another worker ended) is what the lease's own
run update wrote before, and only when the lease can follow: a run with another live lease is
left exactly as it was, and a lease forestalled after the run was moved on runs the claim again.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from durable_workflow_server.engine.maintenance.counters import TRANSACTION_RETRIES
from durable_workflow_server.engine.workflow_tasks import claims
from durable_workflow_server.engine.workflow_tasks import rows as task_rows
from durable_workflow_server.store import tables as t
from durable_workflow_server.store.errors import conflict_kind
from tests.helpers.statements import StatementLog
from tests.server.engine.engine_driver import Driver

_wr, _wt = t.workflow_runs, t.workflow_tasks


async def _run_row(driver: Driver, run_id: str) -> dict[str, Any]:
    async with driver.engine.store.read() as conn:
        row = (await conn.execute(sa.select(_wr).where(_wr.c.run_id == run_id))).one()
    return dict(row._mapping)


async def test_the_claim_moves_the_run_on_without_an_update_of_its_own(driver: Driver) -> None:
    await driver.register()
    started = await driver.start()
    assert (await _run_row(driver, started["run_id"]))["status"] == "pending"
    with StatementLog(driver.engine.store) as log:
        task = await driver.poll_wf()
    assert task is not None and task["run_status"] == "running"
    callers = [entry.caller for entry in log.entries]
    assert "engine/workflow_tasks/claims:try_run" in callers
    assert "engine/runs/rows:update_run" not in callers and "engine/runs/rows:try_lock_run" not in callers
    run = await _run_row(driver, started["run_id"])
    assert run["status"] == "running" and run["sticky_worker_id"] is None


async def test_another_workers_claim_ends_the_runs_stickiness(driver: Driver) -> None:
    await driver.register()
    await driver.register("w2")
    started = await driver.start()
    async with driver.engine._tx() as tx:  # kept by w1 (its replay saw the first two events)
        await tx.conn.execute(
            sa.update(_wr)
            .where(_wr.c.run_id == started["run_id"])
            .values(sticky_worker_id="w1", sticky_history_sequence=2)
        )
    task = await driver.poll_wf("w2")
    assert task is not None and task["lease_owner"] == "w2" and "history_after_sequence" not in task
    run = await _run_row(driver, started["run_id"])
    assert (run["sticky_worker_id"], run["sticky_history_sequence"]) == (None, None)


async def test_a_run_with_another_live_lease_is_left_as_it_was(driver: Driver) -> None:
    await driver.register()
    await driver.register("w2")
    started = await driver.start()
    leased = await driver.poll_wf()
    assert leased is not None
    async with driver.engine._tx() as tx:
        # The run is w1's (sticky) and a second task of it is due, free for any worker.
        await tx.conn.execute(
            sa.update(_wr)
            .where(_wr.c.run_id == started["run_id"])
            .values(sticky_worker_id="w1", sticky_history_sequence=2)
        )
        row = dict((await tx.conn.fetch(sa.select(_wt).where(_wt.c.task_id == leased["task_id"])))[0])
        row.update(task_id="second", status="ready", lease_owner=None, lease_expires_at=None, attempt_count=0)
        row.update(poll_request_id=None, poll_expires_at=None, sticky_worker_id=None)
        await tx.conn.execute(sa.insert(_wt), row)
    assert await driver.poll_wf("w2", timeout=0.0) is None
    run = await _run_row(driver, started["run_id"])
    assert (run["status"], run["sticky_worker_id"], run["sticky_history_sequence"]) == ("running", "w1", 2)


def test_a_forestalled_lease_is_a_conflict_the_transaction_retries() -> None:
    assert conflict_kind(claims.LeaseRaced("t1")) == "serialization_failure"


async def test_a_lease_forestalled_after_the_run_moved_on_runs_the_claim_again(
    driver: Driver, monkeypatch: Any
) -> None:
    """The lease fails once after CLAIM_RUN (what a lease committed in between does on
    PostgreSQL): the claim's transaction is rolled back and runs again, which leases the task."""
    await driver.register()
    started = await driver.start()
    never = task_rows.LEASE_UNHELD.where(sa.false())
    leases = [never, task_rows.LEASE_UNHELD]

    class Rows(SimpleNamespace):
        @property
        def LEASE_UNHELD(self) -> Any:
            return leases.pop(0) if len(leases) > 1 else leases[0]

    proxy = Rows(**{name: getattr(task_rows, name) for name in dir(task_rows) if name != "LEASE_UNHELD"})
    monkeypatch.setattr(claims, "rows", proxy)
    task = await driver.poll_wf()
    assert task is not None and task["workflow_task_attempt"] == 1 and task["run_status"] == "running"
    assert leases == [task_rows.LEASE_UNHELD]  # the forestalled lease was tried once
    assert (await _run_row(driver, started["run_id"]))["status"] == "running"
    retries = [s for s in driver.engine.counters.samples() if s["name"] == TRANSACTION_RETRIES]
    assert retries == [
        {"name": TRANSACTION_RETRIES, "labels": {"reason": "serialization_failure"}, "value": 1.0}
    ]
