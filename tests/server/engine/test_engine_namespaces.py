"""Namespaces in the engine: CRUD, the storage policy, the hard delete, and isolation between them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import RegisterWorkerRequest, StartWorkflowRequest
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.namespaces.api import (
    CreateNamespaceRequest,
    ExternalStoragePolicyRequest,
    UpdateNamespaceRequest,
)
from durable_workflow_server.engine.namespaces.deletion import delete_statement, owned_tables
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.signals.receiving import SignalRequest
from durable_workflow_server.store import tables as t
from durable_workflow_server.store.base import upgrade
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import activity, timer


async def populate(engine: Engine, namespace: str, prefix: str) -> None:
    """Rows in every run table: two runs, a leased task, an activity attempt, a timer, a signal."""
    worker = f"{prefix}-worker"
    await engine.register_worker(
        namespace, RegisterWorkerRequest(task_queue="q", runtime="python", worker_id=worker)
    )
    for n in (1, 2):
        request = StartWorkflowRequest(
            workflow_type="greeter", input=codec.envelope(["x"]), workflow_id=f"{prefix}-{n}", task_queue="q"
        )
        await engine.start_workflow(namespace, request)
    task = await engine.poll_workflow_task(
        namespace,
        worker_id=worker,
        task_queue="q",
        build_id=None,
        poll_request_id="p1",
        history_page_size=None,
        timeout=1.0,
    )
    assert task is not None
    await engine.complete_workflow_task(
        namespace,
        task["task_id"],
        lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"],
        commands=[activity(), timer(3600)],
    )
    attempt = await engine.poll_activity_task(
        namespace, worker_id=worker, task_queue="q", build_id=None, timeout=1.0
    )
    assert attempt is not None
    blob = codec.envelope(["hi"])
    await engine.signal_workflow(
        namespace, SignalRequest(f"{prefix}-2", "nudge", blob["codec"], blob["blob"], request_id="r1")
    )


async def rows_by_table(engine: Engine, namespace: str) -> dict[str, list[str]]:
    """Every row with ``namespace``, per namespace-scoped table, as sorted text."""
    found: dict[str, list[str]] = {}
    async with engine._read() as tx:
        for table in t.ALL_TABLES:
            if "namespace" in table.c:
                rows = await tx.all(sa.select(table).where(table.c.namespace == namespace))
                found[table.name] = sorted(repr(sorted(row.items())) for row in rows)
    return found


async def test_create_describe_update_list(make_engine: EngineFactory, clock: FakeClock) -> None:
    engine = await make_engine(history_retention_days=45)
    clock.advance(1)  # after "default", created when the engine opened
    created = await engine.create_namespace(CreateNamespaceRequest("Billing", "Billing workflows"))
    assert created == {
        "name": "billing",
        "description": "Billing workflows",
        "retention_days": 45,  # DW_HISTORY_RETENTION_DAYS when the caller gives none
        "status": "active",
        "external_payload_storage": None,
        "created_at": "2026-03-01T12:00:01.000000Z",
        "updated_at": "2026-03-01T12:00:01.000000Z",
    }
    assert await engine.describe_namespace("BILLING") == created
    assert await engine.namespace_exists("billing")

    clock.advance(60)
    updated = await engine.update_namespace("billing", UpdateNamespaceRequest(retention_days=120))
    assert (updated["description"], updated["retention_days"]) == ("Billing workflows", 120)
    assert (updated["created_at"], updated["updated_at"]) == (
        created["created_at"],
        "2026-03-01T12:01:01.000000Z",
    )
    described = await engine.update_namespace("billing", UpdateNamespaceRequest(description="Reports"))
    assert (described["description"], described["retention_days"]) == ("Reports", 120)

    clock.advance(60)
    await engine.create_namespace(CreateNamespaceRequest("archive", None, 7))
    listed = await engine.list_namespaces()
    assert [n["name"] for n in listed["namespaces"]] == ["default", "billing", "archive"]
    only = await engine.list_namespaces(frozenset({"archive", "nowhere"}))
    assert [n["name"] for n in only["namespaces"]] == ["archive"]


async def test_duplicate_and_unknown_names_are_refused(engine: Engine) -> None:
    await engine.create_namespace(CreateNamespaceRequest("billing", "first", 10))
    with pytest.raises(DomainError) as duplicate:
        await engine.create_namespace(CreateNamespaceRequest("BILLING", "second", 20))
    assert (duplicate.value.reason, duplicate.value.extra) == (
        "namespace_already_exists",
        {"namespace": "billing"},
    )
    assert (await engine.describe_namespace("billing"))["description"] == "first"

    policy = ExternalStoragePolicyRequest("local")
    for call in (
        engine.describe_namespace("Nope"),
        engine.update_namespace("Nope", UpdateNamespaceRequest(description="x")),
        engine.delete_namespace("Nope"),
        engine.set_namespace_external_storage("Nope", policy),
    ):
        with pytest.raises(DomainError) as missing:
            await call
        assert (missing.value.reason, missing.value.extra) == ("namespace_not_found", {"namespace": "nope"})
    assert sorted(n["name"] for n in (await engine.list_namespaces())["namespaces"]) == ["billing", "default"]


async def test_the_storage_policy_is_normalised_persisted_and_replaced(engine: Engine) -> None:
    await engine.create_namespace(CreateNamespaceRequest("billing"))
    config = {"disk": "objects", "bucket": "dw", "prefix": "", "region": None, "custom": 3}
    body = await engine.set_namespace_external_storage(
        "billing", ExternalStoragePolicyRequest("s3", True, 2048, config)
    )
    want = {
        "driver": "s3",
        "enabled": True,
        "threshold_bytes": 2048,
        "config": {"disk": "objects", "bucket": "dw", "custom": 3},
    }
    assert body["external_payload_storage"] == want
    assert (await engine.describe_namespace("billing"))["external_payload_storage"] == want

    # A new policy replaces the old one whole: no threshold or config survives from it.
    replaced = await engine.set_namespace_external_storage(
        "billing", ExternalStoragePolicyRequest("local", False, None, {"uri": ""})
    )
    assert replaced["external_payload_storage"] == {"driver": "local", "enabled": False}
    assert (await engine.describe_namespace("default"))["external_payload_storage"] is None


async def test_delete_removes_every_row_of_the_namespace_and_nothing_else(engine: Engine) -> None:
    for name in ("billing", "reports"):
        await engine.create_namespace(CreateNamespaceRequest(name))
    await populate(engine, "billing", "b")
    await populate(engine, "reports", "r")
    before = await rows_by_table(engine, "billing")
    kept = await rows_by_table(engine, "reports")
    # The population reaches the run tables the delete must clear (not a vacuous test).
    for table in (
        "workflow_runs",
        "history_events",
        "workflow_tasks",
        "activity_attempts",
        "timers",
        "signals",
    ):
        assert before[table], table

    answer = await engine.delete_namespace("Billing")
    assert answer == {
        "name": "billing",
        "status": "deleted",
        "deleted": {
            "workflow_runs": 2,
            "workflow_schedules": 0,
            "search_attribute_definitions": 0,
            "workflow_worker_registrations": 1,
        },
    }
    assert all(rows == [] for rows in (await rows_by_table(engine, "billing")).values())
    assert await rows_by_table(engine, "reports") == kept
    assert not await engine.namespace_exists("billing")
    with pytest.raises(DomainError):
        await engine.describe_namespace("billing")

    # The workflow ids are free again, in any namespace.
    request = StartWorkflowRequest(
        workflow_type="greeter", input=codec.envelope([]), workflow_id="b-1", task_queue="q"
    )
    assert (await engine.start_workflow("reports", request))["outcome"] == "started_new"


def test_every_namespace_scoped_table_is_deleted_with_its_namespace() -> None:
    listed = [owned.table.name for owned in owned_tables()]
    assert len(listed) == len(set(listed))
    scoped = {table.name for table in t.ALL_TABLES if "namespace" in table.c and table is not t.namespaces}
    assert scoped - set(listed) == set(), (
        "a table with a namespace column is not deleted with its namespace: add it to NOUNS in "
        "engine/namespaces/deletion.py"
    )
    assert set(listed) - scoped == set(), "NOUNS lists a table that has no namespace column"


def test_the_delete_reaches_every_table_through_an_index(tmp_path: Path) -> None:
    """No statement of the delete scans a whole table (every tenant's rows, under the write lock)."""
    path = tmp_path / "plans.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        upgrade(conn)
    plans = sqlite3.connect(path)
    try:
        for owned in owned_tables():
            compiled = delete_statement(owned).compile(dialect=sqlite.dialect())
            values = [compiled.params[name] or "tenant" for name in compiled.positiontup or ()]
            plan = [row[3] for row in plans.execute(f"EXPLAIN QUERY PLAN {compiled}", values)]
            assert plan and not [step for step in plan if step.startswith("SCAN")], (owned.table.name, plan)
    finally:
        plans.close()
        engine.dispose()


async def test_the_default_namespace_cannot_be_deleted(make_engine: EngineFactory) -> None:
    engine = await make_engine(default_namespace="main")
    await populate(engine, "main", "m")
    kept = await rows_by_table(engine, "main")
    for name in ("default", "MAIN"):
        with pytest.raises(DomainError) as refused:
            await engine.delete_namespace(name)
        assert refused.value.reason == "default_namespace_protected"
        assert refused.value.extra == {"namespace": name.lower()}
    assert await rows_by_table(engine, "main") == kept
    assert await engine.namespace_exists("default") and await engine.namespace_exists("main")


async def test_a_write_racing_a_delete_leaves_nothing_behind(make_engine: EngineFactory) -> None:
    """Two server processes on one database: B trusts its cached "billing exists" after A deleted it."""
    first, second = await make_engine(), await make_engine(namespace_cache_seconds=3600)
    await first.create_namespace(CreateNamespaceRequest("billing"))
    assert await second.namespace_exists("billing")  # cached by B for an hour
    await first.delete_namespace("billing")

    start = StartWorkflowRequest(
        workflow_type="greeter", input=codec.envelope([]), workflow_id="ghost", task_queue="q"
    )
    worker = RegisterWorkerRequest(task_queue="q", runtime="python", worker_id="ghost-worker")
    for write in (second.start_workflow("billing", start), second.register_worker("billing", worker)):
        with pytest.raises(DomainError) as refused:
            await write
        assert refused.value.reason == "namespace_not_found"
    assert all(rows == [] for rows in (await rows_by_table(first, "billing")).values())

    # A namespace created again under the name starts empty.
    await first.create_namespace(CreateNamespaceRequest("billing"))
    listing: dict[str, Any] = dict(
        workflow_type=None, status=None, query=None, page_size=100, next_page_token=None
    )
    assert (await second.list_workflows("billing", **listing))["workflows"] == []


async def test_creating_a_namespace_clears_rows_left_under_its_name(engine: Engine) -> None:
    await engine.create_namespace(CreateNamespaceRequest("billing"))
    await populate(engine, "billing", "b")
    # Rows under a name that has no namespace row any more (as a server before the
    # in-transaction check could leave them).
    async with engine._tx() as tx:
        await tx.conn.execute(sa.delete(t.namespaces).where(t.namespaces.c.name == "billing"))
    assert (await rows_by_table(engine, "billing"))["workflow_runs"]
    await engine.create_namespace(CreateNamespaceRequest("billing"))
    assert all(rows == [] for rows in (await rows_by_table(engine, "billing")).values())
