"""The activity worker-death rule (docs/protocol.md, "A worker's death"), with an injected clock.

Every combination of {no timeout, start_to_close=10} x {no retry policy, max_attempts=3} x
{the worker dies, the worker lives but the activity hangs}: a death is redelivered for free, a
timeout counts only when the worker was alive past the deadline. Worker ``w1`` takes the first
attempt; ``w2`` (always alive) takes redeliveries. Time moves in 5 s steps; each step the live
workers heartbeat, then one background-loop pass runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity

LIVENESS = 15.0
STEP = 5.0


@pytest.fixture
async def engine(make_engine: EngineFactory) -> Engine:
    return await make_engine(
        worker_liveness_timeout_seconds=LIVENESS,
        activity_task_lease_seconds=300.0,
        workflow_task_lease_seconds=30.0,
    )


class World:
    """The engine, its clock, the workers and the one workflow ``wf-1`` with one activity."""

    def __init__(self, engine: Engine, clock: FakeClock) -> None:
        self.engine, self.clock = engine, clock
        self.driver = Driver(engine)
        self.alive: set[str] = set()
        self.run_id = ""

    async def register(self, *worker_ids: str) -> None:
        for worker_id in worker_ids:
            await self.driver.register(worker_id)
            self.alive.add(worker_id)

    async def schedule(self, **command: Any) -> None:
        started = await self.driver.start()
        self.run_id = started["run_id"]
        task = await self.driver.poll_wf("w2")
        assert task is not None
        await self.driver.complete_wf(task, [activity(**command)])

    async def step(self, seconds: float = STEP) -> None:
        self.clock.advance(seconds)
        for worker_id in sorted(self.alive):
            await self.engine.heartbeat_worker(NS, worker_id)
        await self.engine.tick()

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        history = await self.driver.history("wf-1", self.run_id)
        return [e["payload"] for e in history if e["event_type"] == event_type]

    async def poll(self, worker_id: str) -> dict[str, Any] | None:
        return await self.driver.poll_act(worker_id, timeout=0.05)

    async def redelivered_to(self, worker_id: str, *, within: float) -> dict[str, Any]:
        """Step the clock until ``worker_id`` gets the activity (at most ``within`` seconds)."""
        waited = 0.0
        while waited <= within:
            task = await self.poll(worker_id)
            if task is not None:
                return task
            await self.step()
            waited += STEP
        raise AssertionError(f"not redelivered within {within} s")


def _policy(max_attempts: int | None) -> dict[str, Any]:
    return {"retry_policy": {"max_attempts": max_attempts}} if max_attempts else {}


@pytest.mark.parametrize("max_attempts", [None, 3])
async def test_no_timeout_worker_dies_redelivered_free(
    engine: Engine, clock: FakeClock, max_attempts: int | None
) -> None:
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(**_policy(max_attempts))
    first = await world.poll("w1")
    assert first is not None and first["attempt_number"] == 1
    world.alive.discard("w1")  # killed: no heartbeat, no outcome
    second = await world.redelivered_to("w2", within=LIVENESS)
    assert second["attempt_number"] == 2
    assert (await world.driver.complete_act(second, "ok"))["outcome"] == "completed"
    assert await world.events("ActivityTimedOut") == []
    assert await world.events("ActivityRetryScheduled") == []
    assert len(await world.events("ActivityCompleted")) == 1
    with pytest.raises(DomainError) as late:  # the dead attempt is fenced off
        await world.driver.complete_act(first, "late")
    assert late.value.reason == "stale_attempt"


async def test_no_timeout_no_policy_a_real_failure_after_a_death_still_fails(
    engine: Engine, clock: FakeClock
) -> None:
    """The lost attempt is not counted: the redelivery is attempt 2, and its failure is final."""
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule()
    assert await world.poll("w1") is not None
    world.alive.discard("w1")
    second = await world.redelivered_to("w2", within=LIVENESS)
    assert (await world.driver.fail_act(second, "boom"))["next_task_id"] is None
    (failed,) = await world.events("ActivityFailed")
    assert failed["attempt_number"] == 2


@pytest.mark.parametrize("max_attempts", [None, 3])
async def test_no_timeout_worker_alive_activity_hangs_waits_for_the_lease(
    engine: Engine, clock: FakeClock, max_attempts: int | None
) -> None:
    """No deadline: a live worker keeps its attempt until the lease ends, then it is redelivered."""
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(**_policy(max_attempts))
    assert await world.poll("w1") is not None
    for _ in range(int(295 // STEP)):
        await world.step()
        assert await world.poll("w2") is None  # w1 is alive: its attempt stays
    second = await world.redelivered_to("w2", within=STEP)  # the 300 s lease ran out
    assert second["attempt_number"] == 2
    assert await world.events("ActivityTimedOut") == []
    assert await world.events("ActivityRetryScheduled") == []


async def test_start_to_close_no_policy_worker_dies_redelivered_not_failed(
    engine: Engine, clock: FakeClock
) -> None:
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(start_to_close_timeout=10)
    assert await world.poll("w1") is not None
    world.alive.discard("w1")
    await world.step()
    await world.step()  # t = 10: the deadline is due, w1 silent since t = 0: the decision waits
    assert await world.poll("w2") is None
    assert await world.events("ActivityTimedOut") == []
    await world.step()  # t = 15: w1's liveness window ran out: lost
    second = await world.poll("w2")
    assert second is not None and second["attempt_number"] == 2
    assert (await world.driver.complete_act(second, "ok"))["outcome"] == "completed"
    assert await world.events("ActivityTimedOut") == []
    assert await world.events("ActivityRetryScheduled") == []


async def test_start_to_close_max_attempts_three_deaths_in_a_row_are_all_free(
    engine: Engine, clock: FakeClock
) -> None:
    """Three workers die in turn holding the activity (max_attempts=3); the fourth completes it."""
    world = World(engine, clock)
    await world.register("w1", "w2", "w3", "w4")
    await world.schedule(start_to_close_timeout=10, **_policy(3))
    for number, worker_id in enumerate(("w1", "w2", "w3"), start=1):
        task = await world.redelivered_to(worker_id, within=2 * LIVENESS)
        assert task["attempt_number"] == number
        world.alive.discard(worker_id)
    last = await world.redelivered_to("w4", within=2 * LIVENESS)
    assert last["attempt_number"] == 4
    assert (await world.driver.complete_act(last, "ok"))["outcome"] == "completed"
    assert await world.events("ActivityTimedOut") == []
    assert await world.events("ActivityRetryScheduled") == []


async def test_start_to_close_no_policy_worker_alive_activity_hangs_times_out(
    engine: Engine, clock: FakeClock
) -> None:
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(start_to_close_timeout=10)
    first = await world.poll("w1")
    assert first is not None
    await world.step()
    await world.step()  # t = 10: w1 heartbeat at the deadline: alive, the timeout counts
    (timed_out,) = await world.events("ActivityTimedOut")
    assert timed_out["timeout_kind"] == "start_to_close" and timed_out["attempt_number"] == 1
    assert await world.events("ActivityRetryScheduled") == []
    assert await world.poll("w2") is None


async def test_start_to_close_max_attempts_worker_alive_each_timeout_counts(
    engine: Engine, clock: FakeClock
) -> None:
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(start_to_close_timeout=10, **_policy(3))
    for number in (1, 2, 3):
        task = await world.redelivered_to("w1", within=STEP)
        assert task["attempt_number"] == number
        await world.step()
        await world.step()  # this attempt's deadline, w1 alive
    assert len(await world.events("ActivityRetryScheduled")) == 2
    (timed_out,) = await world.events("ActivityTimedOut")
    assert timed_out["attempt_number"] == 3


async def test_a_sign_of_life_after_the_deadline_decides_at_once(engine: Engine, clock: FakeClock) -> None:
    """Parked on liveness, the decision is taken when the worker's next heartbeat arrives."""
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(start_to_close_timeout=10)
    assert await world.poll("w1") is not None
    world.alive.discard("w1")
    await world.step(8)  # w1 last heard of at t = 0
    await world.step(3)  # t = 11: due, no sign since: waits (until t = 15 at the latest)
    assert await world.events("ActivityTimedOut") == []
    clock.advance(1)
    await engine.heartbeat_worker(NS, "w1")  # t = 12: alive after all
    await engine.tick()
    (timed_out,) = await world.events("ActivityTimedOut")
    assert timed_out["timeout_kind"] == "start_to_close"


