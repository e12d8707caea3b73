"""Search-attribute values against their registered types: at start, on upsert, in the index.

A start whose value does not fit its type is refused before anything is written; so is a
workflow-task completion whose ``upsert_search_attributes`` does not fit (the task stays with its
worker). The typed index rows follow the run's values through start, upsert and continue-as-new.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import StartWorkflowRequest
from durable_workflow_server.engine.errors import ValidationFailed
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.helpers.live_app import snapshot
from tests.server.engine.engine_driver import NS, Driver
from tests.server.engine.statements import recorded

TYPES = {
    "Customer": "keyword",
    "Notes": "text",
    "Priority": "int",
    "Score": "double",
    "Vip": "bool",
    "DueAt": "datetime",
    "Tags": "keyword_list",
}


@pytest.fixture
async def typed(driver: Driver) -> Driver:
    for name, kind in TYPES.items():
        await driver.engine.create_search_attribute(NS, name, kind)
    return driver


async def index_rows(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    v = t.search_attribute_values
    async with engine._read() as tx:
        return await tx.all(sa.select(v).where(v.c.run_id == run_id).order_by(v.c.name, v.c.ordinal))


async def test_a_start_reads_the_registered_types_once(typed: Driver) -> None:
    with recorded(typed.engine) as seen:
        started = await typed.start(search_attributes={"Priority": "3", "Customer": "c-1"})
    reads = [s for s, _ in seen if "FROM search_attribute_definitions" in s]
    assert len(reads) == 1  # the check's read; the index rows are written by the same types
    rows = await index_rows(typed.engine, started["run_id"])
    assert [(r["name"], r["value_int"], r["value_keyword"]) for r in rows] == [
        ("Customer", None, "c-1"),
        ("Priority", 3, None),
    ]


async def test_values_are_normalised_to_their_types(typed: Driver) -> None:
    started = await typed.start(
        search_attributes={
            "Customer": "cust-42",
            "Notes": "refund asked",
            "Priority": "3",  # the CLI sends every value as text
            "Score": 2,
            "Vip": "true",
            "DueAt": "2026-04-22T07:00:00+02:00",
            "Tags": ["rush", "gift"],
            "Unregistered": "kept as sent",
            "Gone": None,  # null: no value
        }
    )
    described = await typed.engine.describe_run(NS, "wf-1", started["run_id"])
    assert described["search_attributes"] == {
        "Customer": "cust-42",
        "Notes": "refund asked",
        "Priority": 3,
        "Score": 2.0,
        "Vip": True,
        "DueAt": "2026-04-22T05:00:00.000000Z",
        "Tags": ["rush", "gift"],
        "Unregistered": "kept as sent",
    }
    rows = {(r["name"], r["ordinal"]): r for r in await index_rows(typed.engine, started["run_id"])}
    assert rows["Priority", 0]["value_int"] == 3 and rows["Score", 0]["value_double"] == 2.0
    assert rows["Vip", 0]["value_bool"] is True
    assert rows["DueAt", 0]["value_datetime"].isoformat() == "2026-04-22T05:00:00+00:00"
    assert [rows["Tags", i]["value_keyword"] for i in (0, 1)] == ["rush", "gift"]
    assert rows["Unregistered", 0]["value_keyword"] == "kept as sent"
    assert all(r["namespace"] == NS for r in rows.values())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Customer", 42),
        ("Notes", ["a"]),
        ("Priority", "high"),
        ("Priority", 2.5),
        ("Priority", True),
        ("Priority", 2**63),
        ("Score", "NaN"),
        ("Score", False),
        ("Vip", "yes"),
        ("Vip", 1),
        ("DueAt", "tomorrow"),
        ("DueAt", 1745298000),
        ("Tags", [1, 2]),
        ("Tags", {"a": 1}),
        ("WorkflowType", "forged"),  # the server's own attribute
    ],
)
async def test_a_wrong_typed_start_writes_nothing(typed: Driver, db_url: str, name: str, value: Any) -> None:
    before = await snapshot(db_url)
    with pytest.raises(ValidationFailed) as refused:
        await typed.start(search_attributes={"Customer": "ok", name: value})
    assert list(refused.value.errors) == [f"search_attributes.{name}"]
    assert name in refused.value.errors[f"search_attributes.{name}"][0]
    assert await snapshot(db_url) == before


async def test_upserts_are_checked_and_indexed(typed: Driver, db_url: str) -> None:
    started = await typed.start(search_attributes={"Priority": 1, "Tags": ["a"]})
    task = await typed.poll_wf()
    assert task is not None
    before = await snapshot(db_url)
    bad = [
        {"type": "upsert_search_attributes", "attributes": {"Priority": "high", "Vip": True}},
        {"type": "upsert_search_attributes", "attributes": {"StartTime": "2026-01-01T00:00:00Z"}},
    ]
    with pytest.raises(ValidationFailed) as refused:
        await typed.complete_wf(task, bad)
    assert set(refused.value.errors) == {"commands.0.attributes.Priority", "commands.1.attributes.StartTime"}
    assert "int attribute" in refused.value.errors["commands.0.attributes.Priority"][0]
    assert await snapshot(db_url) == before  # the task is still leased; nothing recorded

    good = {"type": "upsert_search_attributes", "attributes": {"Priority": "7", "Tags": None, "Vip": True}}
    await typed.complete_wf(task, [good])
    described = await typed.engine.describe_run(NS, "wf-1", started["run_id"])
    assert described["search_attributes"] == {"Priority": 7, "Vip": True}
    rows = await index_rows(typed.engine, started["run_id"])
    assert [(r["name"], r["value_int"], r["value_bool"]) for r in rows] == [
        ("Priority", 7, None),
        ("Vip", None, True),
    ]


async def test_continue_as_new_carries_the_index(typed: Driver) -> None:
    started = await typed.start(search_attributes={"Priority": 2})
    task = await typed.poll_wf()
    assert task is not None
    await typed.complete_wf(
        task,
        [
            {"type": "upsert_search_attributes", "attributes": {"Customer": "c-9"}},
            {"type": "continue_as_new", "arguments": None},
        ],
    )
    described = await typed.engine.describe_workflow(NS, "wf-1")
    assert described["run_id"] != started["run_id"]
    rows = await index_rows(typed.engine, described["run_id"])
    assert {(r["name"], r["value_keyword"] or r["value_int"]) for r in rows} == {
        ("Customer", "c-9"),
        ("Priority", 2),
    }
    page = await typed.engine.list_workflows(
        NS, workflow_type=None, status=None, query="Customer = 'c-9'", page_size=10, next_page_token=None
    )
    # Both runs of the chain carry the value (the old one from its upsert).
    assert {w["run_id"] for w in page["workflows"]} == {started["run_id"], described["run_id"]}


async def test_values_are_namespace_scoped(make_engine: Any) -> None:
    engine: Engine = await make_engine(default_namespace="billing")
    await engine.create_search_attribute(NS, "Priority", "int")
    other = Driver(engine)
    # "billing" has no Priority attribute: its value is kept as sent, unchecked.
    request_ns = "billing"
    await engine.start_workflow(
        request_ns,
        StartWorkflowRequest(
            workflow_type="greeter",
            input=codec.envelope([]),
            workflow_id="b-1",
            search_attributes={"Priority": "high"},
        ),
    )
    with pytest.raises(ValidationFailed):
        await other.start(workflow_id="a-1", search_attributes={"Priority": "high"})
    await other.start(workflow_id="a-1", search_attributes={"Priority": 5})
    found = await engine.list_workflows(
        NS, workflow_type=None, status=None, query="Priority >= 1", page_size=10, next_page_token=None
    )
    assert [w["workflow_id"] for w in found["workflows"]] == ["a-1"]
    # In "billing" Priority is not registered: a query on it is refused, not answered from "default".
    with pytest.raises(ValidationFailed) as refused:
        await engine.list_workflows(
            request_ns,
            workflow_type=None,
            status=None,
            query="Priority >= 1",
            page_size=10,
            next_page_token=None,
        )
    assert "Unknown search attribute 'Priority'" in refused.value.errors["query"][0]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("K" * 200, "x"),
        ("", "x"),
        ("9lives", "x"),
        ("bad-key", "x"),
        ("Score", 10**400),
        ("DueAt", "0001-01-01T00:00:00+14:00"),
    ],
    ids=["long_key", "empty_key", "digit_first", "dash", "huge_double", "no_utc_instant"],
)
async def test_an_upsert_with_a_bad_key_or_value_is_refused(
    typed: Driver, db_url: str, key: str, value: Any
) -> None:
    # Review M3/M5: the start's key rule holds for upserts too (the column is 128 wide: a
    # PostgreSQL DataError, a 500 and a task retried forever); a huge double or an instant
    # without a UTC moment is a field error, not an OverflowError.
    await typed.start()
    task = await typed.poll_wf()
    assert task is not None
    before = await snapshot(db_url)
    with pytest.raises(ValidationFailed) as refused:
        await typed.complete_wf(task, [{"type": "upsert_search_attributes", "attributes": {key: value}}])
    assert list(refused.value.errors) == [f"commands.0.attributes.{key}"]
    assert await snapshot(db_url) == before
