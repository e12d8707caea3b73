"""A start hands its first workflow task straight to a poll parked in this process.

The start inserts the task leased to the parked poll's worker and records the poll's request id
in its own transaction; after the commit the poll answers the task without a claim of its own
(``engine/parked.py``, ``engine/workflow_tasks/handoff.py``). A poll that went away meanwhile
gets the task handed back at once; a worker the claim would not give the task to gets none of
it, and the task is queued ready, woken for and claimed as before.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.parked import GONE, OPEN, RESERVED, ParkedPoll, ParkedPolls
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import PostgresStore
from durable_workflow_server.store import tables as t
from tests.helpers.statements import StatementLog
from tests.server.engine.engine_driver import NS, WAKE_WITHIN, Driver, complete

TYPES: dict[str, Any] = {"supported_workflow_types": ["greeter"], "supported_activity_types": ["greet"]}


async def _offered(engine: Engine, count: int = 1, *, state: str = OPEN, queue: str = "q1") -> None:
    """Return once ``count`` polls of ``queue`` have parked offers in ``state`` (after their probe)."""

    async def offered() -> None:
        while sum(o.state == state for o in engine.waiters.parked.offers(NS, queue)) < count:
            await asyncio.sleep(0)

    await asyncio.wait_for(offered(), WAKE_WITHIN)


async def _task_row(engine: Engine, workflow_id: str) -> dict[str, Any]:
    async with engine.store.read() as conn:
        rows = await conn.fetch(
            sa.select(t.workflow_tasks).where(t.workflow_tasks.c.workflow_id == workflow_id)
        )
    (row,) = rows
    return row


@asynccontextmanager
async def _writes_held(engine: Engine) -> AsyncIterator[None]:
    """Hold a transaction that keeps a start from reading its namespace until the block ends."""
    async with engine._tx() as tx:
        if isinstance(engine.store, PostgresStore):  # SQLite: the store's one write lock holds it
            await tx.one(sa.select(t.namespaces.c.name).where(t.namespaces.c.name == NS).with_for_update())
        yield


async def test_a_start_hands_its_task_to_the_parked_poll_without_a_claim(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(**TYPES)
    await d.start("warm-up", task_queue="elsewhere")  # the namespace's storage policy, cached
    poll = asyncio.create_task(d.poll_wf(timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine)
    with StatementLog(engine.store) as log:
        started = await d.start("wf-1")
        task = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert task is not None and task["run_id"] == started["run_id"] and task["lease_owner"] == "w1"
    assert task["workflow_task_attempt"] == 1 and started["status"] == "running"
    assert [e["event_type"] for e in task["history_events"]] == ["StartAccepted", "WorkflowStarted"]
    # The start's own statements only: no candidate query, no fenced lease update, no second transaction.
    callers = [entry.caller for entry in log.entries if not entry.sql.startswith("SELECT pg_notify")]
    assert "engine/workflow_tasks/claims:record_poll" in callers
    assert not [
        c
        for c in callers
        if c.startswith(
            ("engine/queues", "engine/workflow_tasks/claims:lease", "engine/workflow_tasks/claims:try_run")
        )
    ]
    # Its page is the new run's whole history, written in this transaction: not read back.
    assert "engine/history/rows:history_rows" not in callers
    # PostgreSQL inserts the run's events, row and task in one statement (engine/runs/opening.py).
    assert len(callers) == (3 if engine.store.dialect == "postgresql" else 5), log.listing()
    row = await _task_row(engine, "wf-1")
    assert (row["status"], row["lease_owner"], row["attempt_count"]) == ("leased", "w1", 1)
    # The task is the worker's as a claimed one is: it completes the run.
    assert (await d.complete_wf(task, [complete("done")]))["run_status"] == "completed"


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="3.10 keeps wait_for: its own task resumes the poll turns later"
)
async def test_the_parked_poll_has_answered_before_the_start_returns(engine: Engine) -> None:
    # The dispatch latency: the task goes out to the worker before the start renders its answer.
    d = Driver(engine)
    await d.register(**TYPES)
    poll = asyncio.create_task(d.poll_wf(timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine)
    started = await d.start("wf-1")
    assert poll.done()
    task = poll.result()
    assert task is not None and task["run_id"] == started["run_id"]


async def test_a_retried_poll_gets_the_task_handed_to_its_first_try(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(**TYPES)
    poll = asyncio.create_task(d.poll_wf(timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine)
    await d.start("wf-1")
    handed = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert handed is not None
    # The answer was lost on the way: the worker sends the same poll again.
    again = await d.poll_wf(timeout=0, poll_request_id="poll-1")
    assert again is not None
    assert (again["task_id"], again["workflow_task_attempt"]) == (handed["task_id"], 1)
    assert again["lease_owner"] == "w1" and again["lease_expires_at"] == handed["lease_expires_at"]


async def test_two_parked_polls_and_one_start_hand_the_task_to_one(engine: Engine) -> None:
    d = Driver(engine)
    await d.register("w1", **TYPES)
    await d.register("w2", **TYPES)
    first = asyncio.create_task(d.poll_wf("w1", timeout=60.0))
    second = asyncio.create_task(d.poll_wf("w2", timeout=60.0))
    await _offered(engine, 2)
    await d.start("wf-1")
    done, pending = await asyncio.wait(
        {first, second}, timeout=WAKE_WITHIN, return_when=asyncio.FIRST_COMPLETED
    )
    assert [task.result()["lease_owner"] for task in done] == ["w1"]  # the longest parked
    assert pending == {second} and engine.waiters.parked.offers(NS, "q1")[0].state == OPEN
    # The other poll waits on for the next start, which it gets.
    await d.start("wf-2")
    task = await asyncio.wait_for(second, WAKE_WITHIN)
    assert task is not None and (task["workflow_id"], task["lease_owner"]) == ("wf-2", "w2")


async def test_two_starts_never_hand_to_the_same_poll(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(**TYPES)
    poll = asyncio.create_task(d.poll_wf(timeout=60.0))
    await _offered(engine)
    async with _writes_held(engine):
        one = asyncio.create_task(d.start("wf-1"))
        await _offered(engine, state=RESERVED)
        two = asyncio.create_task(d.start("wf-2"))
        await asyncio.sleep(0)  # let the second start try to reserve: the only poll is taken
        assert sum(o.state == RESERVED for o in engine.waiters.parked.offers(NS, "q1")) == 1
    first, second = await asyncio.gather(one, two)
    handed = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert handed is not None and handed["workflow_id"] == "wf-1" and first["status"] == "running"
    assert second["status"] == "pending" and (await _task_row(engine, "wf-2"))["status"] == "ready"


async def test_a_poll_gone_before_the_hand_off_gets_its_task_handed_back_at_once(engine: Engine) -> None:
    d = Driver(engine)
    await d.register("w1", **TYPES)
    await d.register("w2", **TYPES)
    poll = asyncio.create_task(d.poll_wf("w1", timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine)
    async with _writes_held(engine):
        start = asyncio.create_task(d.start("wf-1"))
        await _offered(engine, state=RESERVED)
        poll.cancel()  # the worker hung up (the HTTP layer cancels its poll) while the start decides
        with pytest.raises(asyncio.CancelledError):
            await poll
    started = await start
    assert started["status"] == "running"  # inserted leased to w1: the poll was gone only after
    row = await _task_row(engine, "wf-1")
    assert (row["status"], row["lease_owner"]) == ("ready", None)  # handed back, not left to expire
    # Another poller gets it now; the first lease is fenced out.
    task = await d.poll_wf("w2", timeout=0)
    assert task is not None and task["workflow_id"] == "wf-1" and task["lease_owner"] == "w2"
    assert task["workflow_task_attempt"] == 2
    assert await d.poll_wf("w1", timeout=0, poll_request_id="poll-1") is None


async def test_a_delivered_task_its_poll_could_not_answer_is_handed_back() -> None:
    parked = ParkedPolls()
    released: list[Any] = []

    async def release(task: Any) -> None:
        released.append(task)

    offer = _offer()
    with parked.parked(("ns", "q"), offer):
        assert parked.reserve("ns", "q", "greeter") is offer and parked.reserve("ns", "q", "greeter") is None
        task: Any = {"task_id": "t1"}
        assert parked.deliver(offer, task)
        parked.abandon(offer, release)  # cancelled before it answered
        await asyncio.sleep(0)  # the background hand-back runs
    assert released == [task] and offer.state == GONE and not parked.offers("ns", "q")
    # A poll gone while reserved is delivered nothing: the start hands the task back itself.
    gone = _offer()
    with parked.parked(("ns", "q"), gone):
        assert parked.reserve("ns", "q", "greeter") is gone
        parked.abandon(gone, release)
        assert not parked.deliver(gone, task)


def _offer() -> ParkedPoll:
    worker: Any = {"worker_id": "w1", "build_id": None}
    return ParkedPoll(worker, frozenset({"greeter"}), None, 100, asyncio.Event())


async def test_a_worker_of_another_type_is_not_handed_the_task(engine: Engine) -> None:
    d = Driver(engine)
    await d.register("other", supported_workflow_types=["billing"])
    await d.register("w2", **TYPES)
    elsewhere = asyncio.create_task(d.poll_wf("other", timeout=60.0))
    await _offered(engine)
    started = await d.start("wf-1")
    assert started["status"] == "pending" and (await _task_row(engine, "wf-1"))["status"] == "ready"
    assert not elsewhere.done()
    task = await d.poll_wf("w2", timeout=0)
    assert task is not None and task["workflow_id"] == "wf-1"
    elsewhere.cancel()


async def test_a_pinned_run_is_not_handed_to_another_build_and_the_claim_runs(engine: Engine) -> None:
    d = Driver(engine)
    await d.register("old", build_id="b1", **TYPES)
    await d.register("new", build_id="b2", **TYPES)
    await engine.promote_task_queue_build_id(NS, "q1", "b2")  # new runs pin to b2
    old = asyncio.create_task(d.poll_wf("old", timeout=60.0))
    await _offered(engine)
    new = asyncio.create_task(d.poll_wf("new", timeout=60.0))
    await _offered(engine, 2)
    started = await d.start("wf-1")  # reserves the oldest poll, b1's, which may not take it
    assert started["status"] == "pending"
    task = await asyncio.wait_for(new, WAKE_WITHIN)  # woken, and claimed as before
    assert task is not None and task["lease_owner"] == "new"
    assert not old.done()
    old.cancel()


async def test_a_drained_cohort_is_not_handed_the_task(engine: Engine) -> None:
    d = Driver(engine)
    await d.register("old", build_id="b1", **TYPES)
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    old = asyncio.create_task(d.poll_wf("old", timeout=60.0))
    await _offered(engine)
    started = await d.start("wf-1")
    assert started["status"] == "pending" and (await _task_row(engine, "wf-1"))["status"] == "ready"
    await d.register("new", build_id="b2", **TYPES)
    task = await d.poll_wf("new", timeout=0)
    assert task is not None and task["workflow_id"] == "wf-1"
    assert not old.done()
    old.cancel()


async def test_an_eager_start_keeps_its_own_worker(engine: Engine) -> None:
    d = Driver(engine)
    await d.register("w1", **TYPES)
    await d.register("w2", **TYPES)
    poll = asyncio.create_task(d.poll_wf("w1", timeout=60.0))
    await _offered(engine)
    started = await d.start("wf-1", eager_worker_id="w2")
    assert started["eager_workflow_task"]["lease_owner"] == "w2"
    assert not poll.done() and engine.waiters.parked.offers(NS, "q1")[0].state == OPEN
    poll.cancel()


async def test_a_woken_poll_claims_in_queue_order_rather_than_take_a_newer_start() -> None:
    parked = ParkedPolls()
    offer = _offer()
    with parked.parked(("ns", "q"), offer):
        offer.woken.set()  # an older task was queued since its probe: it is about to claim that
        assert parked.reserve("ns", "q", "greeter") is None
        offer.woken.clear()
        assert parked.reserve("ns", "q", "greeter") is offer


async def test_an_older_ready_task_goes_to_the_poll_before_a_newer_start(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(**TYPES)
    poll = asyncio.create_task(d.poll_wf(timeout=60.0))
    await _offered(engine)
    older = await d.start("wf-0", eager_worker_id="not-registered")  # queued ready: wakes the poll
    newer = await d.start("wf-1")
    task = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert task is not None and task["workflow_id"] == "wf-0" and older["status"] == "pending"
    assert newer["status"] == "pending" and (await _task_row(engine, "wf-1"))["status"] == "ready"


def _record_poll_failing_once(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[str]:
    """The hand-off's record of its poll raises ``error`` on its first call; the task ids it saw."""
    from durable_workflow_server.engine.workflow_tasks import handoff

    recorded = handoff.record_poll
    calls: list[str] = []

    async def failing_once(tx: Any, namespace: str, worker_id: str, poll_id: str, task: Any) -> None:
        calls.append(task["task_id"])
        if len(calls) == 1:
            raise error
        await recorded(tx, namespace, worker_id, poll_id, task)

    monkeypatch.setattr(handoff, "record_poll", failing_once)
    return calls


