"""Leases whose worker is gone end at once: the re-poll hand-back, the stop notice, liveness.

See docs/protocol.md, "Leases and worker liveness". Time is the injected FakeClock.
"""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.maintenance.counters import WORKER_LEASE_RELEASES
from durable_workflow_server.engine.service import Engine
from tests.helpers.statements import StatementLog
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity

LIVENESS = 15.0
SETTINGS: dict[str, Any] = {
    "worker_liveness_timeout_seconds": LIVENESS,
    "workflow_task_lease_seconds": 10.0,
    "activity_task_lease_seconds": 300.0,
}


@pytest.fixture
async def engine(make_engine: EngineFactory) -> Engine:
    return await make_engine(**SETTINGS)


async def _poll_wf(
    engine: Engine,
    worker_id: str = "w1",
    held: list[str] | None = None,
    poll_request_id: str | None = None,
    grace: float | None = None,
) -> dict[str, Any] | None:
    return await engine.poll_workflow_task(
        NS,
        worker_id=worker_id,
        task_queue="q1",
        build_id=None,
        poll_request_id=poll_request_id,
        history_page_size=None,
        timeout=0.05,
        held_task_ids=held,
        hand_back_grace_seconds=grace,
    )


async def _poll_act(
    engine: Engine, worker_id: str = "w1", held: list[str] | None = None
) -> dict[str, Any] | None:
    return await engine.poll_activity_task(
        NS, worker_id=worker_id, task_queue="q1", build_id=None, timeout=0.05, held_task_ids=held
    )


def _released(engine: Engine, kind: str, reason: str) -> float:
    return sum(
        s["value"]
        for s in engine.counters.samples()
        if s["name"] == WORKER_LEASE_RELEASES and s["labels"] == {"kind": kind, "reason": reason}
    )


async def _with_activity(driver: Driver) -> None:
    """``wf-1`` with one ``greet`` activity scheduled (its workflow task done by ``w2``)."""
    await driver.register("w2")
    await driver.start()
    task = await _poll_wf(driver.engine, "w2")
    assert task is not None
    await driver.complete_wf(task, [activity()])


async def test_a_workflow_task_not_held_is_handed_back_by_the_next_poll(driver: Driver) -> None:
    engine = driver.engine
    await driver.start()
    lost = await _poll_wf(engine)  # the answer never reached the worker
    assert lost is not None and lost["workflow_task_attempt"] == 1
    again = await _poll_wf(engine, held=[])
    assert again is not None and again["task_id"] == lost["task_id"]
    assert again["workflow_task_attempt"] == 2
    assert _released(engine, "workflow", "repoll") == 1
    with pytest.raises(DomainError) as err:  # the first lease is fenced off
        await driver.complete_wf(lost, [])
    assert err.value.reason in ("workflow_task_attempt_mismatch", "invalid_commands")


async def test_a_poll_with_a_request_id_hands_back_what_is_not_held_and_keeps_what_is(driver: Driver) -> None:
    """The poll's first read says whether the worker holds a lease at all (the SDK's polls carry a
    ``poll_request_id``): the hand-back is skipped only when it holds none."""
    engine = driver.engine
    await driver.start()
    await driver.start("wf-2")
    lost = await _poll_wf(engine, held=[], poll_request_id="p-1")
    assert lost is not None
    kept = await _poll_wf(engine, held=[lost["task_id"]], poll_request_id="p-2")
    assert kept is not None and kept["task_id"] != lost["task_id"]
    assert _released(engine, "workflow", "repoll") == 0
    again = await _poll_wf(engine, held=[kept["task_id"]], poll_request_id="p-3")
    assert _released(engine, "workflow", "repoll") == 1
    assert again is not None and again["task_id"] == lost["task_id"]
    assert again["workflow_task_attempt"] == lost["workflow_task_attempt"] + 1
    beat = await engine.heartbeat_workflow_task(
        NS, kept["task_id"], lease_owner="w1", workflow_task_attempt=kept["workflow_task_attempt"]
    )
    assert beat["renewed"] is True


