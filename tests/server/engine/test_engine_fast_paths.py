"""The shortcuts of the hot paths keep their promises.

Namespace existence is cached (positive answers only, for ``namespace_cache_seconds``, dropped
when this process changes namespaces); closing a run retires open work whether the steps were
read from the tables or created by the closing batch; claims stay FIFO over a backlog larger
than one candidate page; each state change still writes its projection in full.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.runs.rows import load_run
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.workflow_tasks.rows import ensure_workflow_task
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, Driver, activity, complete, timer
from tests.server.engine.statements import recorded


async def _rows(engine: Engine, table: sa.Table, **where: Any) -> list[dict[str, Any]]:
    stmt = sa.select(table).where(*(table.c[name] == value for name, value in where.items()))
    async with engine.store.read() as conn:
        return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def _drop_namespace(engine: Engine, name: str, *, announce: bool) -> None:
    async with engine._tx() as tx:
        await tx.conn.execute(sa.delete(t.namespaces).where(t.namespaces.c.name == name))
        tx.namespaces_changed = announce


async def _add_namespace(engine: Engine, name: str) -> None:
    async with engine.store.write() as conn:
        await conn.execute(
            sa.insert(t.namespaces).values(
                name=name,
                retention_days=30,
                status="active",
                created_at=engine.now(),
                updated_at=engine.now(),
            )
        )


# ---------------------------------------------------------------------- namespace cache


async def test_positive_namespace_answer_is_trusted_until_it_expires(make_engine, clock) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine(namespace_cache_seconds=5.0)
    writer = await make_engine()  # another process sharing the database
    assert await engine.namespace_exists("Default") is True
    await _drop_namespace(writer, "default", announce=True)  # announced only in *that* process
    assert await engine.namespace_exists("default") is True  # still trusted here
    clock.advance(4.9)
    assert await engine.namespace_exists("default") is True
    clock.advance(0.2)
    assert await engine.namespace_exists("default") is False


async def test_negative_namespace_answer_is_never_cached(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine(namespace_cache_seconds=60.0)
    assert await engine.namespace_exists("billing") is False
    await _add_namespace(engine, "billing")
    assert await engine.namespace_exists("billing") is True


async def test_a_namespace_change_in_this_process_drops_the_cache(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine(namespace_cache_seconds=60.0)
    await _add_namespace(engine, "billing")
    assert await engine.namespace_exists("billing") is True
    await _drop_namespace(engine, "billing", announce=True)
    assert await engine.namespace_exists("billing") is False


# ---------------------------------------------------------------------- closing a run


async def test_closing_batch_cancels_the_steps_it_scheduled(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    done = await driver.complete_wf(task, [activity("greet"), timer(60), complete("early")])
    assert done["run_status"] == "completed"
    run_id = started["run_id"]
    assert [r["status"] for r in await _rows(driver.engine, t.activity_executions, run_id=run_id)] == [
        "cancelled"
    ]
    assert [r["status"] for r in await _rows(driver.engine, t.activity_tasks, run_id=run_id)] == ["cancelled"]
    assert [r["status"] for r in await _rows(driver.engine, t.timers, run_id=run_id)] == ["cancelled"]
    assert await driver.poll_act(timeout=0.05) is None


async def test_closing_a_run_retires_work_left_open_by_earlier_batches(driver: Driver) -> None:
    started = await driver.start()
    run_id = started["run_id"]
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity("greet"), timer(60)])
    running = await driver.poll_act()
    assert running is not None
    # A workflow task while both steps are open (as a signal would queue one).
    async with driver.engine._tx() as tx:
        run = await load_run(tx, run_id)
        assert run is not None
        await ensure_workflow_task(tx, run)
    task2 = await driver.poll_wf()
    assert task2 is not None
    await driver.complete_wf(task2, [complete("done")])

    engine = driver.engine
    assert [r["status"] for r in await _rows(engine, t.activity_executions, run_id=run_id)] == ["cancelled"]
    assert [r["status"] for r in await _rows(engine, t.activity_tasks, run_id=run_id)] == ["cancelled"]
    attempts = await _rows(engine, t.activity_attempts, attempt_id=running["activity_attempt_id"])
    assert [a["status"] for a in attempts] == ["cancelled"]
    assert [r["status"] for r in await _rows(engine, t.timers, run_id=run_id)] == ["cancelled"]
    with pytest.raises(DomainError) as stale:
        await driver.complete_act(running, "late")
    assert stale.value.reason == "stale_attempt"


async def test_closing_a_run_cancels_a_timer_left_pending_by_an_earlier_batch(driver: Driver) -> None:
    # Its only unresolved step is the timer: that alone makes the completion read the steps.
    started = await driver.start()
    run_id = started["run_id"]
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [timer(60)])
    async with driver.engine._tx() as tx:  # a workflow task while the timer runs (a signal's)
        run = await load_run(tx, run_id)
        assert run is not None
        await ensure_workflow_task(tx, run)
    task2 = await driver.poll_wf()
    assert task2 is not None
    await driver.complete_wf(task2, [complete("done")])
    assert [r["status"] for r in await _rows(driver.engine, t.timers, run_id=run_id)] == ["cancelled"]


async def test_closing_a_run_with_no_steps_retires_a_task_queued_during_the_lease(driver: Driver) -> None:
    # The completion reads no steps here (the run has none); the other task is still retired.
    started = await driver.start()
    run_id = started["run_id"]
    task = await driver.poll_wf()
    assert task is not None
    async with driver.engine._tx() as tx:  # queued as a repair would, with no history event
        run = await load_run(tx, run_id)
        assert run is not None
        queued = await ensure_workflow_task(tx, run)
    done = await driver.complete_wf(task, [complete("done")])
    assert done["run_status"] == "completed"
    statuses = {
        r["task_id"]: r["status"] for r in await _rows(driver.engine, t.workflow_tasks, run_id=run_id)
    }
    assert statuses == {task["task_id"]: "completed", queued: "cancelled"}
    assert await driver.poll_wf(timeout=0) is None


async def test_run_projection_follows_every_append(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = await driver.start()
    wf_id, run_id = started["workflow_id"], started["run_id"]

    async def projection() -> dict[str, Any]:
        (run,) = await _rows(driver.engine, t.workflow_runs, run_id=run_id)
        return run

    assert (await projection())["last_history_sequence"] == 2
    task = await driver.poll_wf()
    assert task is not None
    clock.advance(1)
    await driver.complete_wf(task, [activity("greet")])
    run = await projection()
    assert run["last_history_sequence"] == 3 and run["wait_kind"] == "activity"
    assert run["last_progress_at"] == clock.current
    act = await driver.poll_act()
    assert act is not None
    assert (await projection())["last_history_sequence"] == 4
    clock.advance(1)
    await driver.complete_act(act, "hi")
    run = await projection()
    assert run["last_history_sequence"] == 5 and run["wait_kind"] is None
    assert run["last_progress_at"] == clock.current
    task2 = await driver.poll_wf()
    assert task2 is not None
    await driver.complete_wf(task2, [complete("bye")])
    run = await projection()
    events = await driver.history(wf_id, run_id)
    assert run["last_history_sequence"] == len(events) == events[-1]["sequence"] == 6
    assert run["status"] == "completed" and run["output_blob"] is not None


# ---------------------------------------------------------------------- scheduling a batch


def _inserts(seen: list[tuple[str, Any]]) -> list[str]:
    """The activity tables each recorded ``INSERT`` went to, in order."""
    tables = ("activity_executions", "activity_tasks", "activity_attempts")
    return [name for sql, _ in seen for name in tables if sql.lstrip().startswith(f"INSERT INTO {name} ")]


@pytest.mark.parametrize("slots", [None, 2])
async def test_a_batch_inserts_its_activities_one_statement_per_table_and_shape(
    driver: Driver, slots: int | None
) -> None:
    await driver.register(supported_workflow_types=["greeter"], supported_activity_types=["greet"])
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    batch = [activity("greet", [n]) for n in ("a", "b", "c")]
    with recorded(driver.engine) as seen:
        answer = await driver.complete_wf(task, batch, eager_activity_slots=slots)
    run_id = started["run_id"]
    executions = await _rows(driver.engine, t.activity_executions, run_id=run_id)
    tasks = await _rows(driver.engine, t.activity_tasks, run_id=run_id)
    attempts = [
        a
        for e in executions
        for a in await _rows(
            driver.engine, t.activity_attempts, activity_execution_id=e["activity_execution_id"]
        )
    ]
    assert sorted(e["sequence"] for e in executions) == [3, 4, 5]
    assert sorted(r["task_id"] for r in tasks) == sorted(answer["created_task_ids"])
    if slots is None:  # all three ready: one INSERT per table
        assert _inserts(seen) == ["activity_executions", "activity_tasks"]
        assert sorted(r["status"] for r in tasks) == ["ready"] * 3 and attempts == []
        return
    # Two leased as they went in (one shape), one ready (another): two INSERTs per table.
    assert _inserts(seen) == ["activity_executions"] * 2 + ["activity_tasks"] * 2 + ["activity_attempts"]
    assert sorted(r["status"] for r in tasks) == ["leased", "leased", "ready"]
    assert len(answer["eager_activity_tasks"]) == 2 and len(attempts) == 2
    leased = {r["current_attempt_id"] for r in tasks if r["status"] == "leased"}
    assert leased == {a["attempt_id"] for a in attempts}


# ---------------------------------------------------------------------- claims


async def test_claims_stay_first_in_first_out_over_a_long_backlog(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    started = []
    for i in range(25):
        started.append((await driver.start(workflow_id=f"wf-{i}"))["workflow_id"])
        clock.advance(0.001)
    claimed = []
    for _ in range(25):
        task = await driver.poll_wf(timeout=0)
        assert task is not None
        claimed.append(task["workflow_id"])
    assert claimed == started
    assert await driver.poll_wf(timeout=0) is None


async def test_an_expired_lease_is_claimed_before_newer_ready_work(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    await driver.start(workflow_id="old")
    first = await driver.poll_wf()
    assert first is not None
    clock.advance(1)
    await driver.start(workflow_id="new")
    clock.advance(31)  # past the 30 s lease of the first task; no sweep has run
    taken = await driver.poll_wf(worker_id="w1", timeout=0)
    assert taken is not None
    assert taken["workflow_id"] == "old" and taken["workflow_task_attempt"] == 2
    assert (await driver.poll_wf(timeout=0) or {}).get("workflow_id") == "new"


async def test_an_expired_lease_is_claimed_before_older_ready_work(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    # Expired leases come first whatever their age: the task ready longest waits behind one.
    await driver.register("w-other", supported_workflow_types=["other"])
    await driver.start(workflow_id="ready-longer", workflow_type="greeter")
    clock.advance(1)
    await driver.start(workflow_id="leased", workflow_type="other")
    first = await driver.poll_wf(worker_id="w-other")
    assert first is not None and first["workflow_id"] == "leased"
    clock.advance(31)  # past its 30 s lease; no sweep has run
    taken = await driver.poll_wf(worker_id="w1", timeout=0)
    assert taken is not None
    assert taken["workflow_id"] == "leased" and taken["workflow_task_attempt"] == 2
    assert (await driver.poll_wf(timeout=0) or {}).get("workflow_id") == "ready-longer"


async def test_describe_follows_the_instance_to_its_current_run(driver: Driver) -> None:
    started = await driver.start()
    described = await driver.engine.describe_workflow(NS, started["workflow_id"])
    assert described["run_id"] == started["run_id"] and described["run_count"] == 1
    assert described["is_current_run"] is True
