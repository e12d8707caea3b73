"""Lock order on PostgreSQL: the run row first, then its task rows; claims never wait holding tasks.

A completion that locked its task and then waited for the run, while the run-timeout sweep held
the run and waited for the task, would deadlock (PostgreSQL aborts one of them after its
``deadlock_timeout``). Each test holds one side open at its first lock, lets the other side run
until it waits for a lock, and then finishes the first side: both must succeed.
Collected only with PostgreSQL (see ``conftest.py``): SQLite serialises writers with one write
lock, so there is no row-lock order to get wrong.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine import cancellation
from durable_workflow_server.engine.activities import outcomes as activities
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.maintenance.counters import TRANSACTION_RETRIES
from durable_workflow_server.engine.runs import timeouts as run_timeouts
from durable_workflow_server.engine.runs.rows import load_run
from durable_workflow_server.engine.runs.waiting import waiting_on
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.targets import lock_target
from durable_workflow_server.engine.timers import firing as timers
from durable_workflow_server.engine.workflow_tasks import leases as workflow_task_leases
from durable_workflow_server.engine.workflow_tasks import outcomes as workflow_task_outcomes
from tests.server.engine.engine_driver import NS, WAKE_WITHIN, Driver, activity, complete, timer

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

_LOCK_WAITERS = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def _blocked_on_a_lock(engine: Engine, task: asyncio.Task[Any]) -> None:
    """Return once some transaction of this database waits for a row lock (``task`` did it)."""

    async def waiting() -> None:
        while True:
            assert not task.done(), task  # it must wait, not finish or fail
            async with engine.store.read() as conn:
                if (await conn.execute(_LOCK_WAITERS)).scalar_one():
                    return
            await asyncio.sleep(0.01)

    await asyncio.wait_for(waiting(), WAKE_WITHIN)


@pytest.fixture
async def pg_driver(make_engine: Any) -> Driver:
    engine: Engine = await make_engine()
    driver = Driver(engine)
    await driver.register()
    return driver


async def _timed_out_run(driver: Driver, clock: Any, commands: list[dict[str, Any]]) -> str:
    started = await driver.start(run_timeout_seconds=10)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, commands)
    clock.advance(10)  # the run deadline is due
    return str(started["run_id"])


async def test_activity_completion_and_run_timeout_do_not_deadlock(pg_driver: Driver, clock: Any) -> None:
    engine = pg_driver.engine
    run_id = await _timed_out_run(pg_driver, clock, [activity()])
    act = await pg_driver.poll_act()
    assert act is not None
    async with engine._tx() as tx:
        # The completion's first locks (run, then task) are held from here to the commit.
        await activities.fence(tx, NS, act["task_id"], act["activity_attempt_id"], act["lease_owner"])

        async def sweep() -> bool:
            async with engine._tx() as other:
                return await run_timeouts.time_out(other, run_id)

        sweeping = asyncio.create_task(sweep())
        await _blocked_on_a_lock(engine, sweeping)
        result = await activities.complete(
            tx, NS, act["task_id"], act["activity_attempt_id"], act["lease_owner"], "done"
        )
    assert result["outcome"] == "completed"
    assert await asyncio.wait_for(sweeping, WAKE_WITHIN) is True
    types = await pg_driver.types("wf-1", run_id)
    assert types[-2:] == ["ActivityCompleted", "WorkflowTimedOut"]


async def test_a_timer_firing_and_the_run_timeout_do_not_deadlock(pg_driver: Driver, clock: Any) -> None:
    engine = pg_driver.engine
    run_id = await _timed_out_run(pg_driver, clock, [timer(5)])
    async with engine._tx() as tx:
        assert await run_timeouts.time_out(tx, run_id) is True  # holds the run and its timers

        async def fire() -> int:
            return await timers.fire_due_timers(engine._tx, engine.store, clock())

        firing = asyncio.create_task(fire())
        await _blocked_on_a_lock(engine, firing)
    assert await asyncio.wait_for(firing, WAKE_WITHIN) == 0  # the timer was cancelled with the run
    types = await pg_driver.types("wf-1", run_id)
    assert types[-1] == "WorkflowTimedOut" and "TimerFired" not in types


async def test_a_claim_whose_run_is_busy_waits_for_it_in_a_fresh_transaction(pg_driver: Driver) -> None:
    engine = pg_driver.engine
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    await pg_driver.complete_wf(task, [activity()])
    async with engine._tx() as holder:
        assert await load_run(holder, started["run_id"]) is not None  # holds the run row
        # One probe only: the fast pass finds the run busy and must not give up on the task.
        polling = asyncio.create_task(pg_driver.poll_act(timeout=0))
        await _blocked_on_a_lock(engine, polling)
    act = await asyncio.wait_for(polling, WAKE_WITHIN)
    assert act is not None and act["run_id"] == started["run_id"]


async def test_a_child_closing_while_its_parent_closes_does_not_deadlock(
    pg_driver: Driver, clock: Any
) -> None:
    """The child holds its run and closes; the parent times out and wants the child for its policy.

    A child that locked its parent to record its result would wait for the parent while the
    parent waits for the child. The child only leaves its parent a notice, so the parent's
    transaction just waits for the child's commit, then finds the child closed.
    """
    engine = pg_driver.engine
    kids = Driver(engine, queue="child-q", worker_id="w2")
    await kids.register()
    start_child = {
        "type": "start_child_workflow",
        "workflow_type": "kid",
        "queue": "child-q",
        "parent_close_policy": "terminate",
    }
    parent_run = await _timed_out_run(pg_driver, clock, [start_child])
    kid = await kids.poll_wf()
    assert kid is not None
    async with engine._tx() as tx:
        await workflow_task_leases.fence(
            tx, NS, kid["task_id"], kid["lease_owner"], kid["workflow_task_attempt"]
        )

        async def parent_times_out() -> bool:
            async with engine._tx() as other:
                return await run_timeouts.time_out(other, parent_run)

        closing = asyncio.create_task(parent_times_out())
        await _blocked_on_a_lock(engine, closing)  # the parent holds itself and waits for the child
        result = await workflow_task_outcomes.complete(
            tx, NS, kid["task_id"], kid["lease_owner"], kid["workflow_task_attempt"], [complete("kid done")]
        )
    assert result["run_status"] == "completed"
    assert await asyncio.wait_for(closing, WAKE_WITHIN) is True
    assert (await engine.describe_workflow(NS, kid["workflow_id"]))["status"] == "completed"
    parent_types = await pg_driver.types("wf-1", parent_run)
    assert parent_types[-1] == "WorkflowTimedOut"  # nothing left to apply: the child had closed
    await engine.tick()  # the child's notice finds the link closed
    assert await pg_driver.types("wf-1", parent_run) == parent_types


async def test_a_child_continuing_as_new_while_its_parent_closes_is_terminated_in_its_new_run(
    pg_driver: Driver, clock: Any
) -> None:
    engine = pg_driver.engine
    kids = Driver(engine, queue="child-q", worker_id="w2")
    await kids.register()
    start_child = {
        "type": "start_child_workflow",
        "workflow_type": "kid",
        "queue": "child-q",
        "parent_close_policy": "terminate",
    }
    parent_run = await _timed_out_run(pg_driver, clock, [start_child])
    kid = await kids.poll_wf()
    assert kid is not None
    async with engine._tx() as tx:
        await workflow_task_leases.fence(
            tx, NS, kid["task_id"], kid["lease_owner"], kid["workflow_task_attempt"]
        )

        async def parent_times_out() -> bool:
            async with engine._tx() as other:
                return await run_timeouts.time_out(other, parent_run)

        closing = asyncio.create_task(parent_times_out())
        await _blocked_on_a_lock(engine, closing)
        await workflow_task_outcomes.complete(
            tx,
            NS,
            kid["task_id"],
            kid["lease_owner"],
            kid["workflow_task_attempt"],
            [{"type": "continue_as_new"}],
        )
    assert await asyncio.wait_for(closing, WAKE_WITHIN) is True
    described = await engine.describe_workflow(NS, kid["workflow_id"])
    assert described["run_number"] == 2 and described["status"] == "terminated"
    assert (await pg_driver.types("wf-1", parent_run))[-1] == "ParentClosePolicyApplied"


async def test_a_signal_waits_for_a_completion_holding_the_run_and_reaches_the_next_task(
    pg_driver: Driver,
) -> None:
    from durable_workflow.protocol import codec
    from durable_workflow_server.engine.signals.receiving import SignalRequest, receive_signal

    engine = pg_driver.engine
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    envelope = codec.envelope(["x"])
    request = SignalRequest("wf-1", "go", envelope["codec"], envelope["blob"])
    async with engine._tx() as tx:
        # The completion's first locks (run, then task) are held from here to the commit.
        await workflow_task_leases.fence(
            tx, NS, task["task_id"], task["lease_owner"], task["workflow_task_attempt"]
        )

        async def send() -> dict[str, Any]:
            async with engine._tx() as other:
                return dict(await receive_signal(other, NS, request))

        sending = asyncio.create_task(send())
        await _blocked_on_a_lock(engine, sending)
        result = await workflow_task_outcomes.complete(
            tx, NS, task["task_id"], task["lease_owner"], task["workflow_task_attempt"], [activity()]
        )
    assert result["outcome"] == "completed"
    answer = await asyncio.wait_for(sending, WAKE_WITHIN)
    assert answer["outcome"] == "signal_received"
    types = await pg_driver.types("wf-1", started["run_id"])
    assert types[-2:] == ["ActivityScheduled", "SignalReceived"]
    following = await pg_driver.poll_wf()
    assert following is not None and following["history_events"][-1]["event_type"] == "SignalReceived"


async def test_an_activity_completion_and_a_cancel_do_not_deadlock(pg_driver: Driver) -> None:
    engine = pg_driver.engine
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    await pg_driver.complete_wf(task, [activity()])
    act = await pg_driver.poll_act()
    assert act is not None
    async with engine._tx() as tx:
        # The completion holds the run, then the task, until its commit.
        await activities.fence(tx, NS, act["task_id"], act["activity_attempt_id"], act["lease_owner"])
        cancelling = asyncio.create_task(engine.cancel_workflow(NS, "wf-1", reason="stop"))
        await _blocked_on_a_lock(engine, cancelling)
        result = await activities.complete(
            tx, NS, act["task_id"], act["activity_attempt_id"], act["lease_owner"], "done"
        )
    assert result["outcome"] == "completed"
    assert (await asyncio.wait_for(cancelling, WAKE_WITHIN))["outcome"] == "cancelled"
    types = await pg_driver.types("wf-1", started["run_id"])
    # The cancel saw the completed activity: nothing left for it to retire.
    assert types[-3:] == ["ActivityCompleted", "CancelRequested", "WorkflowCancelled"]


async def test_a_cancel_holding_the_run_makes_an_activity_completion_wait_and_ignore_it(
    pg_driver: Driver,
) -> None:
    engine = pg_driver.engine
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    await pg_driver.complete_wf(task, [activity()])
    act = await pg_driver.poll_act()
    assert act is not None
    async with engine._tx() as tx:
        target = await lock_target(tx, NS, "wf-1")
        completing = asyncio.create_task(pg_driver.complete_act(act, "done"))
        await _blocked_on_a_lock(engine, completing)
        await cancellation.close_by_command(tx, target, "cancel", reason=None, request_id=None)
    with pytest.raises(DomainError) as caught:
        await asyncio.wait_for(completing, WAKE_WITHIN)
    assert caught.value.reason == "run_cancelled" and caught.value.extra["outcome"] == "ignored"
    types = await pg_driver.types("wf-1", started["run_id"])
    assert types[-3:] == ["CancelRequested", "ActivityCancelled", "WorkflowCancelled"]


async def test_a_timer_firing_and_a_terminate_do_not_deadlock(pg_driver: Driver, clock: Any) -> None:
    engine = pg_driver.engine
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    await pg_driver.complete_wf(task, [timer(5)])
    clock.advance(5)  # the timer is due
    async with engine._tx() as tx:
        target = await lock_target(tx, NS, "wf-1")  # holds the run, as the terminate does

        async def fire() -> int:
            return await timers.fire_due_timers(engine._tx, engine.store, clock())

        firing = asyncio.create_task(fire())
        await _blocked_on_a_lock(engine, firing)
        await cancellation.close_by_command(tx, target, "terminate", reason=None, request_id=None)
    assert await asyncio.wait_for(firing, WAKE_WITHIN) == 0  # the timer was retired with the run
    types = await pg_driver.types("wf-1", started["run_id"])
    assert types[-3:] == ["TerminateRequested", "TimerCancelled", "WorkflowTerminated"]
    assert "TimerFired" not in types


async def test_describe_reads_the_run_and_what_it_waits_on_in_one_snapshot(pg_driver: Driver) -> None:
    """A cancel committing between describe's two statements must not show a half-closed run."""
    engine = pg_driver.engine
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    await pg_driver.complete_wf(task, [activity()])
    run_id = started["run_id"]
    async with engine._snapshot() as tx:
        assert (await load_run(tx, run_id, lock=False))["status"] == "waiting"
        await engine.cancel_workflow(NS, "wf-1")  # commits in its own transaction
        assert (await load_run(tx, run_id, lock=False))["status"] == "waiting"
        assert len((await waiting_on(tx, run_id))["activities"]) == 1  # the same moment
    async with engine._read() as tx:  # the plain read: each statement sees the latest commit
        assert (await load_run(tx, run_id, lock=False))["status"] == "cancelled"
        assert (await waiting_on(tx, run_id))["activities"] == []
    described = await engine.describe_workflow(NS, "wf-1")
    assert described["status"] == "cancelled" and described["waiting_on"]["activities"] == []


