"""The search-attribute registry through the real app and the SDK: list, create, delete, refusals.

SQLite and PostgreSQL (the e2e database matrix). Refusals get the documented envelope and
write nothing; each namespace has its own registry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from durable_workflow import Client, InvalidArgument, SearchAttributeNotFound
from durable_workflow.client import BridgeAdapterOutcome, SearchAttributeList
from durable_workflow_server.engine.search_attributes.types import MAX_CUSTOM_ATTRIBUTES
from tests.helpers.e2e_env import e2e_settings, running_app, sdk_client
from tests.helpers.live_app import snapshot

SYSTEM = {
    "WorkflowType": "keyword",
    "WorkflowId": "keyword",
    "RunId": "keyword",
    "Status": "keyword",
    "StartTime": "datetime",
    "CloseTime": "datetime",
    "TaskQueue": "keyword",
    "BuildId": "keyword",
}


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    # A second namespace ("billing") exists next to "default".
    async with running_app(e2e_settings(database_url, default_namespace="billing")) as started:
        yield started


@pytest.fixture
async def billing(app: Any) -> AsyncIterator[Client]:
    async with sdk_client(app, namespace="billing") as sdk:
        yield sdk


async def test_system_attributes_are_always_listed(client: Client) -> None:
    listed = await client.list_search_attributes()
    assert isinstance(listed, SearchAttributeList)
    assert listed.system_attributes == SYSTEM
    assert listed.custom_attributes == {}
    assert "StartTime" in listed and listed.type_of("StartTime") == "datetime"


async def test_create_list_delete(client: Client) -> None:
    for name, kind in [("Priority", "int"), ("OrderStatus", "keyword"), ("Tags", "keyword_list")]:
        assert await client.create_search_attribute(name, kind) == {
            "name": name,
            "type": kind,
            "outcome": "created",
        }
    for kind in ("text", "double", "bool", "datetime"):
        await client.create_search_attribute(f"A{kind}", kind)
    listed = await client.list_search_attributes()
    assert list(listed.custom_attributes) == sorted(listed.custom_attributes)  # sorted by name
    assert listed.custom_attributes["Priority"] == "int"
    assert listed.custom_attributes["Tags"] == "keyword_list"
    assert len(listed.custom_attributes) == 7
    assert listed.system_attributes == SYSTEM

    assert await client.delete_search_attribute("Priority") == {"name": "Priority", "outcome": "deleted"}
    assert "Priority" not in (await client.list_search_attributes()).custom_attributes
    with pytest.raises(SearchAttributeNotFound) as gone:
        await client.delete_search_attribute("Priority")
    assert gone.value.status_code == 404 and gone.value.reason == "attribute_not_found"
    # A deleted name can be registered again, with another type.
    await client.create_search_attribute("Priority", "double")
    assert (await client.list_search_attributes()).custom_attributes["Priority"] == "double"


@pytest.mark.parametrize(
    ("name", "kind", "status", "reason"),
    [
        ("WorkflowType", "keyword", 409, "name_reserved"),
        ("starttime", "datetime", 409, "name_reserved"),  # a system name in another case
        ("1Bad", "keyword", 422, "validation_failed"),
        ("has-dash", "keyword", 422, "validation_failed"),
        ("A" * 129, "keyword", 422, "validation_failed"),
        ("Fine", "float", 422, "validation_failed"),
        ("", "keyword", 422, "validation_failed"),
    ],
)
async def test_refused_creates_write_nothing(
    client: Client, database_url: str, name: str, kind: str, status: int, reason: str
) -> None:
    before = await snapshot(database_url)
    with pytest.raises(InvalidArgument) as refused:
        await client.create_search_attribute(name, kind)
    assert (refused.value.status_code, refused.value.reason) == (status, reason)
    assert await snapshot(database_url) == before


async def test_duplicate_names_the_existing_definition(client: Client, database_url: str) -> None:
    await client.create_search_attribute("OrderStatus", "keyword")
    before = await snapshot(database_url)
    with pytest.raises(InvalidArgument) as duplicate:
        await client.create_search_attribute("OrderStatus", "int")
    assert duplicate.value.status_code == 409 and duplicate.value.reason == "attribute_already_exists"
    assert duplicate.value.body["name"] == "OrderStatus" and duplicate.value.body["type"] == "keyword"
    assert await snapshot(database_url) == before


async def test_system_attributes_cannot_be_deleted(client: Client, database_url: str) -> None:
    before = await snapshot(database_url)
    with pytest.raises(InvalidArgument) as refused:
        await client.delete_search_attribute("WorkflowType")
    assert refused.value.status_code == 409 and refused.value.reason == "system_attribute"
    assert await snapshot(database_url) == before


async def test_limit_per_namespace(client: Client, billing: Client, database_url: str) -> None:
    for i in range(MAX_CUSTOM_ATTRIBUTES):
        await client.create_search_attribute(f"Attr{i}", "keyword")
    before = await snapshot(database_url)
    with pytest.raises(InvalidArgument) as full:
        await client.create_search_attribute("OneTooMany", "keyword")
    assert full.value.status_code == 422 and full.value.reason == "search_attribute_limit_reached"
    assert full.value.body["limit"] == MAX_CUSTOM_ATTRIBUTES
    assert await snapshot(database_url) == before
    # The limit is per namespace: another namespace still has room.
    await billing.create_search_attribute("OneTooMany", "keyword")


async def test_each_namespace_has_its_own_registry(client: Client, billing: Client) -> None:
    await client.create_search_attribute("Priority", "int")
    assert (await billing.list_search_attributes()).custom_attributes == {}
    with pytest.raises(SearchAttributeNotFound):
        await billing.delete_search_attribute("Priority")
    # The same name in another namespace is another attribute, with its own type.
    await billing.create_search_attribute("Priority", "keyword")
    assert (await client.list_search_attributes()).custom_attributes == {"Priority": "int"}
    assert (await billing.list_search_attributes()).custom_attributes == {"Priority": "keyword"}
    await billing.delete_search_attribute("Priority")
    assert (await client.list_search_attributes()).custom_attributes == {"Priority": "int"}


async def test_the_documented_calls_as_written(client: Client) -> None:
    """The product docs' Search Attributes table and Bridge Events sentence, call by call."""
    listed = await client.list_search_attributes()  # -> SearchAttributeList
    assert isinstance(listed, SearchAttributeList) and "WorkflowType" in listed.system_attributes
    for attribute_type in ("keyword", "text", "int", "double", "bool", "datetime", "keyword_list"):
        created = await client.create_search_attribute(
            name=f"Doc_{attribute_type}", attribute_type=attribute_type
        )
        assert isinstance(created, dict) and created["outcome"] == "created"
    with pytest.raises(InvalidArgument):  # duplicate names
        await client.create_search_attribute(name="Doc_int", attribute_type="int")
    with pytest.raises(InvalidArgument):  # unsupported types
        await client.create_search_attribute(name="Doc_float", attribute_type="float")
    deleted = await client.delete_search_attribute(name="Doc_text")
    assert isinstance(deleted, dict) and deleted["outcome"] == "deleted"
    with pytest.raises(SearchAttributeNotFound):
        await client.delete_search_attribute(name="Doc_text")
    with pytest.raises(InvalidArgument):  # system-defined
        await client.delete_search_attribute(name="StartTime")

    # The CLI-parity guide's start, with keys nobody registered (kept as sent).
    handle = await client.start_workflow(
        workflow_type="orders.process",
        workflow_id="wf-polyglot-231",
        task_queue="orders",
        input=[{"order_id": 42, "priority": "gold"}],
        memo={"source": "polyglot-fixture"},
        search_attributes={"CustomerId": "cust-42", "Tier": "gold"},
        execution_timeout_seconds=300,
        run_timeout_seconds=120,
        duplicate_policy="use-existing",
    )
    described = await client.describe_workflow(handle.workflow_id)
    assert described.search_attributes == {"CustomerId": "cust-42", "Tier": "gold"}

    outcome = await client.send_webhook_bridge_event(
        "stripe",
        action="start_workflow",
        target={"workflow_type": "orders.fulfillment", "task_queue": "external-workflows"},
        input={"order_id": "order-231", "amount_cents": 1299},
        idempotency_key="stripe-event-231",
        correlation=None,
    )
    assert isinstance(outcome, BridgeAdapterOutcome) and outcome.accepted
