"""Handing a lease back at once (the poller hung up): fenced, redelivered now, old holder fenced."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, Driver, activity


async def _reason(coro: Any) -> str:
    with pytest.raises(DomainError) as err:
        await coro
    return err.value.reason


async def _release_wf(engine: Engine, task: dict[str, Any], **override: Any) -> bool:
    return await engine.release_workflow_task(
        NS,
        override.get("task_id", task["task_id"]),
        lease_owner=override.get("lease_owner", task["lease_owner"]),
        workflow_task_attempt=override.get("attempt", task["workflow_task_attempt"]),
    )


async def _release_act(engine: Engine, task: dict[str, Any], **override: Any) -> bool:
    return await engine.release_activity_task(
        NS,
        override.get("task_id", task["task_id"]),
        activity_attempt_id=override.get("attempt_id", task["activity_attempt_id"]),
        lease_owner=override.get("lease_owner", task["lease_owner"]),
    )


async def test_released_workflow_task_is_redelivered_at_once_as_the_next_attempt(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    engine = driver.engine
    assert await _release_wf(engine, task, lease_owner="w9") is False
    assert await _release_wf(engine, task, attempt=2) is False
    assert await _release_wf(engine, task, task_id="missing") is False
    assert await _release_wf(engine, task) is True
    assert await _release_wf(engine, task) is False  # already released
    await driver.register(worker_id="w2")
    again = await driver.poll_wf(worker_id="w2", timeout=0.05)  # no lease expiry to wait for
    assert again is not None and again["task_id"] == task["task_id"]
    assert again["workflow_task_attempt"] == 2 and again["lease_owner"] == "w2"
    # The vanished holder's lease is gone, and a late release cannot take the new lease away.
    assert await _reason(driver.complete_wf(task, [activity()])) == "lease_owner_mismatch"
    assert await _release_wf(engine, task) is False
    assert (await driver.complete_wf(again, [activity()]))["outcome"] == "completed"


async def test_released_workflow_task_retires_when_the_run_has_another_ready_task(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    wt = t.workflow_tasks
    async with driver.engine._tx() as tx:  # a second ready task, as an activity resolution makes
        await tx.conn.execute(
            sa.insert(wt).values(
                task_id="other",
                run_id=started["run_id"],
                workflow_id="wf-1",
                namespace=NS,
                task_queue="q1",
                workflow_type="greeter",
                status="ready",
                available_at=tx.now,
                attempt_count=0,
                created_at=tx.now,
                updated_at=tx.now,
            )
        )
    assert await _release_wf(driver.engine, task) is True
    async with driver.engine.store.read() as conn:
        rows = dict((await conn.execute(sa.select(wt.c.task_id, wt.c.status))).all())
    assert rows == {task["task_id"]: "failed", "other": "ready"}


async def test_released_activity_attempt_is_redelivered_as_a_new_attempt(driver: Driver) -> None:
    await driver.start()
    wf = await driver.poll_wf()
    assert wf is not None
    await driver.complete_wf(wf, [activity(start_to_close_timeout=30)])
    act = await driver.poll_act()
    assert act is not None
    engine = driver.engine
    assert await _release_act(engine, act, attempt_id="other") is False
    assert await _release_act(engine, act, lease_owner="w9") is False
    assert await _release_act(engine, act) is True
    assert await _release_act(engine, act) is False
    aa = t.activity_attempts
    async with engine.store.read() as conn:
        status = (
            await conn.execute(sa.select(aa.c.status).where(aa.c.attempt_id == act["activity_attempt_id"]))
        ).scalar_one()
    assert status == "expired"
    again = await driver.poll_act(timeout=0.05)
    assert again is not None and again["task_id"] == act["task_id"]
    assert again["activity_attempt_id"] != act["activity_attempt_id"] and again["attempt_number"] == 2
    assert "start_to_close" in again["deadlines"]
    assert await _reason(driver.complete_act(act, "late")) == "stale_attempt"
    assert await _release_act(engine, act) is False
    assert (await driver.complete_act(again, "ok"))["outcome"] == "completed"


async def test_poll_cancelled_after_its_claim_hands_the_task_back(driver: Driver) -> None:
    """The engine's own guard: a poll cancelled once its lease is committed releases it."""
    await driver.start()
    release = driver.engine.release_workflow_task
    released: list[str] = []

    async def counting(namespace: str, task_id: str, **kwargs: Any) -> bool:
        released.append(task_id)
        return await release(namespace, task_id, **kwargs)

    driver.engine.release_workflow_task = counting  # type: ignore[method-assign]
    claim = driver.engine._cancel_safe
    claimed = asyncio.Event()

    async def cancel_after_claim(inner: Any, give_back: Any) -> Any:
        async def claim_then_signal() -> Any:
            result = await inner()
            claimed.set()
            await asyncio.sleep(0)  # the poll is cancelled here, with the lease committed
            return result

        return await claim(claim_then_signal, give_back)

    driver.engine._cancel_safe = cancel_after_claim  # type: ignore[method-assign]
    poll = asyncio.create_task(driver.poll_wf())
    await claimed.wait()
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll
    assert len(released) == 1
    del driver.engine._cancel_safe
    again = await driver.poll_wf(timeout=0.05)
    assert again is not None and again["task_id"] == released[0] and again["workflow_task_attempt"] == 2
