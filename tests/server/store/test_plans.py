"""Planned statements (run on the driver directly) answer exactly what SQLAlchemy answers."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.sqlite

from durable_workflow_server.engine.runs import rows as run_rows
from durable_workflow_server.engine.runs.waiting import WAITING_ON
from durable_workflow_server.engine.search_attributes import listing
from durable_workflow_server.engine.workflow_tasks import rows as task_rows
from durable_workflow_server.store import create_store
from durable_workflow_server.store import tables as t
from durable_workflow_server.store.plans import Plans

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


async def _through_sqlalchemy(conn: Any, statement: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(row) for row in (await conn.run_sync(lambda c: c.execute(statement, params).mappings().all()))
    ]


async def test_planned_reads_match_sqlalchemy_with_times_json_and_in_lists(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        run = {
            "run_id": "r1", "workflow_id": "w1", "namespace": "default", "run_number": 1,
            "workflow_type": "greeter", "task_queue": "q1", "status": "running", "payload_codec": "avro",
            "started_at": NOW, "last_progress_at": NOW, "memo": {"k": [1, "x"]},
        }  # fmt: skip
        task = {
            "task_id": "t1", "run_id": "r1", "workflow_id": "w1", "namespace": "default",
            "task_queue": "q1", "workflow_type": "greeter", "status": "ready",
            "available_at": NOW, "attempt_count": 0,  # due exactly now: text order matters
            "created_at": NOW, "updated_at": NOW,
        }  # fmt: skip
        async with store.write() as conn:
            await conn.execute(run_rows.INSERT_RUN, run)
            await conn.execute(sa.insert(t.workflow_tasks), [task])  # an executemany of one row
            changed = await conn.execute(run_rows.UPDATE_RUN, {"b_run_id": "r1", "wait_reason": "x"})
            assert changed.rowcount == 1
        cases: list[tuple[Any, dict[str, Any]]] = [
            (run_rows.SELECT_RUN, {"b_run_id": "r1"}),
            (run_rows.CURRENT_RUN, {"b_workflow_id": "w1", "b_namespace": "default"}),
            (WAITING_ON, {"b_run_id": "r1"}),  # a UNION ALL with a literal IN list
        ]
        for types in (["greeter"], ["other", "greeter"], []):
            params = {
                "b_namespace": "default",
                "b_queue": "q1",
                "b_now": NOW,
                "b_build_key": "",
                "b_types": types,
                # the sticky rule's binds (workflow_tasks/sticky.py): free for this claimer
                "b_worker_id": "worker-1",
                "b_sticky_cutoff": NOW,
            }
            cases.append((task_rows.CANDIDATES.ready_typed, params))  # an expanding IN list
        for cm in (store.write, store.read):
            async with cm() as conn:
                for statement, params in cases:
                    assert await conn.fetch(statement, params) == await _through_sqlalchemy(
                        conn, statement, params
                    )
        async with store.read() as conn:
            (found,) = await conn.fetch(run_rows.SELECT_RUN, {"b_run_id": "r1"})
        assert found["started_at"] == NOW and found["memo"] == {"k": [1, "x"]} and found["wait_reason"] == "x"
    finally:
        await store.close()


# ---------------------------------------------------------------------- plans per statement shape


def _page(namespace: str, workflow_type: str | None, limit: int, *, statuses: Any = None) -> Any:
    """A ``list_workflows`` page statement, built anew as each request builds it."""
    conditions: list[Any] = [t.workflow_runs.c.namespace == namespace]
    if workflow_type is not None:
        conditions.append(t.workflow_runs.c.workflow_type == workflow_type)
    return listing.statement(conditions, None, limit, statuses=statuses)


def _plans_of(store: Any) -> Plans:
    plans = store._plans
    assert isinstance(plans, Plans)
    return plans


async def test_list_statements_of_one_shape_compile_once_and_keep_their_own_values(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        async with store.write() as conn:
            for i, (namespace, kind) in enumerate([("a", "x"), ("a", "y"), ("b", "x"), ("a", "x")]):
                await conn.execute(
                    run_rows.INSERT_RUN,
                    {
                        "run_id": f"r{i}", "workflow_id": f"w{i}", "namespace": namespace, "run_number": 1,
                        "workflow_type": kind, "task_queue": "q1", "status": "running" if i else "completed",
                        "payload_codec": "avro", "started_at": NOW, "last_progress_at": NOW,
                    },
                )  # fmt: skip
        plans = _plans_of(store)
        cases = [
            (("a", "x", 50), ["r3", "r0"]),  # newest first: equal times, by run id
            (("a", "y", 50), ["r1"]),
            (("b", "x", 50), ["r2"]),
            (("a", "x", 1), ["r3"]),
            (("c", "x", 50), []),
        ]
        async with store.read() as conn:
            before = plans.compiles
            for (namespace, kind, limit), expected in cases:
                page = _page(namespace, kind, limit)
                found = await conn.fetch(page)
                assert [row["run_id"] for row in found] == expected
                assert found == await _through_sqlalchemy(conn, page, {})
            assert plans.compiles - before == 1  # one shape: compiled for the first request only
            # Other shapes are compiled for themselves and answer for themselves.
            shapes = [
                (_page("a", None, 50), ["r3", "r1", "r0"]),
                (_page("a", None, 50, statuses={"completed"}), ["r0"]),
                (_page("a", None, 50, statuses={"completed", "running"}), ["r3", "r1", "r0"]),
            ]
            for page, expected in shapes:
                found = await conn.fetch(page)
                assert [row["run_id"] for row in found] == expected
                assert found == await _through_sqlalchemy(conn, page, {})
            assert plans.compiles - before == 4
            again = await conn.fetch(_page("b", None, 50, statuses={"running"}))
            assert [row["run_id"] for row in again] == ["r2"] and plans.compiles - before == 4
    finally:
        await store.close()


def test_the_shape_cache_is_bounded_least_recently_used_first() -> None:
    plans = Plans(sa.dialects.sqlite.dialect(), shapes=3)
    runs = t.workflow_runs

    def shape(n: int) -> Any:
        # n conditions: n different shapes (the values never matter to the shape).
        return sa.select(runs.c.run_id).where(*[runs.c.run_number > i for i in range(n)])

    for n in (1, 2, 3):
        assert plans.get(shape(n), None) is not None
    assert plans.compiles == 3 and len(plans._shapes) == 3
    assert plans.get(shape(1), None) is not None  # known: 1 is now the most recently used
    assert plans.compiles == 3
    assert plans.get(shape(4), None) is not None  # a fourth: the least recently used (2) goes
    assert plans.compiles == 4 and len(plans._shapes) == 3
    plans.get(shape(1), None)
    plans.get(shape(3), None)
    assert plans.compiles == 4
    plans.get(shape(2), None)  # dropped earlier: compiled again
    assert plans.compiles == 5 and len(plans._shapes) == 3


def test_equal_shapes_with_other_values_do_not_share_values() -> None:
    plans = Plans(sa.dialects.sqlite.dialect())
    runs = t.workflow_runs
    first = plans.get(sa.select(runs.c.run_id).where(runs.c.namespace == "a").limit(5), None)
    second = plans.get(sa.select(runs.c.run_id).where(runs.c.namespace == "b").limit(7), None)
    assert first is not None and second is not None and plans.compiles == 1
    assert first.sql == second.sql
    assert first.parameters(None)[:2] == ["a", 5] and second.parameters(None)[:2] == ["b", 7]
    # A literal of another type is another shape.
    third = plans.get(sa.select(runs.c.run_id).where(runs.c.namespace == sa.literal(3)), None)
    assert third is not None and plans.compiles == 2


def test_text_returning_and_executemany_plans_of_one_shape_keep_their_kind_and_values() -> None:
    plans = Plans(sa.dialects.sqlite.dialect())
    ns = t.namespaces

    def named(value: str) -> Any:  # a textual read built per call, its value bound into it
        return sa.text("SELECT name FROM namespaces WHERE name = :n").bindparams(n=value)

    first, second = plans.get(named("a"), None), plans.get(named("b"), None)
    assert first is not None and second is not None and plans.compiles == 1
    assert first.keys is None and second.keys is None and first.returns_rows and second.returns_rows
    assert first.parameters(None) == ["a"] and second.parameters(None) == ["b"]
    first.text_keys = ("name",)  # what the driver told the first: the shape's later plans know it
    assert (third := plans.get(named("c"), None)) is not None and third.text_keys == ("name",)
    deleted = plans.get(sa.text("DELETE FROM namespaces WHERE name = :n").bindparams(n="a"), None)
    assert deleted is not None and deleted.dml and not deleted.returns_rows and plans.compiles == 2

    def renamed(value: str) -> Any:  # RETURNING, built per call
        return sa.update(ns).where(ns.c.name == value).values(description="d").returning(ns.c.name)

    one, other = plans.get(renamed("a"), None), plans.get(renamed("b"), None)
    assert one is not None and other is not None and plans.compiles == 3
    assert other.dml and other.returns_rows and other.keys == ("name",)
    assert one.parameters(None) == ["d", "a"] and other.parameters(None) == ["d", "b"]

    def inserting(description: str) -> Any:  # an executemany's statement, built per call
        return sa.insert(ns).values(description=description)

    rows = [
        {"name": "x", "created_at": NOW, "updated_at": NOW},
        {"name": "y", "created_at": NOW, "updated_at": NOW},
    ]
    many, again = plans.get_many(inserting("p"), rows), plans.get_many(inserting("q"), rows)
    assert many is not None and again is not None and plans.compiles == 4
    assert again.dml and not again.returns_rows
    assert [again.parameters(row) for row in rows] == [
        [value if value != "p" else "q" for value in many.parameters(row)] for row in rows
    ]


async def test_text_statements_of_one_shape_answer_their_own_rows(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        ns = t.namespaces
        rows = [{"name": n, "description": n.upper(), "created_at": NOW, "updated_at": NOW} for n in "abc"]
        plans = _plans_of(store)
        async with store.write() as conn:
            await conn.execute(sa.insert(ns), rows)
            before = plans.compiles
            for name in "abc":
                described = sa.text("SELECT description FROM namespaces WHERE name = :n").bindparams(n=name)
                assert await conn.fetch(described) == [{"description": name.upper()}]
                assert (await conn.execute(described)).scalars().all() == [name.upper()]
            none = sa.text("SELECT description FROM namespaces WHERE name = :n").bindparams(n="none")
            assert (await conn.execute(none)).scalars().all() == []
            assert plans.compiles - before == 1
            for name in "ab":
                changed = await conn.execute(
                    sa.update(ns).where(ns.c.name == name).values(description="z").returning(ns.c.name)
                )
                assert changed.scalars().all() == [name]
        async with store.read() as conn:
            found = await conn.fetch(
                sa.select(ns.c.name, ns.c.description).where(ns.c.name.in_(["a", "b", "c"]))
            )
        assert sorted((r["name"], r["description"]) for r in found) == [("a", "z"), ("b", "z"), ("c", "C")]
    finally:
        await store.close()


def test_a_collected_statements_plans_go_with_it_and_are_never_handed_to_another() -> None:
    import gc

    plans = Plans(sa.dialects.sqlite.dialect())
    runs = t.workflow_runs
    kept = sa.select(runs.c.run_id).where(runs.c.run_id == sa.bindparam("b_run_id"))
    assert plans.get(kept, {"b_run_id": "r"}) is not None
    for number in range(50):  # statements built per request, each gone after its use
        built = sa.select(runs.c.run_id).where(runs.c.run_number == number)
        plan = plans.get(built, None)
        assert plan is not None and plan.parameters(None)[0] == number  # its own value, never a stale one
        del built, plan
    gc.collect()
    assert len(plans._plans) == 1  # only the statement still alive keeps plans
    assert plans.get(kept, {"b_run_id": "r"}) is plans.get(kept, {"b_run_id": "s"})


def test_plan_parameters_and_rows_apply_every_processor_once() -> None:
    plans = Plans(sa.dialects.sqlite.dialect())
    runs = t.workflow_runs
    statement = sa.select(runs.c.run_id, runs.c.started_at, runs.c.memo).where(
        runs.c.started_at < sa.bindparam("b_now"), runs.c.run_id == sa.bindparam("b_run_id")
    )
    plan = plans.get(statement, {"b_now": NOW, "b_run_id": "r1"})
    assert plan is not None
    assert plan.parameters({"b_now": NOW, "b_run_id": "r1"})[:2] == ["2026-03-01 12:00:00.000000", "r1"]
    rows = plan.rows([("r1", "2026-03-01 12:00:00.000000", '{"k": 1}'), ("r2", None, None)])
    assert rows == [
        {"run_id": "r1", "started_at": NOW, "memo": {"k": 1}},
        {"run_id": "r2", "started_at": None, "memo": None},
    ]
