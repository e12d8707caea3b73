"""System maintenance passes against the engine: retention, repair, activity timeouts.

Time is the injected FakeClock; the background loop is off (``tick()`` runs it by hand), so
every change a test sees was made by the pass it called. Each test also checks that a pass in
one namespace leaves another namespace's rows alone, and that a repeated pass answers zeros.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import RegisterWorkerRequest, StartWorkflowRequest
from durable_workflow_server.engine.maintenance import counters
from durable_workflow_server.engine.maintenance import rows as maintenance_rows
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.signals.receiving import SignalRequest
from durable_workflow_server.store import tables as t
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity, complete, timer

OTHER = "other"
DAY = 86_400.0

Snapshot = dict[str, set[tuple[Any, ...]]]


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


async def _snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, as tuples (what a pass must change, and nothing else)."""
    found: Snapshot = {}
    async with engine.store.read() as conn:
        for table in t.ALL_TABLES:
            result = await conn.execute(sa.select(table))
            found[table.name] = {tuple(map(_hashable, row)) for row in result.all()}
    return found


def _owned(snapshot: Snapshot, ids: set[str]) -> Snapshot:
    """The rows in which any value is one of ``ids`` (a run's id, its workflow id, its tasks...)."""
    return {
        name: {row for row in rows if ids & {v for v in row if isinstance(v, str)}}
        for name, rows in snapshot.items()
    }


async def _ids_of_run(engine: Engine, run_id: str, workflow_id: str) -> set[str]:
    ids = {run_id, workflow_id}
    async with engine.store.read() as conn:
        for table, column in (
            (t.workflow_tasks, "task_id"),
            (t.activity_tasks, "task_id"),
            (t.activity_executions, "activity_execution_id"),
            (t.timers, "timer_id"),
        ):
            ids |= {
                str(v)
                for v in (
                    await conn.execute(sa.select(table.c[column]).where(table.c.run_id == run_id))
                ).scalars()
            }
    return ids


async def _completed_with_everything(driver: Driver, clock: FakeClock, workflow_id: str) -> str:
    """A run that closed after an activity, a timer and a signal: rows in most run tables."""
    started = await driver.start(workflow_id)
    task = await driver.poll_wf(poll_request_id=f"poll-{uuid.uuid4().hex}")
    assert task is not None
    await driver.complete_wf(task, [activity(), timer(5)])
    act = await driver.poll_act()
    assert act is not None
    await driver.complete_act(act, "done")
    envelope = codec.envelope(["hi"])
    await driver.engine.signal_workflow(
        NS, SignalRequest(workflow_id, "poke", envelope["codec"], envelope["blob"])
    )
    clock.advance(5)
    await driver.engine.tick()  # the timer fires
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("ok")])
    return str(started["run_id"])


async def _start_in(engine: Engine, namespace: str, workflow_id: str) -> dict[str, Any]:
    request = StartWorkflowRequest(
        workflow_type="greeter", input=codec.envelope(["x"]), workflow_id=workflow_id, task_queue="q1"
    )
    return dict(await engine.start_workflow(namespace, request))


# --------------------------------------------------------------------------- retention