async def test_a_real_deadlock_between_two_transactions_is_retried_and_both_commit(
    pg_driver: Driver,
) -> None:
    """The safety net under the lock order: a cycle that does happen costs a retry, not an error."""
    engine, driver = pg_driver.engine, pg_driver
    first = (await driver.start(workflow_id="wf-a"))["run_id"]
    second = (await driver.start(workflow_id="wf-b"))["run_id"]
    holds = {first: asyncio.Event(), second: asyncio.Event()}
    runs: dict[str, int] = {first: 0, second: 0}

    async def lock_both(mine: str, other: str) -> None:
        async for txn in engine._tx():
            async with txn as tx:
                runs[mine] += 1
                assert await load_run(tx, mine) is not None
                holds[mine].set()
                await holds[other].wait()  # both hold one run: the next lock closes the cycle
                assert await load_run(tx, other) is not None
                await tx.conn.execute(
                    sa.text("UPDATE workflow_runs SET memo = NULL WHERE run_id = :r"), {"r": mine}
                )

    await asyncio.wait_for(
        asyncio.gather(lock_both(first, second), lock_both(second, first)), WAKE_WITHIN * 4
    )
    assert sorted(runs.values()) == [1, 2]  # the deadlock victim ran again, once
    retries = [s for s in engine.counters.samples() if s["name"] == TRANSACTION_RETRIES]
    assert retries == [{"name": TRANSACTION_RETRIES, "labels": {"reason": "deadlock"}, "value": 1.0}]