async def test_a_start_whose_hand_off_conflicts_is_retried_without_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An integrity error inside the handing attempt (a racing start's row, say).
    conflict = sa.exc.IntegrityError("INSERT", {}, Exception("duplicate"))
    calls = _record_poll_failing_once(monkeypatch, conflict)
    d = Driver(engine)
    await d.register(**TYPES)
    poll = asyncio.create_task(d.poll_wf(timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine)
    started = await d.start("wf-1")
    # Retried without the hand-off: the task is queued ready (the run pending), the offer kept
    # from other starts, and the poll claims the task through the wake-up as before.
    assert started["status"] == "pending"
    assert calls and len(calls) == 1
    assert all(offer.state != OPEN for offer in engine.waiters.parked.offers(NS, "q1"))
    task = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert task is not None and task["workflow_id"] == "wf-1"


async def test_two_tries_of_one_poll_each_take_a_handed_task(engine: Engine) -> None:
    # The poll's id is recorded on the task it leases, so a second try of the same poll (a
    # transport retry while the first still waits) can take the next start's task too.
    d = Driver(engine)
    await d.register(**TYPES)
    first = asyncio.create_task(d.poll_wf(timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine)
    second = asyncio.create_task(d.poll_wf(timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine, 2)
    await d.start("wf-1")
    assert (await asyncio.wait_for(first, WAKE_WITHIN) or {}).get("workflow_id") == "wf-1"
    started = await d.start("wf-2")
    assert started["status"] == "running"  # handed: leased with the run
    assert (await asyncio.wait_for(second, WAKE_WITHIN) or {}).get("workflow_id") == "wf-2"


async def test_a_start_retried_after_a_conflict_hands_the_task_of_its_committed_attempt(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.server.engine.test_engine_transaction_retry import DEADLOCK

    # The attempt that answered the task is rolled back and run again.
    calls = _record_poll_failing_once(monkeypatch, DEADLOCK)
    d = Driver(engine)
    await d.register(**TYPES)
    poll = asyncio.create_task(d.poll_wf(timeout=60.0, poll_request_id="poll-1"))
    await _offered(engine)
    started = await d.start("wf-1")
    task = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert len(calls) == 2 and task is not None and task["task_id"] == calls[1] != calls[0]
    row = await _task_row(engine, "wf-1")  # the one task there is: the committed attempt's
    assert (row["task_id"], row["status"], row["lease_owner"]) == (calls[1], "leased", "w1")
    assert started["status"] == "running"