async def test_retention_prunes_exactly_the_expired_closed_runs_and_everything_they_own(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(default_namespace=OTHER)
    driver = Driver(engine)
    await driver.register()
    old = await _completed_with_everything(driver, clock, "wf-old")
    still_open = (await driver.start("wf-open"))["run_id"]
    other_ns = (await _start_in(engine, OTHER, "wf-other"))["run_id"]
    await engine.terminate_workflow(OTHER, "wf-other")  # closed, old, but another namespace's
    clock.advance(31 * DAY)
    recent = await _completed_with_everything(driver, clock, "wf-recent")  # closed, not expired

    status = await engine.retention_status(NS, limit=100)
    assert status["retention_days"] == 30
    assert status["cutoff"] == (clock() - timedelta(days=30)).isoformat()
    assert status["expired_run_ids"] == [old] and status["expired_run_count"] == 1
    assert status["scan_pressure"] is False

    ids = await _ids_of_run(engine, old, "wf-old")
    before = await _snapshot(engine)
    owned = _owned(before, ids)
    for table in ("history_events", "workflow_tasks", "activity_tasks", "activity_executions",
                  "activity_attempts", "timers", "signals", "workflow_runs",
                  "workflow_instances"):  # fmt: skip
        assert owned[table], f"the test run should own rows in {table}"

    result = await engine.retention_pass(NS, limit=100)
    assert (result["processed"], result["pruned"], result["skipped"], result["failed"]) == (1, 1, 0, 0)
    (item,) = result["results"]
    assert item["run_id"] == old and item["outcome"] == "pruned" and item["deleted"] is True
    assert item["history_events_deleted"] == len(owned["history_events"])
    assert item["tasks_deleted"] == len(owned["workflow_tasks"]) + len(owned["activity_tasks"])
    assert item["external_payloads_deleted"] == 0

    after = await _snapshot(engine)
    assert after == {name: rows - owned[name] for name, rows in before.items()}
    # The open run, the recent run and the other namespace's run are all still there.
    assert {still_open, recent, other_ns} <= {row[0] for row in after["workflow_runs"]}

    # Idempotent: nothing left to do is zero counters and no write.
    again = await engine.retention_pass(NS, limit=100)
    assert (again["processed"], again["pruned"], again["results"]) == (0, 0, [])
    assert await _snapshot(engine) == after


async def test_retention_pass_named_runs_skips_open_unexpired_and_foreign_runs(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(default_namespace=OTHER)
    driver = Driver(engine)
    await driver.register()
    old = await _completed_with_everything(driver, clock, "wf-old")
    still_open = (await driver.start("wf-open"))["run_id"]
    foreign = (await _start_in(engine, OTHER, "wf-other"))["run_id"]
    await engine.terminate_workflow(OTHER, "wf-other")
    clock.advance(31 * DAY)
    before = await _snapshot(engine)
    result = await engine.retention_pass(NS, run_ids=[still_open, foreign, "no-such-run"], limit=100)
    assert [(r["run_id"], r["outcome"], r.get("reason")) for r in result["results"]] == [
        (still_open, "skipped", "run_not_terminal"),
        (foreign, "skipped", "run_not_found"),
        ("no-such-run", "skipped", "run_not_found"),
    ]
    assert (result["processed"], result["pruned"], result["skipped"]) == (3, 0, 3)
    assert await _snapshot(engine) == before
    # The other namespace's own pass prunes its run, and only that one.
    foreign_pass = await engine.retention_pass(OTHER, limit=100)
    assert [r["run_id"] for r in foreign_pass["results"]] == [foreign]
    remaining = {row[0] for row in (await _snapshot(engine))["workflow_runs"]}
    assert old in remaining and foreign not in remaining
    # ``limit`` bounds a pass.
    assert (await engine.retention_pass(NS, limit=1))["pruned"] == 1


async def test_retention_keeps_the_instance_while_another_run_remains(
    engine: Engine, driver: Driver, clock: FakeClock
) -> None:
    first = await _completed_with_everything(driver, clock, "wf-1")
    clock.advance(31 * DAY)
    second = await _completed_with_everything(driver, clock, "wf-1")  # a new run under the same id
    result = await engine.retention_pass(NS, run_ids=[second, first], limit=100)
    assert [r["outcome"] for r in result["results"]] == ["skipped", "pruned"]
    described = await engine.describe_workflow(NS, "wf-1")
    assert described["run_id"] == second


def test_every_table_with_a_run_column_is_pruned_or_kept_on_purpose() -> None:
    handled = maintenance_rows.PRUNE_STATEMENTS.keys() | maintenance_rows.PRUNE_KEEPS.keys()
    with_run = {
        table.name
        for table in t.ALL_TABLES
        if {"run_id", "parent_run_id", "current_run_id"} & set(table.c.keys())
    }
    assert with_run - handled - {"workflow_instances"} == set(), (
        "a table holding run ids needs a decision in engine/maintenance/rows.py "
        "(PRUNE_STATEMENTS, or PRUNE_KEEPS with the reason)"
    )


# --------------------------------------------------------------------------- repair


async def test_repair_pass_recreates_a_lost_task_and_repeats_with_zero_deltas(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(default_namespace=OTHER)
    driver = Driver(engine)
    await driver.register()
    lost = (await driver.start("wf-lost"))["run_id"]
    foreign = (await _start_in(engine, OTHER, "wf-foreign"))["run_id"]
    async with engine.store.write() as conn:  # the tasks are lost (a crash, a bad manual edit)
        await conn.execute(sa.delete(t.workflow_tasks).where(t.workflow_tasks.c.run_id.in_([lost, foreign])))

    status = await engine.repair_status(NS)
    candidates = status["candidates"]
    assert (candidates["missing_task_candidates"], candidates["existing_task_candidates"]) == (1, 0)
    assert [s["queue"] for s in candidates["scopes"]] == ["q1"]
    assert candidates["oldest_missing_run_started_at"] is not None
    assert status["policy"]["redispatch_after_seconds"] == 120

    result = await engine.repair_pass(NS)
    assert result["selected_missing_task_candidates"] == 1
    assert (result["repaired_missing_tasks"], result["dispatched_tasks"]) == (1, 1)
    assert result["missing_run_failures"] == [] and result["existing_task_failures"] == []
    task = await driver.poll_wf()
    assert task is not None and task["run_id"] == lost
    assert "RepairRequested" in await driver.types("wf-lost", lost)

    again = await engine.repair_pass(NS)
    assert (again["selected_total_candidates"], again["dispatched_tasks"]) == (0, 0)
    # The other namespace's lost run was not touched by this namespace's passes.
    assert (await engine.repair_status(OTHER))["candidates"]["missing_task_candidates"] == 1
    async with engine.store.read() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).where(t.workflow_tasks.c.run_id == foreign))
        ).scalar()
    assert count == 0


