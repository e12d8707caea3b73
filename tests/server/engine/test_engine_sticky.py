"""Sticky workflow tasks in the claim rule (engine/workflow_tasks/sticky.py), on both databases.

A completion with ``sticky=True`` makes its worker the run's sticky worker: the run's next
workflow task is claimable only by that worker until the sticky window passed (5 s here) or the
worker went away (stop notice, deregistration, liveness) or failed a task of the run, and that
worker's lease carries only the events after what it had.
A completion without it (SDK 0.4.84) changes nothing: any worker, full history.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import codec
from durable_workflow_server.engine import shapes
from durable_workflow_server.engine.api import SignalRequest
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity


async def _sticky_first_task(driver: Driver, engine: Engine, workflow_id: str) -> tuple[dict[str, Any], str]:
    """w1 runs the first task and asks to keep the run; the activity completes: a task is ready."""
    started = await driver.start(workflow_id)
    first = await driver.poll_wf("w1")
    assert first is not None and "history_after_sequence" not in first  # nothing kept yet
    await engine.complete_workflow_task(
        NS,
        first["task_id"],
        lease_owner=first["lease_owner"],
        workflow_task_attempt=first["workflow_task_attempt"],
        commands=[activity()],
        sticky=True,
    )
    act = await driver.poll_act("w1")
    assert act is not None
    await driver.complete_act(act, "hi")
    return first, started["run_id"]


async def test_the_sticky_worker_claims_first_with_only_the_new_events(
    driver: Driver, engine: Engine
) -> None:
    await driver.register("w2", supported_workflow_types=["greeter"])
    first, run_id = await _sticky_first_task(driver, engine, "sticky-1")
    assert await driver.poll_wf("w2", timeout=0.05) is None  # held for w1 during the window
    task = await driver.poll_wf("w1")
    assert task is not None
    # Exactly the keys of any task, plus the declared sticky pair.
    assert set(task) == set(first) | {"history_after_sequence", "full_history_next_page_token"}
    assert set(task) <= shapes.WorkflowTaskBody.__required_keys__ | shapes.WorkflowTaskBody.__optional_keys__
    seen = first["last_history_sequence"]
    assert task["history_after_sequence"] == seen
    sequences = [e["sequence"] for e in task["history_events"]]
    assert (
        sequences
        and sequences[0] == seen + 1
        and sequences == list(range(seen + 1, seen + 1 + len(sequences)))
    )
    # The token in the task reads the whole history from its start (for a worker that lost it).
    full = await engine.workflow_task_history(
        NS,
        task["task_id"],
        lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"],
        next_history_page_token=task["full_history_next_page_token"],
        history_page_size=None,
    )
    everything = await driver.history("sticky-1", run_id)
    assert [e["sequence"] for e in full["history_events"]] == [e["sequence"] for e in everything]


async def test_any_worker_claims_once_the_window_passed(driver: Driver, engine: Engine, clock: Any) -> None:
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, "sticky-2")
    assert await driver.poll_wf("w2", timeout=0.05) is None
    clock.advance(6)  # past the 5 s sticky schedule-to-start window
    task = await driver.poll_wf("w2")
    assert task is not None and "history_after_sequence" not in task  # the full history
    assert task["history_events"][0]["sequence"] == 1
    # The run is w2's now: w1 (which may have lost it) would get the full history, too.
    await driver.complete_wf(task, [activity()])
    act = await driver.poll_act("w2")
    assert act is not None
    await driver.complete_act(act, "again")
    again = await driver.poll_wf("w1")
    assert again is not None and "history_after_sequence" not in again


async def test_the_stop_notice_ends_stickiness_at_once(driver: Driver, engine: Engine) -> None:
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, "sticky-3")
    assert await driver.poll_wf("w2", timeout=0.05) is None
    await engine.heartbeat_worker(NS, "w1", stopping=True)
    task = await driver.poll_wf("w2")
    assert task is not None and "history_after_sequence" not in task


async def test_a_completion_without_sticky_changes_nothing(driver: Driver, engine: Engine) -> None:
    await driver.register("w2", supported_workflow_types=["greeter"])
    await driver.start("plain-1")
    first = await driver.poll_wf("w1")
    assert first is not None
    await driver.complete_wf(first, [activity()])  # as SDK 0.4.84 completes: no sticky
    act = await driver.poll_act("w1")
    assert act is not None
    await driver.complete_act(act, "hi")
    task = await driver.poll_wf("w2")  # anyone, at once, with the full history
    assert task is not None and "history_after_sequence" not in task
    assert "full_history_next_page_token" not in task


async def test_a_task_queued_during_the_lease_is_held_for_the_sticky_worker(
    driver: Driver, engine: Engine
) -> None:
    await driver.register("w2", supported_workflow_types=["greeter"])
    await driver.start("signalled-1")
    first = await driver.poll_wf("w1")
    assert first is not None
    envelope = codec.envelope([])
    # Queues a task while w1 holds the lease.
    await engine.signal_workflow(
        NS, SignalRequest("signalled-1", "poke", envelope["codec"], envelope["blob"])
    )
    await engine.complete_workflow_task(
        NS,
        first["task_id"],
        lease_owner=first["lease_owner"],
        workflow_task_attempt=first["workflow_task_attempt"],
        commands=[activity()],
        sticky=True,
    )
    assert await driver.poll_wf("w2", timeout=0.05) is None
    task = await driver.poll_wf("w1")
    assert task is not None and task["history_after_sequence"] == first["last_history_sequence"]


async def test_a_failed_task_is_retried_by_any_worker_with_the_full_history(
    driver: Driver, engine: Engine, clock: Any
) -> None:
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, "failed-1")
    task = await driver.poll_wf("w1")
    assert task is not None and "history_after_sequence" in task
    await engine.fail_workflow_task(
        NS,
        task["task_id"],
        lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"],
        failure={"message": "replay failed"},
    )
    clock.advance(2)  # the retry delay (1 s), well inside the sticky window
    retry = await driver.poll_wf("w2")
    assert retry is not None and "history_after_sequence" not in retry


async def test_a_task_queued_during_a_failed_lease_is_claimable_by_any_worker_at_once(
    driver: Driver, engine: Engine
) -> None:
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, "failed-2")
    task = await driver.poll_wf("w1")
    assert task is not None and "history_after_sequence" in task
    envelope = codec.envelope([])
    # Queued (held for w1) while w1 holds the lease: the failure's retry is this task.
    await engine.signal_workflow(NS, SignalRequest("failed-2", "poke", envelope["codec"], envelope["blob"]))
    await engine.fail_workflow_task(
        NS,
        task["task_id"],
        lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"],
        failure={"message": "replay failed"},
    )
    retry = await driver.poll_wf("w2")  # no clock advance: well inside the sticky window
    assert retry is not None and "history_after_sequence" not in retry


async def _paused_sticky_run(driver: Driver, engine: Engine, workflow_id: str) -> None:
    """A run kept by w1 whose ready task (held for w1) is paused."""
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, workflow_id)
    await engine.pause_workflow(NS, workflow_id, reason="maintenance")


async def test_a_paused_runs_task_is_anyones_after_resume_once_the_sticky_worker_stopped(
    driver: Driver, engine: Engine
) -> None:
    await _paused_sticky_run(driver, engine, "paused-1")
    await engine.heartbeat_worker(NS, "w1", stopping=True)
    await engine.resume_workflow(NS, "paused-1")
    task = await driver.poll_wf("w2")  # resuming re-dates the task: still inside the window
    assert task is not None and "history_after_sequence" not in task


async def test_a_paused_runs_task_is_anyones_after_resume_once_the_sticky_worker_deregistered(
    driver: Driver, engine: Engine
) -> None:
    await _paused_sticky_run(driver, engine, "paused-2")
    await engine.deregister_worker(NS, "w1")
    await engine.resume_workflow(NS, "paused-2")
    task = await driver.poll_wf("w2")
    assert task is not None and "history_after_sequence" not in task


async def test_a_resumed_task_stays_held_for_a_sticky_worker_still_there(
    driver: Driver, engine: Engine
) -> None:
    await _paused_sticky_run(driver, engine, "paused-3")
    await engine.resume_workflow(NS, "paused-3")
    assert await driver.poll_wf("w2", timeout=0.05) is None
    task = await driver.poll_wf("w1")
    assert task is not None and "history_after_sequence" in task


async def test_liveness_declaring_the_sticky_worker_dead_frees_its_runs_at_once(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    # A sticky window longer than the liveness timeout: only the release itself can free the task.
    engine = await make_engine(worker_liveness_timeout_seconds=15.0, sticky_schedule_to_start_seconds=60.0)
    driver = Driver(engine)
    await driver.register("w1", supported_workflow_types=["greeter"])
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, "dead-1")
    task = await driver.poll_wf("w1")  # w1 leases the run's task, then goes silent
    assert task is not None and "history_after_sequence" in task
    envelope = codec.envelope([])
    await engine.signal_workflow(NS, SignalRequest("dead-1", "poke", envelope["codec"], envelope["blob"]))
    clock.advance(16)
    await engine.heartbeat_worker(NS, "w2")
    await engine.tick()  # w1 silent 16 s: its lease released
    again = await driver.poll_wf("w2")
    assert again is not None and "history_after_sequence" not in again


async def _sticky_then_silent(
    make_engine: EngineFactory, clock: FakeClock, workflow_id: str
) -> tuple[Engine, Driver, dict[str, Any]]:
    """w1 keeps the run and holds no lease (w2 runs its activity); then w1 goes silent past liveness."""
    engine = await make_engine(worker_liveness_timeout_seconds=15.0)  # the default 5 s window
    driver = Driver(engine)
    await driver.register("w1", supported_workflow_types=["greeter"])
    await driver.register("w2", supported_workflow_types=["greeter"], supported_activity_types=["greet"])
    await driver.start(workflow_id)
    first = await driver.poll_wf("w1")
    assert first is not None
    await engine.complete_workflow_task(
        NS,
        first["task_id"],
        lease_owner=first["lease_owner"],
        workflow_task_attempt=first["workflow_task_attempt"],
        commands=[activity()],
        sticky=True,
    )
    act = await driver.poll_act("w2")
    assert act is not None
    clock.advance(16)
    await engine.heartbeat_worker(NS, "w2")
    await engine.tick()  # w1 silent 16 s, holding nothing: declared dead all the same
    return engine, driver, act


async def test_liveness_declares_a_silent_sticky_worker_holding_no_lease_dead(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    """The run's next task, queued after w1 died, is anyone's at once: not held for the window."""
    _, driver, act = await _sticky_then_silent(make_engine, clock, "dead-2")
    await driver.complete_act(act, "hi")  # queues the run's next workflow task
    task = await driver.poll_wf("w2", timeout=0.05)
    assert task is not None and "history_after_sequence" not in task  # the full history


async def test_liveness_frees_a_queued_task_held_for_a_silent_sticky_worker_holding_no_lease(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    # A sticky window longer than the liveness timeout: only declaring w1 dead can free the task.
    engine = await make_engine(worker_liveness_timeout_seconds=15.0, sticky_schedule_to_start_seconds=60.0)
    driver = Driver(engine)
    await driver.register("w1", supported_workflow_types=["greeter"])
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, "dead-3")  # a task is ready, held for w1; no lease
    assert await driver.poll_wf("w2", timeout=0.05) is None
    clock.advance(16)
    await engine.heartbeat_worker(NS, "w2")
    await engine.tick()
    task = await driver.poll_wf("w2", timeout=0.05)
    assert task is not None and "history_after_sequence" not in task


async def test_a_sticky_worker_still_heartbeating_keeps_its_runs(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(worker_liveness_timeout_seconds=15.0, sticky_schedule_to_start_seconds=60.0)
    driver = Driver(engine)
    await driver.register("w1", supported_workflow_types=["greeter"])
    await driver.register("w2", supported_workflow_types=["greeter"])
    await _sticky_first_task(driver, engine, "alive-1")
    clock.advance(16)
    await engine.heartbeat_worker(NS, "w1")
    await engine.heartbeat_worker(NS, "w2")
    await engine.tick()
    assert await driver.poll_wf("w2", timeout=0.05) is None  # still held for w1
    task = await driver.poll_wf("w1")
    assert task is not None and "history_after_sequence" in task
