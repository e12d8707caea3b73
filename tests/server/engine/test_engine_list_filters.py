"""``list_workflows`` filters: status, type, queue, time windows, the visibility query language
(system and custom attributes: equality, ranges, membership, negation), and keyset paging over
a few thousand runs (pages complete and disjoint; on SQLite the plan reads the index in order).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.errors import ValidationFailed
from durable_workflow_server.engine.search_attributes.listing import ListFilter, count_statement, statement
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.conftest import FakeClock
from tests.server.engine.engine_driver import NS, Driver, complete

TYPES = {
    "Customer": "keyword",
    "Notes": "text",
    "Priority": "int",
    "Score": "double",
    "Vip": "bool",
    "DueAt": "datetime",
    "Tags": "keyword_list",
}
# workflow id -> (type, queue, attributes); started one second apart, in this order.
RUNS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "o-1": ("orders", "q1", {"Customer": "ada", "Priority": 1, "Score": 0.5, "Vip": True, "Tags": ["rush"]}),
    "o-2": (
        "orders",
        "q2",
        {"Customer": "bob", "Priority": 5, "Score": 2.5, "Vip": False, "Tags": ["gift", "rush"]},
    ),
    "o-3": ("orders", "q1", {"Customer": "o'hara", "Priority": 9, "Notes": "asked for a refund", "Tags": []}),
    "g-1": ("greeter", "q1", {"Customer": "ada", "DueAt": "2026-03-01T12:00:10Z"}),
    "g-2": ("greeter", "q2", {"Priority": 5, "DueAt": "2026-03-02T00:00:00Z", "Notes": "100% done_ok"}),
}


async def list_ids(engine: Engine, **filters: Any) -> list[str]:
    args: dict[str, Any] = {"workflow_type": None, "status": None, "query": None}
    args.update(filters)
    page = await engine.list_workflows(NS, page_size=200, next_page_token=None, **args)
    return [w["workflow_id"] for w in page["workflows"]]


@pytest.fixture
async def fleet(driver: Driver, clock: FakeClock) -> Driver:
    for name, kind in TYPES.items():
        await driver.engine.create_search_attribute(NS, name, kind)
    for workflow_id, (wtype, queue, attributes) in RUNS.items():
        clock.advance(1)
        await driver.start(
            workflow_id=workflow_id, workflow_type=wtype, task_queue=queue, search_attributes=attributes
        )
    # o-1 completes at 12:00:10.
    clock.advance(5)
    task = await driver.poll_wf(queue="q1")
    assert task is not None and task["workflow_id"] == "o-1"
    await driver.complete_wf(task, [complete("done")])
    return driver


# One fleet for all the cases (each case as its own test would build it forty times).
QUERIES: list[tuple[str, list[str]]] = [
    # system attributes
    ("WorkflowType = 'orders'", ["o-3", "o-2", "o-1"]),
    ('WorkflowId = "g-1"', ["g-1"]),
    ("TaskQueue = 'q2'", ["g-2", "o-2"]),
    ("Status = 'completed'", ["o-1"]),
    ("Status = 'Pending'", ["g-2", "g-1", "o-3", "o-2"]),  # the literal's case does not matter
    ("CloseTime IS NULL", ["g-2", "g-1", "o-3", "o-2"]),
    ("CloseTime IS NOT NULL", ["o-1"]),
    ("StartTime >= '2026-03-01T12:00:03Z'", ["g-2", "g-1", "o-3"]),
    ("StartTime < '2026-03-01T12:00:03Z' AND WorkflowType = 'orders'", ["o-2", "o-1"]),
    # keyword
    ("Customer = 'ada'", ["g-1", "o-1"]),
    ("Customer = 'o''hara'", ["o-3"]),
    ("Customer != 'ada'", ["o-3", "o-2"]),  # runs without Customer match neither = nor !=
    ("Customer IN ('bob', 'o''hara')", ["o-3", "o-2"]),
    ("Customer NOT IN ('ada')", ["o-3", "o-2"]),
    ("NOT Customer = 'ada'", ["g-2", "o-3", "o-2"]),
    ("Customer IS NULL", ["g-2"]),
    # text
    ("Notes CONTAINS 'refund'", ["o-3"]),
    ("Notes CONTAINS '0% done_'", ["g-2"]),  # LIKE wildcards are literal
    ("Notes CONTAINS 'x%'", []),
    # int, double
    ("Priority >= 5", ["g-2", "o-3", "o-2"]),
    ("Priority > 1 AND Priority < 9", ["g-2", "o-2"]),
    ("Priority BETWEEN 1 AND 5", ["g-2", "o-2", "o-1"]),
    ("Priority NOT BETWEEN 2 AND 8", ["o-3", "o-1"]),
    ("Priority = '5'", ["g-2", "o-2"]),
    ("Priority IN (1, 9)", ["o-3", "o-1"]),
    ("Score > 1", ["o-2"]),
    ("Score <= 0.5", ["o-1"]),
    ("Score = 2.5", ["o-2"]),
    # bool
    ("Vip = true", ["o-1"]),
    ("Vip != TRUE", ["o-2"]),
    # datetime
    ("DueAt < '2026-03-01T13:00:00+00:00'", ["g-1"]),
    ("DueAt >= '2026-03-01T13:00:00Z'", ["g-2"]),
    ("DueAt = '2026-03-01T13:00:10+01:00'", ["g-1"]),
    # keyword_list membership
    ("Tags = 'rush'", ["o-2", "o-1"]),
    ("Tags IN ('gift', 'none')", ["o-2"]),
    ("Tags != 'rush'", []),  # o-3's empty list has no item at all
    ("Tags NOT IN ('gift')", ["o-1"]),
    # combinations
    ("(Customer = 'ada' OR Priority >= 9) AND WorkflowType = 'orders'", ["o-3", "o-1"]),
    ("WorkflowType = 'orders' AND Priority >= 3 AND Tags IN ('rush')", ["o-2"]),
    ("NOT (Priority >= 5 OR Customer = 'ada')", []),
    ("NOT (Priority >= 5) AND Priority IS NOT NULL", ["o-1"]),
]


async def test_query_language(fleet: Driver) -> None:
    answers = {query: await list_ids(fleet.engine, query=query) for query, _ in QUERIES}
    assert answers == dict(QUERIES)


async def test_simple_filters_combine(fleet: Driver) -> None:
    engine = fleet.engine
    base = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert await list_ids(engine, task_queue="q1") == ["g-1", "o-3", "o-1"]
    assert await list_ids(engine, task_queue="q1", workflow_type="orders") == ["o-3", "o-1"]
    assert await list_ids(engine, status="running", task_queue="q1") == ["g-1", "o-3"]
    # Half-open windows: after <= started_at < before.
    after, before = base + timedelta(seconds=2), base + timedelta(seconds=4)
    assert await list_ids(engine, started_after=after, started_before=before) == ["o-3", "o-2"]
    assert await list_ids(engine, closed_after=base, closed_before=base + timedelta(seconds=11)) == ["o-1"]
    assert await list_ids(engine, closed_before=base + timedelta(seconds=10)) == []
    assert await list_ids(engine, query="Priority >= 5", started_after=base + timedelta(seconds=3)) == [
        "g-2",
        "o-3",
    ]
    # Without operators a query is the reference server's id / business-key substring.
    assert await list_ids(engine, query="o-") == ["o-3", "o-2", "o-1"]


BAD_QUERIES: list[tuple[str, str]] = [
    ("Priority >= 'high'", "int attribute"),
    ("Customer > 'a'", "ranges"),
    ("Priority CONTAINS '1'", "CONTAINS applies to text"),
    ("Nope = 1", "Unknown search attribute 'Nope'"),
    ("BuildId = 'b1'", "cannot be filtered"),
    ("Status = 'sleeping'", "Status must be one of"),
    ("DueAt > 'soon'", "datetime attribute"),
    ("Vip > true", "ranges"),
    ("Vip IN (true)", "bool attribute"),
    ("Priority = ", "expected a value"),
    ("Priority == 1", "expected a value"),
    ("(Priority = 1", "expected ')'"),
    ("Priority = 1 Customer = 'a'", "expected AND, OR"),
    ("Customer = 'open", "is not closed"),
    ("Priority IN ()", "expected a value"),
    ("Priority NOT = 1", "IN or BETWEEN after NOT"),
    ("Customer = 'a' AND " * 50 + "Customer = 'a'", "more than 50 conditions"),
    ("(" * 30 + "Customer = 'a'" + ")" * 30, "nested deeper"),
    ("Priority = 1; DROP TABLE workflow_runs", "Unexpected character ';'"),
]


async def test_bad_queries_are_refused(fleet: Driver) -> None:
    for query, message in BAD_QUERIES:
        with pytest.raises(ValidationFailed) as refused:
            await list_ids(fleet.engine, query=query)
        assert list(refused.value.errors) == ["query"], query
        assert message in refused.value.errors["query"][0], (query, refused.value.errors["query"][0])
    assert len(await list_ids(fleet.engine)) == len(RUNS)  # and nothing was dropped


# ---------------------------------------------------------------------- paging at scale

ROWS = 3000


async def _bulk_runs(engine: Engine, namespace: str, count: int, start: datetime) -> None:
    """``count`` runs (one second apart, a few sharing a second) with a Priority value each."""
    runs, values = [], []
    for i in range(count):
        run_id = f"run-{namespace}-{i:05d}"
        started = start + timedelta(seconds=i // 3)  # three runs per second: ties broken by run id
        runs.append(
            {
                "run_id": run_id,
                "workflow_id": f"wf-{namespace}-{i:05d}",
                "namespace": namespace,
                "run_number": 1,
                "workflow_type": "bulk",
                "task_queue": "q",
                "status": "completed",
                "payload_codec": "avro",
                "search_attributes": {"Priority": i % 10},
                "started_at": started,
                "closed_at": started,
                "last_history_sequence": 0,
            }
        )
        values.append(
            {"run_id": run_id, "name": "Priority", "ordinal": 0, "namespace": namespace, "value_int": i % 10}
        )
    async with engine._tx() as tx:
        await tx.conn.execute(sa.insert(t.workflow_runs), runs)
        await tx.conn.execute(sa.insert(t.search_attribute_values), values)


async def _all_pages(engine: Engine, namespace: str, query: str | None, page_size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = await engine.list_workflows(
            namespace,
            workflow_type=None,
            status=None,
            query=query,
            page_size=page_size,
            next_page_token=token,
        )
        pages.append([w["run_id"] for w in page["workflows"]])
        assert page["workflow_count"] == len(pages[-1])
        token = page["next_page_token"]
        if token is None:
            return pages
        assert len(pages) < ROWS  # a token that never ends would loop forever


async def test_keyset_pages_are_complete_and_disjoint(engine: Engine, clock: FakeClock) -> None:
    await engine.create_search_attribute(NS, "Priority", "int")
    await _bulk_runs(engine, NS, ROWS, clock())
    await _bulk_runs(engine, "billing-unseen", 50, clock())  # another namespace's rows never show
    expected = sorted(
        (f"run-{NS}-{i:05d}" for i in range(ROWS)), key=lambda r: (int(r[-5:]) // 3, r), reverse=True
    )

    pages = await _all_pages(engine, NS, None, 200)
    assert [len(p) for p in pages] == [200] * 15
    assert [run for page in pages for run in page] == expected

    filtered = await _all_pages(engine, NS, "Priority >= 7", 128)
    flat = [run for page in filtered for run in page]
    assert flat == [r for r in expected if int(r[-5:]) % 10 >= 7]
    assert len(flat) == len(set(flat)) == 900


async def test_pages_read_the_index_in_order(engine: Engine, clock: FakeClock) -> None:
    """The page query walks ``ix_workflow_runs_namespace_started``: no sort of the whole namespace."""
    await _bulk_runs(engine, NS, ROWS, clock())
    stmt = statement(
        [t.workflow_runs.c.namespace == NS], (clock() + timedelta(seconds=500), "run-x"), limit=51
    )
    if engine.store.dialect == "sqlite":
        async with engine._read() as tx:
            compiled = stmt.compile(
                compile_kwargs={"literal_binds": True}, dialect=sa.dialects.sqlite.dialect()
            )
            plan = " ".join(str(r) for r in await tx.all(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_workflow_runs_namespace_started" in plan
        assert "TEMP B-TREE" not in plan
    else:
        async with engine._tx() as tx:
            await tx.conn.execute(sa.text("ANALYZE workflow_runs"))
        async with engine._read() as tx:
            compiled = stmt.compile(
                compile_kwargs={"literal_binds": True}, dialect=sa.dialects.postgresql.dialect()
            )
            plan = " ".join(str(r) for r in await tx.all(sa.text(f"EXPLAIN {compiled}")))
        assert "ix_workflow_runs_namespace_started" in plan
        assert "Sort" not in plan
    _ = ListFilter  # the filter type the engine builds these conditions from


COUNT_FILTERS: list[dict[str, Any]] = [
    {},
    {"task_queue": "q1"},
    {"workflow_type": "orders", "query": "Priority >= 5"},
    {"query": "o-"},
    {"started_after": datetime(2026, 3, 1, 12, 0, 3, tzinfo=timezone.utc)},
    {"closed_after": datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)},
    {"closed_before": datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)},
]


async def test_counts_per_status_bucket_are_what_the_list_lists(fleet: Driver) -> None:
    engine = fleet.engine
    await engine.terminate_workflow(NS, "g-2", run_id=None, reason="counted as failed")
    counts = await engine.count_workflows(NS)
    assert counts == {
        "workflow_count": 5,
        "by_status": {"running": 3, "completed": 1, "failed": 1},
        "at_least": [],
    }
    for filters in COUNT_FILTERS:
        counted = await engine.count_workflows(NS, **filters)
        listed = {
            bucket: len(await list_ids(engine, status=bucket, **filters)) for bucket in counted["by_status"]
        }
        assert counted["by_status"] == listed, filters
        assert counted["workflow_count"] == len(await list_ids(engine, **filters)), filters
    with pytest.raises(ValidationFailed):
        await engine.count_workflows(NS, query="Priority >= 'high'")
    assert await engine.count_workflows("other") == {
        "workflow_count": 0,
        "by_status": {"running": 0, "completed": 0, "failed": 0},
        "at_least": [],
    }


async def test_a_limited_count_stops_at_the_limit_per_status_and_says_so(fleet: Driver) -> None:
    engine = fleet.engine
    await engine.terminate_workflow(NS, "g-2", run_id=None, reason="counted as failed")
    # Three runs are open (pending), one completed, one terminated.
    assert await engine.count_workflows(NS, limit=2) == {
        "workflow_count": 4,
        "by_status": {"running": 2, "completed": 1, "failed": 1},
        "at_least": ["running"],
    }
    exact = await engine.count_workflows(NS, limit=3)
    assert exact["by_status"] == {"running": 3, "completed": 1, "failed": 1} and exact["at_least"] == []
    assert await engine.count_workflows(NS, limit=1, task_queue="q2") == {
        "workflow_count": 2,
        "by_status": {"running": 1, "completed": 0, "failed": 1},
        "at_least": [],
    }
    assert (await engine.count_workflows(NS, limit=1, query="o-"))["at_least"] == ["running"]


async def test_a_limited_count_reads_a_bounded_range_of_the_status_index(
    engine: Engine, clock: FakeClock
) -> None:
    """Each status's count stops after ``cap + 1`` runs; on SQLite each is a covering range of
    ``ix_workflow_runs_status_namespace_started``."""
    await _bulk_runs(engine, NS, ROWS, clock())
    stmt = count_statement([t.workflow_runs.c.namespace == NS], ["completed", "pending"], cap=100)
    if engine.store.dialect == "sqlite":
        async with engine._read() as tx:
            compiled = stmt.compile(
                compile_kwargs={"literal_binds": True}, dialect=sa.dialects.sqlite.dialect()
            )
            plan = " ".join(str(r) for r in await tx.all(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert plan.count("COVERING INDEX ix_workflow_runs_status_namespace_started") == 2, plan
    else:
        async with engine._tx() as tx:
            await tx.conn.execute(sa.text("ANALYZE workflow_runs"))
        async with engine._read() as tx:
            compiled = stmt.compile(
                compile_kwargs={"literal_binds": True}, dialect=sa.dialects.postgresql.dialect()
            )
            plan = " ".join(str(r) for r in await tx.all(sa.text(f"EXPLAIN {compiled}")))
        # Every run is completed, so PostgreSQL may read that branch from the table in any
        # order: either way each branch stops under its Limit, as the rare status's index range.
        assert plan.count("Limit") == 2, plan
        assert "Index Only Scan using ix_workflow_runs_status_namespace_started" in plan, plan
    async with engine._read() as tx:
        counted = {row["status"]: row["runs"] for row in await tx.all(stmt)}
    assert counted == {"completed": 101, "pending": 0}, "stops after cap + 1"