async def test_repair_pass_frees_an_expired_lease_and_reannounces_an_overdue_task_once(
    engine: Engine, driver: Driver, clock: FakeClock
) -> None:
    leased = (await driver.start("wf-leased"))["run_id"]
    task = await driver.poll_wf()
    assert task is not None and task["run_id"] == leased
    overdue = (await driver.start("wf-overdue"))["run_id"]
    clock.advance(121)  # past the 30 s lease and the 120 s redispatch window

    candidates = (await engine.repair_status(NS))["candidates"]
    assert (candidates["existing_task_candidates"], candidates["missing_task_candidates"]) == (2, 0)
    assert candidates["max_task_candidate_age_ms"] == 121_000

    result = await engine.repair_pass(NS, run_ids=[leased])
    assert (result["selected_existing_task_candidates"], result["repaired_existing_tasks"]) == (1, 1)
    result = await engine.repair_pass(NS, instance_id="wf-overdue")
    assert (result["selected_existing_task_candidates"], result["dispatched_tasks"]) == (1, 1)
    # Re-announced: left alone for another window, so a repeat is all zeros.
    again = await engine.repair_pass(NS)
    assert (again["selected_total_candidates"], again["dispatched_tasks"]) == (0, 0)
    polled = {task["run_id"] for task in [await driver.poll_wf(), await driver.poll_wf()] if task}
    assert polled == {leased, overdue}


# --------------------------------------------------------------------------- activity timeouts


async def test_activity_timeout_pass_enforces_passed_deadlines_on_demand(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(default_namespace=OTHER)
    driver = Driver(engine)
    await driver.register()
    await driver.start("wf-1")
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity(start_to_close_timeout=5), activity(start_to_close_timeout=500)])
    first, second = await driver.poll_act(), await driver.poll_act()
    assert first is not None and second is not None
    clock.advance(6)

    status = await engine.activity_timeout_status(NS, limit=100)
    assert status["expired_execution_ids"] == [first["activity_execution_id"]]
    assert (status["expired_count"], status["scan_pressure"]) == (1, False)
    assert (await engine.activity_timeout_status(OTHER, limit=100))["expired_count"] == 0

    named = [first["activity_execution_id"], second["activity_execution_id"], "nope"]
    result = await engine.activity_timeout_pass(NS, execution_ids=named, limit=100)
    assert result["results"] == [
        {"execution_id": named[0], "outcome": "enforced", "has_retry": False},
        {"execution_id": named[1], "outcome": "skipped", "reason": "not_expired"},
        {"execution_id": "nope", "outcome": "skipped", "reason": "execution_not_found"},
    ]
    assert (result["processed"], result["enforced"], result["skipped"], result["failed"]) == (3, 1, 2, 0)
    assert "ActivityTimedOut" in await driver.types("wf-1", task["run_id"])

    again = await engine.activity_timeout_pass(NS, limit=100)
    assert (again["processed"], again["enforced"], again["results"]) == (0, 0, [])


# --------------------------------------------------------------------------- the server's counters