async def test_a_late_activity_heartbeat_is_a_sign_of_life(engine: Engine, clock: FakeClock) -> None:
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(start_to_close_timeout=10)
    first = await world.poll("w1")
    assert first is not None
    world.alive.discard("w1")
    await world.step(11)  # due, w1 silent: waits
    beat = await engine.heartbeat_activity_task(
        NS,
        first["task_id"],
        activity_attempt_id=first["activity_attempt_id"],
        lease_owner="w1",
        progress={},
    )
    assert beat["reason"] == "stale_attempt" and beat["can_continue"] is False
    await engine.tick()
    assert len(await world.events("ActivityTimedOut")) == 1


async def test_the_admin_timeout_pass_applies_the_same_rule(engine: Engine, clock: FakeClock) -> None:
    world = World(engine, clock)
    await world.register("w1", "w2")
    await world.schedule(start_to_close_timeout=10)
    first = await world.poll("w1")
    assert first is not None
    execution_id = first["activity_execution_id"]
    clock.advance(11)  # no loop pass: only the admin pass acts
    waiting = await engine.activity_timeout_pass(NS, execution_ids=[execution_id], limit=10)
    assert waiting["results"] == [
        {"execution_id": execution_id, "outcome": "skipped", "reason": "awaiting_worker_liveness"}
    ]
    clock.advance(4)  # t = 15: w1 silent for its liveness window
    lost = await engine.activity_timeout_pass(NS, execution_ids=[execution_id], limit=10)
    assert lost["results"] == [{"execution_id": execution_id, "outcome": "enforced", "has_retry": True}]
    second = await world.poll("w2")
    assert second is not None and second["attempt_number"] == 2
    assert await world.events("ActivityTimedOut") == []
