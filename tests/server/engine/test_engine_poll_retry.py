"""A workflow-task poll retried with the same ``poll_request_id`` gets the lease its first try took.

The lease's row names the poll it went to (``workflow_tasks.poll_request_id``, written by the
claim's own update; 0015_poll_request_on_task), so a retry finds it in the poll's first read.
Only that very lease comes back, and only within the retry window (its first expiry + 5 s):
never a later lease of the same task, and never after the window, however the lease was renewed.
The plain replay is pinned in ``test_engine_flow.py`` and ``test_engine_lease_handback.py``.
"""

from __future__ import annotations

from typing import cast

from durable_workflow_server.engine.workflow_tasks import claims
from durable_workflow_server.engine.workflow_tasks import rows as task_rows
from durable_workflow_server.store.rows import WorkflowTaskRow
from tests.server.conftest import FakeClock
from tests.server.engine.engine_driver import NS, Driver


async def test_a_retry_gets_the_lease_back_only_within_the_retry_window(
    driver: Driver, clock: FakeClock
) -> None:
    engine = driver.engine
    lease = engine.settings.workflow_task_lease_seconds
    await driver.start()
    first = await driver.poll_wf(poll_request_id="p-1")
    assert first is not None
    clock.advance(lease - 1)
    beat = await engine.heartbeat_workflow_task(
        NS, first["task_id"], lease_owner="w1", workflow_task_attempt=1
    )
    assert beat["renewed"] is True
    clock.advance(claims.POLL_RETRY_SECONDS)  # the first lease's end + 4 s: still within the window
    retried = await driver.poll_wf(poll_request_id="p-1")
    assert retried is not None
    assert (retried["task_id"], retried["workflow_task_attempt"]) == (first["task_id"], 1)
    clock.advance(2)  # past the first lease's end + 5 s; the renewed lease still holds
    assert await driver.poll_wf(poll_request_id="p-1") is None


async def test_a_retry_of_an_earlier_poll_never_gets_a_later_lease_of_its_task(
    driver: Driver, clock: FakeClock
) -> None:
    engine = driver.engine
    await driver.start()
    first = await driver.poll_wf(poll_request_id="p-1")
    assert first is not None
    clock.advance(engine.settings.workflow_task_lease_seconds + 1)
    await engine.tick()  # the lease ran out: the task is ready again
    # Leased again to the same worker, by a poll that sends no id: the earlier poll's id is cleared.
    again = await driver.poll_wf()
    assert again is not None and (again["task_id"], again["workflow_task_attempt"]) == (first["task_id"], 2)
    assert await driver.poll_wf(poll_request_id="p-1") is None
    # A retry of the poll that took this lease still gets it.
    clock.advance(engine.settings.workflow_task_lease_seconds + 1)
    await engine.tick()
    third = await driver.poll_wf(poll_request_id="p-3")
    assert third is not None and third["workflow_task_attempt"] == 3
    assert await driver.poll_wf(poll_request_id="p-1") is None
    retried = await driver.poll_wf(poll_request_id="p-3")
    assert retried is not None and retried["workflow_task_attempt"] == 3


async def test_record_poll_names_a_lease_handed_out_without_the_claim(driver: Driver) -> None:
    """The seam for a hand-out that leases a task itself: a retry of that poll gets it back."""
    engine = driver.engine
    await driver.start()
    task = await driver.poll_wf()  # leased without a poll id
    assert task is not None
    async for txn in engine._tx():
        async with txn as tx:
            row = cast(WorkflowTaskRow, await tx.one(task_rows.TASK, {"b_task_id": task["task_id"]}))
            await claims.record_poll(tx, NS, "w1", "p-stale", {**row, "attempt_count": 0})  # not this lease
            await claims.record_poll(tx, NS, "w2", "p-other", row)  # not this worker's lease
    assert await driver.poll_wf(poll_request_id="p-stale") is None
    async for txn in engine._tx():
        async with txn as tx:
            row = cast(WorkflowTaskRow, await tx.one(task_rows.TASK, {"b_task_id": task["task_id"]}))
            assert row["poll_request_id"] is None
            await claims.record_poll(tx, NS, "w1", "p-9", row)
    retried = await driver.poll_wf(poll_request_id="p-9")
    assert retried is not None and (retried["task_id"], retried["workflow_task_attempt"]) == (
        task["task_id"],
        1,
    )


async def test_a_retry_gets_the_lease_that_holds_when_its_id_is_on_two_tasks(
    driver: Driver, clock: FakeClock
) -> None:
    """An id left on a task whose lease ran out does not hide the lease a later try got."""
    engine = driver.engine
    await driver.start("wf-1")
    await driver.start("wf-2")
    gone = await driver.poll_wf()
    assert gone is not None
    await _record(driver, gone["task_id"], "p-1")
    clock.advance(engine.settings.workflow_task_lease_seconds / 2)
    held = await driver.poll_wf()
    assert held is not None and held["task_id"] != gone["task_id"]
    await _record(driver, held["task_id"], "p-1")
    clock.advance(engine.settings.workflow_task_lease_seconds / 2 + 1)  # only the first lease ran out
    retried = await driver.poll_wf(poll_request_id="p-1")
    assert retried is not None
    assert (retried["task_id"], retried["workflow_task_attempt"]) == (held["task_id"], 1)


async def _record(driver: Driver, task_id: str, poll_request_id: str) -> None:
    async for txn in driver.engine._tx():
        async with txn as tx:
            row = cast(WorkflowTaskRow, await tx.one(task_rows.TASK, {"b_task_id": task_id}))
            await claims.record_poll(tx, NS, driver.worker_id, poll_request_id, row)