async def test_a_workflow_task_completion_and_the_run_timeout_do_not_deadlock(
    pg_driver: Driver, clock: Any
) -> None:
    """The completion holds the run and its task; the sweep waits for the run, then times it out."""
    engine = pg_driver.engine
    started = await pg_driver.start(run_timeout_seconds=10)
    task = await pg_driver.poll_wf()
    assert task is not None
    clock.advance(10)  # the run deadline is due while the worker still holds its task
    async with engine._tx() as tx:
        await workflow_task_leases.fence(
            tx, NS, task["task_id"], task["lease_owner"], task["workflow_task_attempt"]
        )

        async def sweep() -> bool:
            async with engine._tx() as other:
                return await run_timeouts.time_out(other, started["run_id"])

        sweeping = asyncio.create_task(sweep())
        await _blocked_on_a_lock(engine, sweeping)
        result = await workflow_task_outcomes.complete(
            tx, NS, task["task_id"], task["lease_owner"], task["workflow_task_attempt"], [timer(5)]
        )
    assert result["outcome"] == "completed"
    assert await asyncio.wait_for(sweeping, WAKE_WITHIN) is True
    types = await pg_driver.types("wf-1", started["run_id"])
    # The sweep saw the completion's commit: the timer it scheduled is retired with the run.
    assert types[-2:] == ["TimerScheduled", "WorkflowTimedOut"]