async def test_a_held_workflow_task_stays_leased(driver: Driver) -> None:
    engine = driver.engine
    await driver.start()
    held = await _poll_wf(engine)
    assert held is not None
    assert await _poll_wf(engine, held=[held["task_id"]]) is None
    beat = await engine.heartbeat_workflow_task(
        NS, held["task_id"], lease_owner="w1", workflow_task_attempt=1
    )
    assert beat["renewed"] is True
    assert _released(engine, "workflow", "repoll") == 0


async def test_without_held_task_ids_nothing_is_handed_back(driver: Driver) -> None:
    """SDK 0.4.84 sends no ``held_task_ids``: its leases behave as before."""
    engine = driver.engine
    await driver.start()
    first = await _poll_wf(engine)
    assert first is not None
    assert await _poll_wf(engine) is None  # still leased to w1, not handed back
    beat = await engine.heartbeat_workflow_task(
        NS, first["task_id"], lease_owner="w1", workflow_task_attempt=1
    )
    assert beat["renewed"] is True


async def test_a_transport_retry_of_the_same_poll_gets_its_task_back(driver: Driver) -> None:
    engine = driver.engine
    await driver.start()
    first = await _poll_wf(engine, held=[], poll_request_id="p-1")
    assert first is not None
    retried = await _poll_wf(engine, held=[], poll_request_id="p-1")
    assert retried is not None
    assert (retried["task_id"], retried["workflow_task_attempt"]) == (first["task_id"], 1)
    assert _released(engine, "workflow", "repoll") == 0


async def test_hand_back_touches_only_this_worker_and_kind(driver: Driver) -> None:
    engine = driver.engine
    await driver.register("w3")
    await _with_activity(driver)
    act = await _poll_act(engine, "w3")
    assert act is not None
    await driver.start("wf-2")
    wf2 = await _poll_wf(engine, "w3")
    assert wf2 is not None
    assert await _poll_wf(engine, "w1", held=[]) is None  # w1 holds nothing: nothing to hand back
    assert await _poll_act(engine, "w3", held=[act["task_id"]]) is None  # w3 keeps its activity...
    beat = await engine.heartbeat_workflow_task(NS, wf2["task_id"], lease_owner="w3", workflow_task_attempt=1)
    assert beat["renewed"] is True  # ...and an activity poll never hands back workflow tasks


async def test_an_activity_not_held_is_handed_back_as_an_expired_attempt(driver: Driver) -> None:
    engine = driver.engine
    await _with_activity(driver)
    lost = await _poll_act(engine)
    assert lost is not None and lost["attempt_number"] == 1
    again = await _poll_act(engine, held=[])
    assert again is not None and again["task_id"] == lost["task_id"]
    assert again["attempt_number"] == 2
    assert _released(engine, "activity", "repoll") == 1
    with pytest.raises(DomainError) as err:
        await driver.complete_act(lost, "late")
    assert err.value.reason == "stale_attempt"
    assert (await driver.complete_act(again, "ok"))["outcome"] == "completed"


async def test_the_stop_notice_releases_every_lease_at_once(driver: Driver) -> None:
    engine = driver.engine
    await _with_activity(driver)
    act = await _poll_act(engine)
    assert act is not None
    await driver.start("wf-2")
    wf2 = await _poll_wf(engine)
    assert wf2 is not None
    answer = await engine.heartbeat_worker(NS, "w1", stopping=True)
    assert answer["acknowledged"] is True
    assert _released(engine, "workflow", "stopping") == 1
    assert _released(engine, "activity", "stopping") == 1
    taken = await _poll_act(engine, "w2")
    assert taken is not None and taken["attempt_number"] == 2
    again = await _poll_wf(engine, "w2")
    assert again is not None and again["task_id"] == wf2["task_id"]


