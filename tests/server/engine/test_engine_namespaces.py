"""Namespaces in the engine: CRUD, the storage policy, the hard delete, and isolation between them."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import RegisterWorkerRequest, StartWorkflowRequest
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.namespaces.api import (
    CreateNamespaceRequest,
    ExternalStoragePolicyRequest,
    UpdateNamespaceRequest,
)
from durable_workflow_server.engine.namespaces.deletion import NOUNS
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.signals.receiving import SignalRequest
from durable_workflow_server.store import tables as t
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
    listed = {
        table.name
        for noun in NOUNS
        for table in (*noun.dependents, *((noun.counted,) if noun.counted is not None else ()))
    }
    scoped = {table.name for table in t.ALL_TABLES if "namespace" in table.c and table is not t.namespaces}
    assert scoped - listed == set(), (
        "a table with a namespace column is not deleted with its namespace: add it to NOUNS in "
        "engine/namespaces/deletion.py"
    )
    assert listed - scoped == set(), "NOUNS lists a table that has no namespace column"


async def test_workflow_reads_in_one_namespace_never_show_another_namespaces_runs(engine: Engine) -> None:
    for name in ("tenant-a", "tenant-b"):
        await engine.create_namespace(CreateNamespaceRequest(name))
    await populate(engine, "tenant-a", "a")
    listing: dict[str, Any] = dict(
        workflow_type=None, status=None, query=None, page_size=100, next_page_token=None
    )
    in_a = await engine.list_workflows("tenant-a", **listing)
    assert sorted(w["workflow_id"] for w in in_a["workflows"]) == ["a-1", "a-2"]
    in_b = await engine.list_workflows("tenant-b", **listing)
    assert (in_b["workflows"], in_b["workflow_count"]) == ([], 0)
    run_id = in_a["workflows"][0]["run_id"]
    for read in (
        engine.describe_workflow("tenant-b", "a-1"),
        engine.list_runs("tenant-b", "a-1"),
        engine.describe_run("tenant-b", "a-1", run_id),
    ):
        with pytest.raises(DomainError) as refused:
            await read
        assert refused.value.reason in ("instance_not_found", "run_not_found")
    # A start in B cannot take over A's workflow id either.
    request = StartWorkflowRequest(
        workflow_type="greeter", input=codec.envelope([]), workflow_id="a-1", task_queue="q"
    )
    with pytest.raises(DomainError) as reserved:
        await engine.start_workflow("tenant-b", request)
    assert reserved.value.reason == "workflow_id_reserved_in_namespace"