async def test_the_run_timeout_holding_the_run_makes_a_workflow_task_completion_wait_and_refuse(
    pg_driver: Driver, clock: Any
) -> None:
    engine = pg_driver.engine
    started = await pg_driver.start(run_timeout_seconds=10)
    task = await pg_driver.poll_wf()
    assert task is not None
    clock.advance(10)
    async with engine._tx() as tx:
        assert await run_timeouts.time_out(tx, started["run_id"]) is True  # holds the run and its tasks
        completing = asyncio.create_task(pg_driver.complete_wf(task, [timer(5)]))
        await _blocked_on_a_lock(engine, completing)
    with pytest.raises(DomainError) as caught:
        await asyncio.wait_for(completing, WAKE_WITHIN)
    assert caught.value.reason == "run_closed"
    assert (await pg_driver.types("wf-1", started["run_id"]))[-1] == "WorkflowTimedOut"


def _asyncpg_dsn(url: str) -> str:
    _, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}"


async def _fence_holds_the_run_while_it_waits_for_the_task(
    engine: Engine, table: str, task_id: str, run_id: str, completion: Any
) -> Any:
    """Another transaction holds the task row: the completion's fence, one ``SELECT … FOR
    UPDATE OF workflow_runs, <table>``, must wait for it already holding the run (run first)."""
    import asyncpg

    dsn = _asyncpg_dsn(engine.settings.database_url)
    holder, probe = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.execute(f"SELECT 1 FROM {table} WHERE task_id = $1 FOR UPDATE", task_id)
        completing = asyncio.ensure_future(completion)
        await _blocked_on_a_lock(engine, completing)
        async with probe.transaction():
            with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
                await probe.execute("SELECT 1 FROM workflow_runs WHERE run_id = $1 FOR UPDATE NOWAIT", run_id)
        await holding.rollback()
        return await asyncio.wait_for(completing, WAKE_WITHIN)
    finally:
        await holder.close()
        await probe.close()


async def test_a_workflow_task_fence_locks_the_run_before_the_task_in_its_one_read(pg_driver: Driver) -> None:
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    answer = await _fence_holds_the_run_while_it_waits_for_the_task(
        pg_driver.engine,
        "workflow_tasks",
        task["task_id"],
        started["run_id"],
        pg_driver.complete_wf(task, [activity()]),
    )
    assert answer["created_task_ids"]


async def test_an_activity_fence_locks_the_run_before_the_task_in_its_one_read(pg_driver: Driver) -> None:
    started = await pg_driver.start()
    task = await pg_driver.poll_wf()
    assert task is not None
    await pg_driver.complete_wf(task, [activity()])
    act = await pg_driver.poll_act()
    assert act is not None
    await _fence_holds_the_run_while_it_waits_for_the_task(
        pg_driver.engine,
        "activity_tasks",
        act["task_id"],
        started["run_id"],
        pg_driver.complete_act(act, "done"),
    )
