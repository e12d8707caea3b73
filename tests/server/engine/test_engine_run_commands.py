"""Cancel, terminate, repair and archive in the engine (SQLite file, and PostgreSQL when set).

Time is the injected FakeClock; ``engine.tick()`` runs one pass of the background loop.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow.protocol import errors as reasons
from durable_workflow_server.engine.cancellation import EXCEPTION_CLASS
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.store import tables as t
from tests.server.conftest import EngineFactory
from tests.server.engine.engine_driver import NS, Driver, activity, complete, timer


async def _waiting_on_activity_and_timer(driver: Driver) -> tuple[str, dict[str, Any]]:
    """A run with one leased activity attempt and one pending timer; returns (run_id, attempt)."""
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("greet"), timer(600)])
    attempt = await driver.poll_act()
    assert attempt is not None
    return started["run_id"], attempt


async def _rows(driver: Driver, table: sa.Table, run_id: str) -> list[dict[str, Any]]:
    async with driver.engine.store.read() as conn:
        result = await conn.execute(sa.select(table).where(table.c.run_id == run_id))
        return [dict(r) for r in result.mappings().all()]


async def _snapshot(driver: Driver) -> dict[str, list[Any]]:
    out = {}
    async with driver.engine.store.read() as conn:
        for table in t.ALL_TABLES:
            if table.name in ("workers", "alembic_version"):
                continue
            rows = (await conn.execute(sa.select(table))).mappings().all()
            out[table.name] = sorted(repr(sorted(dict(r).items())) for r in rows)
    return out


@pytest.mark.parametrize("kind", ["cancel", "terminate"])
async def test_cancel_and_terminate_close_the_run_and_record_what_they_retired(
    driver: Driver, kind: str
) -> None:
    run_id, attempt = await _waiting_on_activity_and_timer(driver)
    command = driver.engine.cancel_workflow if kind == "cancel" else driver.engine.terminate_workflow
    result = await command(NS, "wf-1", reason="operator said so", request_id="req-1")
    status = "cancelled" if kind == "cancel" else "terminated"
    assert result["outcome"] == status and result["command_status"] == "accepted"
    assert result["run_id"] == run_id and result["target_scope"] == "instance"
    assert result["reason"] == "operator said so" and result["requested_run_id"] is None

    events = await driver.history("wf-1", run_id)
    types = [e["event_type"] for e in events]
    requested = "CancelRequested" if kind == "cancel" else "TerminateRequested"
    closed = "WorkflowCancelled" if kind == "cancel" else "WorkflowTerminated"
    assert types[-4:] == [requested, "ActivityCancelled", "TimerCancelled", closed]
    first = next(e for e in events if e["event_type"] == requested)
    assert result["command_sequence"] == first["sequence"]
    assert first["payload"]["command_type"] == kind and first["payload"]["request_id"] == "req-1"
    activity_cancelled = next(e for e in events if e["event_type"] == "ActivityCancelled")["payload"]
    assert activity_cancelled["activity_attempt_id"] == attempt["activity_attempt_id"]
    assert activity_cancelled["workflow_command_id"] == result["command_id"]
    payload = events[-1]["payload"]
    assert payload["failure_category"] == status and payload["closed_reason"] == status
    assert payload["exception_class"] == EXCEPTION_CLASS[kind]  # type: ignore[index]
    assert payload["reason"] == "operator said so"
    assert payload["message"] == f"Workflow {status}: operator said so"
    assert payload["workflow_command_id"] == result["command_id"] and payload["failure_id"]

    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["status"] == status and described["closed_reason"] == status
    assert described["actions"]["can_cancel"] is False and described["actions"]["can_archive"] is True
    # The rows are retired: no task to poll, the attempt, execution and timer closed.
    assert await driver.poll_wf(timeout=0.05) is None
    assert await driver.poll_act(timeout=0.05) is None
    assert {r["status"] for r in await _rows(driver, t.timers, run_id)} == {"cancelled"}
    assert {r["status"] for r in await _rows(driver, t.activity_executions, run_id)} == {"cancelled"}


@pytest.mark.parametrize("kind", ["cancel", "terminate"])
async def test_a_running_activity_hears_of_it_on_heartbeat_and_its_late_outcome_is_ignored(
    driver: Driver, kind: str
) -> None:
    _, attempt = await _waiting_on_activity_and_timer(driver)
    command = driver.engine.cancel_workflow if kind == "cancel" else driver.engine.terminate_workflow
    await command(NS, "wf-1")
    beat = await driver.engine.heartbeat_activity_task(
        NS,
        attempt["task_id"],
        activity_attempt_id=attempt["activity_attempt_id"],
        lease_owner=attempt["lease_owner"],
        progress={},
    )
    expected = reasons.RUN_CANCELLED if kind == "cancel" else reasons.RUN_TERMINATED
    assert beat["cancel_requested"] is True and beat["can_continue"] is False
    assert beat["reason"] == expected
    for outcome in (driver.complete_act(attempt, "late"), driver.fail_act(attempt, "late")):
        with pytest.raises(DomainError) as caught:
            await outcome
        assert caught.value.reason == expected
        assert caught.value.extra["outcome"] == "ignored" and caught.value.extra["recorded"] is False
        # worker-plane.md §2.10: the late outcome names the activity's, attempt's and task's state.
        assert caught.value.extra["activity_status"] == "cancelled"
        assert caught.value.extra["attempt_status"] == "cancelled"
        assert caught.value.extra["run_status"] == ("cancelled" if kind == "cancel" else "terminated")


async def test_closed_and_historical_runs_and_unknown_workflows_are_refused_writing_nothing(
    driver: Driver,
) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    before = await _snapshot(driver)
    for call in (
        driver.engine.cancel_workflow,
        driver.engine.terminate_workflow,
        driver.engine.repair_workflow,
    ):
        with pytest.raises(DomainError) as caught:
            await call(NS, "wf-1")
        assert caught.value.reason == reasons.RUN_NOT_ACTIVE
        # The command-result refusal (control-plane.md §8.3.7): outcome and rejection_reason,
        # and no ``status`` key (the reference server strips it).
        refused = caught.value.extra
        assert refused["outcome"] == "rejected_not_active" and refused["command_status"] == "rejected"
        assert refused["rejection_reason"] == reasons.RUN_NOT_ACTIVE and "status" not in refused
        assert refused["run_id"] == started["run_id"] and refused["target_scope"] == "instance"
        with pytest.raises(DomainError) as caught:
            await call(NS, "nope")
        assert caught.value.reason == reasons.INSTANCE_NOT_FOUND
        with pytest.raises(DomainError) as caught:
            await call(NS, "wf-1", run_id="not-the-current-run")
        assert caught.value.reason == reasons.HISTORICAL_RUN_COMMAND_REJECTED
    assert await _snapshot(driver) == before
    # Another namespace does not see the workflow.
    with pytest.raises(DomainError) as caught:
        await driver.engine.cancel_workflow("other", "wf-1")
    assert caught.value.reason == reasons.INSTANCE_NOT_FOUND
    assert started["run_id"]


async def test_run_targeted_cancel_of_the_current_run(driver: Driver) -> None:
    started = await driver.start()
    result = await driver.engine.cancel_workflow(NS, "wf-1", run_id=started["run_id"])
    assert result["target_scope"] == "run" and result["requested_run_id"] == started["run_id"]
    assert (await driver.engine.describe_run(NS, "wf-1", started["run_id"]))["status"] == "cancelled"


async def test_archive_a_closed_run_once(driver: Driver) -> None:
    started = await driver.start()
    run_id = started["run_id"]
    with pytest.raises(DomainError) as caught:
        await driver.engine.archive_workflow(NS, "wf-1", reason="too early")
    assert caught.value.reason == reasons.RUN_NOT_CLOSED
    assert caught.value.extra["outcome"] == "rejected_run_not_closed"
    assert caught.value.extra["rejection_reason"] == reasons.RUN_NOT_CLOSED
    assert caught.value.extra["command_status"] == "rejected" and "status" not in caught.value.extra
    assert (await driver.engine.describe_workflow(NS, "wf-1"))["actions"]["can_archive"] is False
    await driver.engine.terminate_workflow(NS, "wf-1")
    length = len(await driver.history("wf-1", run_id))

    result = await driver.engine.archive_workflow(NS, "wf-1", reason="retention", request_id="r-1")
    assert result["outcome"] == "archived" and result["reason"] == "retention"
    events = await driver.history("wf-1", run_id)
    assert [e["event_type"] for e in events[length:]] == ["ArchiveRequested", "WorkflowArchived"]
    assert events[-1]["payload"]["archive_command_id"] == result["command_id"]
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["archived"] is True and described["archive_reason"] == "retention"
    assert described["archived_at"] is not None
    assert described["actions"]["can_archive"] is False
    (row,) = await _rows(driver, t.workflow_runs, run_id)
    assert row["archive_command_id"] == result["command_id"]

    again = await driver.engine.archive_workflow(NS, "wf-1", reason="again")
    assert again["outcome"] == "archive_not_needed" and again["command_sequence"] is None
    # The answer carries the caller's reason; the stored one stays the first archive's.
    assert again["reason"] == "again" and again["command_id"] == result["command_id"]
    assert (await driver.engine.describe_workflow(NS, "wf-1"))["archive_reason"] == "retention"
    assert len(await driver.history("wf-1", run_id)) == len(events)


async def test_repair_is_not_needed_for_a_healthy_run(driver: Driver) -> None:
    async def not_needed() -> None:
        before = await _snapshot(driver)
        assert (await driver.engine.repair_workflow(NS, "wf-1"))["outcome"] == "repair_not_needed"
        assert await _snapshot(driver) == before  # nothing written

    started = await driver.start()
    await not_needed()  # a ready first task
    task = await driver.poll_wf()
    assert task is not None
    await not_needed()  # a leased task whose lease holds
    await driver.complete_wf(task, [timer(60)])
    await not_needed()  # waiting on a timer that will wake it
    assert "RepairRequested" not in await driver.types("wf-1", started["run_id"])


async def test_repair_requeues_an_expired_lease(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    clock.advance(10_000)  # past the lease; the background sweep has not run (no tick)
    result = await driver.engine.repair_workflow(NS, "wf-1", request_id="fix-1")
    assert result["outcome"] == "repair_dispatched" and result["task_id"] == task["task_id"]
    events = await driver.history("wf-1", started["run_id"])
    repair = events[-1]
    assert repair["event_type"] == "RepairRequested"
    assert repair["payload"]["liveness_state"] == "workflow_task_lease_expired"
    assert repair["payload"]["task_id"] == task["task_id"] and repair["payload"]["task_type"] == "workflow"
    assert repair["payload"]["outcome"] == "repair_dispatched"
    again = await driver.poll_wf()
    assert again is not None and again["task_id"] == task["task_id"]
    assert again["workflow_task_attempt"] == task["workflow_task_attempt"] + 1


async def _expired_lease_beside_a_ready_task(
    driver: Driver, clock: Any, *, held_back: bool
) -> tuple[str, str]:
    """A leased task past its lease and (as after a lost race) a second, ready task of the run."""
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    clock.advance(10_000)  # past the lease; the background sweep has not run (no tick)
    (leased,) = [r for r in await _rows(driver, t.workflow_tasks, task["run_id"]) if r["status"] == "leased"]
    ready = {
        **leased,
        "task_id": "wt-ready",
        "status": "ready",
        "lease_owner": None,
        "lease_expires_at": None,
        "available_at": clock() + timedelta(seconds=60) if held_back else clock(),
    }
    async with driver.engine.store.write() as conn:
        await conn.execute(sa.insert(t.workflow_tasks).values(**ready))
    return task["task_id"], "wt-ready"


async def test_repair_leaves_an_expired_lease_beside_a_claimable_task_to_the_sweep(
    driver: Driver, clock: Any
) -> None:
    await _expired_lease_beside_a_ready_task(driver, clock, held_back=False)
    before = await _snapshot(driver)
    assert (await driver.engine.repair_workflow(NS, "wf-1"))["outcome"] == "repair_not_needed"
    assert await _snapshot(driver) == before  # healthy: nothing retired, nothing recorded


async def test_repair_of_an_expired_lease_beside_a_held_back_task_names_the_task_that_runs(
    driver: Driver, clock: Any
) -> None:
    expired, ready = await _expired_lease_beside_a_ready_task(driver, clock, held_back=True)
    result = await driver.engine.repair_workflow(NS, "wf-1")
    assert result["outcome"] == "repair_dispatched" and result["task_id"] == ready
    assert result["liveness_state"] == "workflow_task_lease_expired"
    repair = (await driver.history("wf-1", result["run_id"]))[-1]
    assert repair["event_type"] == "RepairRequested" and repair["payload"]["task_id"] == ready
    statuses = {r["task_id"]: r["status"] for r in await _rows(driver, t.workflow_tasks, result["run_id"])}
    assert statuses == {expired: "failed", ready: "ready"}  # one ready task per run
    again = await driver.poll_wf()
    assert again is not None and again["task_id"] == ready


async def test_repair_dispatches_a_task_for_a_run_that_lost_it(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    # The worker recorded a side effect and blocks on nothing the server knows: nothing will
    # ever wake the run again.
    await driver.complete_wf(task, [{"type": "record_side_effect", "result": codec.envelope(1)}])
    assert await driver.poll_wf(timeout=0.05) is None
    result = await driver.engine.repair_workflow(NS, "wf-1")
    assert result["outcome"] == "repair_dispatched"
    repair = (await driver.history("wf-1", started["run_id"]))[-1]
    assert repair["payload"]["liveness_state"] == "workflow_task_missing"
    again = await driver.poll_wf()
    assert again is not None and again["task_id"] == result["task_id"] != task["task_id"]
    # With a ready task in place, a second repair has nothing to do.
    assert (await driver.engine.repair_workflow(NS, "wf-1"))["outcome"] == "repair_not_needed"


async def test_repair_makes_a_delayed_redelivery_claimable_now(make_engine: EngineFactory) -> None:
    driver = Driver(await make_engine(workflow_task_retry_delay_seconds=30.0))
    await driver.register()
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    failed = await driver.engine.fail_workflow_task(
        NS,
        task["task_id"],
        lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"],
        failure={"message": "replay crashed"},
    )
    redelivery = failed["next_task_id"]
    assert await driver.poll_wf(timeout=0.05) is None  # held back 30 s
    result = await driver.engine.repair_workflow(NS, "wf-1")
    assert result["outcome"] == "repair_dispatched" and result["task_id"] == redelivery
    assert result["liveness_state"] == "workflow_task_delayed"
    again = await driver.poll_wf()
    assert again is not None and again["task_id"] == redelivery


async def test_describe_says_of_a_waiting_activity_its_lease_heartbeat_and_latest_failure(
    driver: Driver,
) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    policy = {"max_attempts": 3, "backoff_seconds": [600]}
    await driver.complete_wf(task, [activity("greet", retry_policy=policy)])
    (act,) = (await driver.engine.describe_workflow(NS, "wf-1"))["waiting_on"]["activities"]
    assert act["task_status"] == "ready" and act["lease_owner"] is None and act["last_failure"] is None
    assert act["available_at"] is not None and act["available_at"].startswith("2026-03-01T12:00:00")

    attempt = await driver.poll_act()
    assert attempt is not None
    await driver.engine.heartbeat_activity_task(
        NS,
        attempt["task_id"],
        activity_attempt_id=attempt["activity_attempt_id"],
        lease_owner=attempt["lease_owner"],
        progress={},
    )
    (act,) = (await driver.engine.describe_workflow(NS, "wf-1"))["waiting_on"]["activities"]
    assert act["task_status"] == "leased" and act["lease_owner"] == attempt["lease_owner"]
    assert act["last_heartbeat_at"] is not None and act["attempt"] == 1

    await driver.fail_act(attempt, "card declined", exception_class="CardError")
    (act,) = (await driver.engine.describe_workflow(NS, "wf-1"))["waiting_on"]["activities"]
    assert act["status"] == "pending" and act["task_status"] == "ready"
    assert act["available_at"] is not None and act["available_at"].startswith("2026-03-01T12:10:00"), (
        "the retry"
    )
    assert act["lease_owner"] is None and act["last_heartbeat_at"] is None
    failure = act["last_failure"]
    assert failure is not None
    assert (failure["attempt"], failure["exception_class"], failure["message"]) == (
        1,
        "CardError",
        "card declined",
    )
    assert failure["recorded_at"] is not None and failure["recorded_at"].startswith("2026-03-01T12:00:00")
    # The same facts as the debug view's snapshot, read without it.
    debug = await driver.engine.debug_workflow(NS, "wf-1")
    (pending,) = debug["pending_activities"]
    assert (pending["task_status"], pending["available_at"]) == (act["task_status"], act["available_at"])
    assert debug["recent_failures"][0]["message"] == failure["message"]


async def test_describe_shows_what_an_open_run_waits_on(driver: Driver) -> None:
    started = await driver.start()
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["waiting_on"]["activities"] == [] and described["wait_kind"] is None
    assert described["paused"] is False and described["archived"] is False
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("greet"), timer(600)])
    described = await driver.engine.describe_run(NS, "wf-1", started["run_id"])
    waiting = described["waiting_on"]
    (act,) = waiting["activities"]
    assert act["activity_type"] == "greet" and act["status"] == "pending" and act["attempt"] == 0
    (tmr,) = waiting["timers"]
    assert tmr["fire_at"] is not None and tmr["fire_at"].startswith("2026-03-01T12:10:00")
    assert waiting["signals"] == {"count": 0, "names": []} and waiting["updates"] == []
    assert described["wait_kind"] == "activity" and "greet" in (described["wait_reason"] or "")
    attempt = await driver.poll_act()
    assert attempt is not None
    (act,) = (await driver.engine.describe_workflow(NS, "wf-1"))["waiting_on"]["activities"]
    assert act["status"] == "running" and act["attempt"] == 1
    assert act["activity_execution_id"] == attempt["activity_execution_id"]
    await driver.complete_act(attempt, "hi")
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["waiting_on"]["activities"] == [] and described["wait_kind"] == "timer"
    await driver.engine.cancel_workflow(NS, "wf-1")
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["waiting_on"]["timers"] == [] and described["wait_kind"] is None


async def test_describe_reads_signals_updates_condition_waits_and_children(driver: Driver) -> None:
    """Rows other features write are read as they are (written here by hand, as those features will)."""
    started = await driver.start()
    run_id = started["run_id"]
    now = driver.engine.now()
    async with driver.engine.store.write() as conn:
        for i, name in enumerate(["approve", "approve", "note"]):
            await conn.execute(
                sa.insert(t.signals).values(
                    signal_id=f"s{i}", run_id=run_id, workflow_id="wf-1", namespace=NS, signal_name=name,
                    payload_codec="avro", command_id=f"c{i}", history_sequence=10 + i, status="received",
                    received_at=now,
                )
            )  # fmt: skip
        await conn.execute(
            sa.insert(t.signals).values(
                signal_id="s9", run_id=run_id, workflow_id="wf-1", namespace=NS, signal_name="old",
                payload_codec="avro", command_id="c9", history_sequence=5, status="applied", received_at=now,
            )
        )  # fmt: skip
        await conn.execute(
            sa.insert(t.updates).values(
                update_id="u1", run_id=run_id, workflow_id="wf-1", namespace=NS, update_name="bump",
                payload_codec="avro", command_id="cu", status="accepted", accepted_at=now,
                history_sequence=20,
            )
        )  # fmt: skip
        await conn.execute(
            sa.insert(t.condition_waits).values(
                condition_wait_id="cw1", run_id=run_id, namespace=NS, condition_key="ready", sequence=3,
                batch_id="b", timeout_seconds=30, status="open", opened_at=now,
            )
        )  # fmt: skip
        await conn.execute(
            sa.insert(t.child_links).values(
                link_id="l1", parent_run_id=run_id, parent_workflow_id="wf-1", namespace=NS, sequence=4,
                batch_id="b", child_workflow_id="child-1", child_run_id="cr1", child_workflow_type="kid",
                task_queue="q1", payload_codec="avro", parent_close_policy="terminate", status="open",
                created_at=now,
            )
        )  # fmt: skip
    described = await driver.engine.describe_workflow(NS, "wf-1")
    waiting = described["waiting_on"]
    assert waiting["signals"] == {"count": 3, "names": ["approve", "approve", "note"]}
    assert waiting["updates"] == [{"update_id": "u1", "update_name": "bump"}]
    (cond,) = waiting["condition_waits"]
    assert cond["key"] == "ready" and cond["timeout_seconds"] == 30
    assert cond["timeout_at"] is not None and cond["timeout_at"].startswith("2026-03-01T12:00:30")
    assert waiting["children"] == [
        {"child_workflow_id": "child-1", "child_run_id": "cr1", "child_workflow_type": "kid"}
    ]
    assert described["wait_kind"] == "child"


async def test_a_leased_workflow_task_completed_after_a_cancel_is_refused_as_run_closed(
    driver: Driver,
) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.engine.cancel_workflow(NS, "wf-1")
    closed = await driver.types("wf-1", started["run_id"])
    with pytest.raises(DomainError) as caught:
        await driver.complete_wf(task, [activity("greet")])
    assert caught.value.reason == reasons.RUN_CLOSED
    assert caught.value.extra["cancel_requested"] is True
    assert caught.value.extra["stop_reason"] == "run_cancelled"
    assert await driver.types("wf-1", started["run_id"]) == closed
    assert await _rows(driver, t.activity_executions, started["run_id"]) == []


async def test_a_pending_activity_is_cancelled_without_an_attempt(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("greet")])
    await driver.engine.terminate_workflow(NS, "wf-1")
    events = await driver.history("wf-1", started["run_id"])
    (cancelled,) = [e["payload"] for e in events if e["event_type"] == "ActivityCancelled"]
    assert cancelled["activity_attempt_id"] is None and cancelled["attempt_number"] == 0
    assert cancelled["activity_type"] == "greet"
    assert await driver.poll_act(timeout=0.05) is None


async def test_a_condition_timeout_timer_is_not_a_step_but_is_cancelled_in_history(driver: Driver) -> None:
    started = await driver.start()
    run_id = started["run_id"]
    now = driver.engine.now()
    async with driver.engine.store.write() as conn:
        await conn.execute(
            sa.insert(t.timers).values(
                timer_id="tm-cw", run_id=run_id, namespace=NS, sequence=3, batch_id="b", delay_seconds=30,
                fire_at=now, status="pending", created_at=now, timer_kind="condition_timeout",
                target_id="cw1",
            )
        )  # fmt: skip
    assert (await driver.engine.describe_workflow(NS, "wf-1"))["waiting_on"]["timers"] == []
    await driver.engine.cancel_workflow(NS, "wf-1")
    events = await driver.history("wf-1", run_id)
    (cancelled,) = [e["payload"] for e in events if e["event_type"] == "TimerCancelled"]
    assert cancelled["timer_kind"] == "condition_timeout" and cancelled["condition_wait_id"] == "cw1"


async def test_repair_replaces_a_failed_task_whose_redelivery_was_lost(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    failed = await driver.engine.fail_workflow_task(
        NS,
        task["task_id"],
        lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"],
        failure={"message": "replay crashed"},
    )
    async with driver.engine.store.write() as conn:  # the redelivery is lost (e.g. an old build's bug)
        wt = t.workflow_tasks
        await conn.execute(sa.delete(wt).where(wt.c.task_id == failed["next_task_id"]))
    result = await driver.engine.repair_workflow(NS, "wf-1")
    assert result["outcome"] == "repair_dispatched" and result["liveness_state"] == "workflow_task_failed"
    repair = (await driver.history("wf-1", started["run_id"]))[-1]
    assert repair["event_type"] == "RepairRequested" and repair["payload"]["task_id"] == result["task_id"]
    again = await driver.poll_wf()
    assert again is not None and again["task_id"] == result["task_id"]


async def test_describe_shows_an_open_child_started_by_the_parent(driver: Driver) -> None:
    """The child step as the child feature writes it (a real start_child_workflow command)."""
    await Driver(driver.engine, queue="child-q", worker_id="w2").register()
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    start_child = {
        "type": "start_child_workflow",
        "workflow_type": "kid",
        "queue": "child-q",
        "arguments": codec.envelope(["x"]),
    }
    await driver.complete_wf(task, [start_child])
    described = await driver.engine.describe_run(NS, "wf-1", started["run_id"])
    (kid,) = described["waiting_on"]["children"]
    assert kid["child_workflow_type"] == "kid" and kid["child_run_id"]
    assert described["wait_kind"] == "child" and kid["child_workflow_id"] in (described["wait_reason"] or "")
    child = await driver.engine.describe_workflow(NS, kid["child_workflow_id"])
    assert child["run_id"] == kid["child_run_id"] and child["workflow_type"] == "kid"
