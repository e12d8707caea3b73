"""Starting workflows: ids, duplicate policy (D1, D13), reuse after close, and rejected input."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import StartWorkflowRequest
from durable_workflow_server.engine.errors import DomainError, ValidationFailed
from durable_workflow_server.engine.namespaces.api import CreateNamespaceRequest
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, Driver, complete


async def _row_counts(engine: Engine) -> dict[str, int]:
    counts = {}
    async with engine.store.read() as conn:
        for table in (t.workflow_instances, t.workflow_runs, t.history_events, t.workflow_tasks):
            counts[table.name] = (
                await conn.execute(sa.select(sa.func.count()).select_from(table))
            ).scalar_one()
    return counts


async def _finish(driver: Driver, value: object = "done") -> None:
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete(value)])


async def test_start_writes_history_and_a_ready_task(driver: Driver) -> None:
    body = await driver.start(
        memo={"source": "test"},
        search_attributes={"Tier": "gold"},
        business_key="bk-1",
        execution_timeout_seconds=300,
        run_timeout_seconds=120,
    )
    assert body == {
        "workflow_id": "wf-1",
        "run_id": body["run_id"],
        "workflow_type": "greeter",
        "namespace": NS,
        "status": "pending",
        "business_key": "bk-1",
        "payload_codec": "avro",
        "outcome": "started_new",
        "command_status": "accepted",
        "command_source": "control_plane",
        "reason": None,
        "rejection_reason": None,
    }
    assert re.fullmatch(r"[0-9a-z]{26}", body["run_id"])
    events = await driver.history("wf-1", body["run_id"])
    assert [e["event_type"] for e in events] == ["StartAccepted", "WorkflowStarted"]
    started = events[1]["payload"]
    assert started["workflow_instance_id"] == "wf-1" and started["workflow_run_id"] == body["run_id"]
    assert started["memo"] == {"source": "test"} and started["search_attributes"] == {"Tier": "gold"}
    assert started["payload_codec"] == "avro" and codec.decode_envelope(started["arguments"]) == ["Ada"]
    assert started["execution_timeout_seconds"] == 300 and started["run_deadline_at"] is not None
    assert started["timestamp"] == "2026-03-01T12:00:00.000000Z"  # the injected clock


async def test_generated_workflow_id_is_a_lower_case_ulid(driver: Driver) -> None:
    body = await driver.start(workflow_id=None)
    assert re.fullmatch(r"[0-9a-z]{26}", body["workflow_id"])


async def test_duplicate_start_is_rejected_while_open(driver: Driver) -> None:
    first = await driver.start()
    before = await _row_counts(driver.engine)
    with pytest.raises(DomainError) as err:
        await driver.start()
    assert err.value.reason == "duplicate_not_allowed"
    assert err.value.extra["outcome"] == "rejected_duplicate"
    assert err.value.extra["rejection_reason"] == "instance_already_started"
    assert err.value.extra["run_id"] == first["run_id"]
    assert await _row_counts(driver.engine) == before


async def test_use_existing_returns_the_open_run(driver: Driver) -> None:
    first = await driver.start()
    again = await driver.start(duplicate_policy="use-existing")
    assert again["outcome"] == "returned_existing_active" and again["run_id"] == first["run_id"]


async def test_a_closed_workflow_id_can_start_a_new_run(driver: Driver) -> None:
    first = await driver.start()
    await _finish(driver)
    second = await driver.start()
    assert second["outcome"] == "started_new" and second["run_id"] != first["run_id"]
    described = await driver.engine.describe_workflow(NS, "wf-1")
    assert described["run_id"] == second["run_id"]
    assert (
        described["run_number"] == 2 and described["run_count"] == 2 and described["is_current_run"] is True
    )
    old = await driver.engine.describe_run(NS, "wf-1", first["run_id"])
    assert old["is_current_run"] is False and old["status"] == "completed"
    runs = await driver.engine.list_runs(NS, "wf-1")
    assert [r["run_number"] for r in runs["runs"]] == [1, 2] and runs["run_count"] == 2
    assert [r["is_current_run"] for r in runs["runs"]] == [False, True]


async def test_workflow_id_in_another_namespace_is_reserved(driver: Driver) -> None:
    await driver.start()
    await driver.engine.create_namespace(CreateNamespaceRequest("other"))
    request = StartWorkflowRequest(workflow_type="greeter", input=codec.envelope([]), workflow_id="wf-1")
    with pytest.raises(DomainError) as err:
        await driver.engine.start_workflow("other", request)
    assert err.value.reason == "workflow_id_reserved_in_namespace"


async def test_a_start_in_a_namespace_that_is_gone_is_refused(driver: Driver) -> None:
    # The HTTP guard looks the namespace up first; the start checks again inside its transaction.
    request = StartWorkflowRequest(workflow_type="greeter", input=codec.envelope([]), workflow_id="wf-9")
    with pytest.raises(DomainError) as err:
        await driver.engine.start_workflow("nowhere", request)
    assert (err.value.reason, err.value.extra) == ("namespace_not_found", {"namespace": "nowhere"})


async def test_different_type_for_an_open_id_is_a_validation_error(driver: Driver) -> None:
    await driver.start()
    with pytest.raises(ValidationFailed) as err:
        await driver.start(workflow_type="other-type")
    assert "workflow_type" in err.value.errors


async def test_unknown_workflow_and_run_are_not_found(driver: Driver) -> None:
    with pytest.raises(DomainError) as err:
        await driver.engine.describe_workflow(NS, "missing")
    assert err.value.reason == "instance_not_found"
    started = await driver.start()
    with pytest.raises(DomainError) as err:
        await driver.engine.describe_run(NS, "wf-1", "nope")
    assert err.value.reason == "run_not_found"
    with pytest.raises(DomainError) as err:
        await driver.engine.history_page(
            NS, "missing", started["run_id"], page_size=10, next_page_token=None, wait_new_event=False
        )
    assert err.value.reason == "run_not_found"
    with pytest.raises(DomainError) as err:
        await driver.engine.list_runs(NS, "missing")
    assert err.value.reason == "instance_not_found"