async def test_lease_expiries_are_counted_where_the_loop_expires_them(
    engine: Engine, driver: Driver, clock: FakeClock
) -> None:
    await driver.start("wf-1")
    assert await driver.poll_wf() is not None  # leased for 30 s
    await engine.tick()
    before = (await engine.server_metrics())["counters"]
    assert [s for s in before if s["name"] == counters.LEASE_EXPIRIES] == []
    clock.advance(31)
    await engine.tick()  # the loop requeues the task: one workflow lease expired
    snapshot = await engine.server_metrics()
    expiries = [s for s in snapshot["counters"] if s["name"] == counters.LEASE_EXPIRIES]
    assert expiries == [{"name": counters.LEASE_EXPIRIES, "labels": {"kind": "workflow"}, "value": 1.0}]
    depth = {(s["labels"]["namespace"], s["labels"]["task_queue"], s["labels"]["kind"]): s["value"]
             for s in snapshot["gauges"]}  # fmt: skip
    assert depth == {(NS, "q1", "workflow"): 1.0}


async def test_an_activity_timeout_pass_never_touches_another_namespace(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(default_namespace=OTHER)
    await engine.register_worker(
        OTHER, RegisterWorkerRequest(task_queue="q1", runtime="python", worker_id="w-other")
    )
    run = await _start_in(engine, OTHER, "wf-theirs")
    task = await engine.poll_workflow_task(
        OTHER, worker_id="w-other", task_queue="q1", build_id=None, poll_request_id=None,
        history_page_size=None, timeout=0.3,
    )  # fmt: skip
    assert task is not None and task["run_id"] == run["run_id"]
    await engine.complete_workflow_task(
        OTHER, task["task_id"], lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"], commands=[activity(schedule_to_close_timeout=5)],
    )  # fmt: skip
    clock.advance(6)
    (expired,) = (await engine.activity_timeout_status(OTHER, limit=100))["expired_execution_ids"]
    mine = await engine.activity_timeout_pass(NS, limit=100)
    assert (mine["processed"], mine["enforced"]) == (0, 0)
    named = await engine.activity_timeout_pass(NS, execution_ids=[expired], limit=100)
    assert named["results"] == [
        {"execution_id": expired, "outcome": "skipped", "reason": "execution_not_found"}
    ]
    assert (await engine.activity_timeout_status(OTHER, limit=100))["expired_execution_ids"] == [expired]
    # Their own pass enforces it (schedule-to-close: no retry).
    theirs_pass = await engine.activity_timeout_pass(OTHER, limit=100)
    assert theirs_pass["results"] == [{"execution_id": expired, "outcome": "enforced", "has_retry": False}]


async def test_two_processes_pruning_at_once_prune_each_run_exactly_once(
    db_url: str, make_engine: EngineFactory, clock: FakeClock
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("two server processes share a database on PostgreSQL")
    first, second = await make_engine(), await make_engine()
    driver = Driver(first)
    await driver.register()
    runs = [await _completed_with_everything(driver, clock, f"wf-{i}") for i in range(5)]
    clock.advance(31 * DAY)
    one, two = await asyncio.gather(
        first.retention_pass(NS, run_ids=runs, limit=100), second.retention_pass(NS, run_ids=runs, limit=100)
    )
    outcomes = [(r["run_id"], r["outcome"], r.get("reason")) for r in [*one["results"], *two["results"]]]
    assert one["failed"] == two["failed"] == 0, outcomes
    assert sorted(run for run, outcome, _ in outcomes if outcome == "pruned") == sorted(runs)
    assert all(reason == "run_not_found" for _, outcome, reason in outcomes if outcome == "skipped")
    left = await _snapshot(first)
    assert not any(
        ids & set(runs)
        for ids in ({v for v in row if isinstance(v, str)} for rows in left.values() for row in rows)
    )


async def test_two_processes_repairing_at_once_recreate_a_lost_task_once(
    db_url: str, make_engine: EngineFactory
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("two server processes share a database on PostgreSQL")
    first, second = await make_engine(), await make_engine()
    driver = Driver(first)
    await driver.register()
    lost = [(await driver.start(f"wf-{i}"))["run_id"] for i in range(4)]
    async with first.store.write() as conn:
        await conn.execute(sa.delete(t.workflow_tasks).where(t.workflow_tasks.c.run_id.in_(lost)))
    one, two = await asyncio.gather(first.repair_pass(NS), second.repair_pass(NS))
    assert one["missing_run_failures"] == two["missing_run_failures"] == []
    assert one["repaired_missing_tasks"] + two["repaired_missing_tasks"] == 4
    async with first.store.read() as conn:
        open_tasks = (
            (
                await conn.execute(
                    sa.select(t.workflow_tasks.c.run_id).where(
                        t.workflow_tasks.c.run_id.in_(lost), t.workflow_tasks.c.status == "ready"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(open_tasks) == sorted(lost)  # one new task per run, not two