async def test_liveness_releases_a_silent_workers_leases(driver: Driver, clock: FakeClock) -> None:
    engine = driver.engine
    await _with_activity(driver)
    act = await _poll_act(engine)
    assert act is not None
    await driver.start("wf-2")
    wf2 = await _poll_wf(engine)
    assert wf2 is not None
    clock.advance(9)
    await engine.heartbeat_worker(NS, "w1")  # alive at t = 9
    await engine.heartbeat_workflow_task(NS, wf2["task_id"], lease_owner="w1", workflow_task_attempt=1)
    clock.advance(14)
    await engine.heartbeat_worker(NS, "w2")
    await engine.tick()  # t = 23: w1 silent 14 s, under the window
    assert await _poll_act(engine, "w2") is None
    clock.advance(1)
    await engine.heartbeat_worker(NS, "w2")
    await engine.tick()  # t = 24: silent 15 s
    assert _released(engine, "activity", "liveness") == 1
    taken = await _poll_act(engine, "w2")
    assert taken is not None and taken["attempt_number"] == 2
    assert _released(engine, "workflow", "liveness") + _released(engine, "workflow", "repoll") <= 1


async def test_a_deregistered_worker_keeps_its_in_flight_leases(driver: Driver, clock: FakeClock) -> None:
    """``DELETE /workers/{id}`` does not interrupt in-flight leases: liveness needs a registration."""
    engine = driver.engine
    await _with_activity(driver)
    act = await _poll_act(engine)
    assert act is not None
    assert (await engine.deregister_worker(NS, "w1"))["outcome"] == "deregistered"
    clock.advance(25)  # past the liveness window
    await engine.heartbeat_worker(NS, "w2")
    await engine.tick()
    assert await _poll_act(engine, "w2") is None
    assert (await driver.complete_act(act, "ok"))["outcome"] == "completed"


async def test_the_advertised_heartbeat_interval_is_a_third_of_the_liveness_window(driver: Driver) -> None:
    answer = await driver.register("w9")
    assert answer["heartbeat_interval_seconds"] == 5
    beat = await driver.engine.heartbeat_worker(NS, "w9")
    assert beat["heartbeat_interval_seconds"] == 5


async def test_a_restarted_server_counts_silence_only_from_its_start(
    driver: Driver, clock: FakeClock, make_engine: EngineFactory
) -> None:
    """A server back after an outage does not take the outage for its workers' deaths."""
    await _with_activity(driver)
    act = await _poll_act(driver.engine)
    assert act is not None
    clock.advance(100)  # the server was down: nobody could heartbeat
    restarted = await make_engine(**SETTINGS)
    await restarted.heartbeat_worker(NS, "w2")
    await restarted.tick()
    assert await _poll_act(restarted, "w2") is None  # w1 gets a window from the restart
    clock.advance(LIVENESS)
    await restarted.heartbeat_worker(NS, "w2")
    await restarted.tick()  # w1 silent a whole window since the restart: gone
    taken = await _poll_act(restarted, "w2")
    assert taken is not None and taken["attempt_number"] == 2


async def test_only_a_lease_not_held_nor_fresh_runs_the_hand_back(driver: Driver, clock: FakeClock) -> None:
    """The poll's first read says whether the hand-back would find anything: a lease not named as
    held and older than the grace. Otherwise it is not run at all (no statement of its own)."""
    engine = driver.engine
    await driver.start()
    await driver.start("wf-2")

    def hand_backs(log: StatementLog) -> int:
        return sum(1 for entry in log.entries if entry.caller == "engine/workflow_tasks/leases:hand_back")

    first = await _poll_wf(engine, held=[], poll_request_id="p-1", grace=5.0)
    assert first is not None
    with StatementLog(engine.store) as log:  # its one lease named as held
        second = await _poll_wf(engine, held=[first["task_id"]], poll_request_id="p-2", grace=5.0)
    assert second is not None and hand_backs(log) == 0
    with StatementLog(engine.store) as log:  # the second lease, not named yet, is fresh
        assert await _poll_wf(engine, held=[first["task_id"]], poll_request_id="p-3", grace=5.0) is None
    assert hand_backs(log) == 0 and _released(engine, "workflow", "repoll") == 0
    clock.advance(6.0)  # past the grace, within the lease: handed back, and leased again
    with StatementLog(engine.store) as log:
        again = await _poll_wf(engine, held=[first["task_id"]], poll_request_id="p-4", grace=5.0)
    assert hand_backs(log) == 1 and _released(engine, "workflow", "repoll") == 1
    assert again is not None and again["task_id"] == second["task_id"]
    assert again["workflow_task_attempt"] == second["workflow_task_attempt"] + 1
