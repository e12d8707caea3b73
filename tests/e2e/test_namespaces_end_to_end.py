"""Namespaces through the real SDK against the real app: CRUD, the storage policy, the delete,
and refusals (typed exceptions, nothing written)."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest

from durable_workflow import (
    Client,
    Forbidden,
    InvalidArgument,
    NamespaceDescription,
    NamespaceNotFound,
    ServerError,
)
from durable_workflow.sync import Client as SyncClient
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app, sdk_client
from tests.helpers.live_app import snapshot
from tests.helpers.socket_server import serving


async def test_namespace_lifecycle(app: Any, client: Client) -> None:
    created = await client.create_namespace("Billing", description="Billing workflows", retention_days=90)
    assert isinstance(created, NamespaceDescription)
    assert (created.name, created.description, created.retention_days, created.status) == (
        "billing",
        "Billing workflows",
        90,
        "active",
    )
    assert created.external_payload_storage is None and created.created_at and created.updated_at

    listed = await client.list_namespaces()
    assert listed.names == ["default", "billing"] and len(listed) == 2

    # Only the fields given change.
    renamed = await client.update_namespace("billing", description="Billing and reports")
    assert (renamed.description, renamed.retention_days) == ("Billing and reports", 90)
    kept = await client.update_namespace("billing", retention_days=120)
    assert (kept.description, kept.retention_days) == ("Billing and reports", 120)

    policy = await client.set_namespace_external_storage(
        "billing",
        driver="s3",
        threshold_bytes=2_097_152,
        config={
            "disk": "external-payload-objects",
            "bucket": "dw-payloads",
            "prefix": "billing/",
            "region": "",
        },
    )
    want = {
        "driver": "s3",
        "enabled": True,
        "threshold_bytes": 2_097_152,
        "config": {"disk": "external-payload-objects", "bucket": "dw-payloads", "prefix": "billing/"},
    }
    assert policy.external_payload_storage == want
    assert policy.retention_days == 120  # the full namespace comes back
    assert (await client.describe_namespace("BILLING")).external_payload_storage == want

    with pytest.warns(DeprecationWarning, match="namespace="):
        disabled = await client.set_namespace_external_storage(
            namespace="billing", driver="local", enabled=False
        )
    assert disabled.external_payload_storage == {"driver": "local", "enabled": False}

    # A workflow in the namespace goes with it.
    async with sdk_client(app, namespace="billing") as tenant:
        await tenant.start_workflow(workflow_type="greeter", task_queue="q", workflow_id="bill-1", input=[1])
    deleted = await client.delete_namespace("billing")
    assert (deleted.name, deleted.status) == ("billing", "deleted")
    assert deleted.deleted == {
        "workflow_runs": 1,
        "workflow_schedules": 0,
        "search_attribute_definitions": 0,
        "workflow_worker_registrations": 0,
    }
    with pytest.raises(NamespaceNotFound):
        await client.describe_namespace("billing")
    assert (await client.list_namespaces()).names == ["default"]


async def test_unknown_and_duplicate_names_raise_the_documented_exceptions(client: Client) -> None:
    for call in (
        client.describe_namespace("nope"),
        client.update_namespace("nope", description="x"),
        client.delete_namespace("nope"),
        client.set_namespace_external_storage("nope", driver="local"),
    ):
        with pytest.raises(NamespaceNotFound) as missing:
            await call
        assert missing.value.reason == "namespace_not_found"
    await client.create_namespace("billing")
    with pytest.raises(InvalidArgument) as duplicate:  # the docs' exception for a taken name
        await client.create_namespace("billing", description="again")
    assert duplicate.value.reason == "namespace_already_exists" and duplicate.value.status_code == 409
    assert (await client.describe_namespace("billing")).description is None
    with pytest.raises(ServerError) as protected:
        await client.delete_namespace("default")
    assert (protected.value.status_code, protected.value.reason) == (409, "default_namespace_protected")
    assert (await client.list_namespaces()).names == ["default", "billing"]


BAD: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("create: bad name", "POST", "/api/namespaces", {"name": "no spaces"}, "name"),
    ("create: no name", "POST", "/api/namespaces", {"description": "x"}, "name"),
    ("create: long name", "POST", "/api/namespaces", {"name": "n" * 129}, "name"),
    ("create: retention 0", "POST", "/api/namespaces", {"name": "ok", "retention_days": 0}, "retention_days"),
    (
        "create: retention 366",
        "POST",
        "/api/namespaces",
        {"name": "ok", "retention_days": 366},
        "retention_days",
    ),
    (
        "create: long description",
        "POST",
        "/api/namespaces",
        {"name": "ok", "description": "d" * 1001},
        "description",
    ),
    (
        "update: retention text",
        "PUT",
        "/api/namespaces/default",
        {"retention_days": "often"},
        "retention_days",
    ),
    ("update: description number", "PUT", "/api/namespaces/default", {"description": 5}, "description"),
    ("storage: no driver", "PUT", "/api/namespaces/default/external-storage", {"enabled": True}, "driver"),
    ("storage: ftp", "PUT", "/api/namespaces/default/external-storage", {"driver": "ftp"}, "driver"),
    (
        "storage: threshold 0",
        "PUT",
        "/api/namespaces/default/external-storage",
        {"driver": "local", "threshold_bytes": 0},
        "threshold_bytes",
    ),
    (
        "storage: enabled text",
        "PUT",
        "/api/namespaces/default/external-storage",
        {"driver": "local", "enabled": "yes"},
        "enabled",
    ),
    (
        "storage: config not an object",
        "PUT",
        "/api/namespaces/default/external-storage",
        {"driver": "s3", "config": ["disk"]},
        "config",
    ),
    (
        "storage: bucket too long",
        "PUT",
        "/api/namespaces/default/external-storage",
        {"driver": "s3", "config": {"bucket": "b" * 256}},
        "config.bucket",
    ),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "field"), BAD, ids=[b[0] for b in BAD])
async def test_bad_input_is_a_422_and_writes_nothing(
    app: Any, database_url: str, name: str, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    before = await snapshot(database_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.request(method, path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["reason"] == "validation_failed" and field in answer["errors"], answer
    assert await snapshot(database_url) == before


async def test_operators_may_read_namespaces_but_not_change_them(database_url: str) -> None:
    settings = e2e_settings(database_url, auth_token=None, operator_token="op", admin_token="adm")
    async with running_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with Client("http://t", token="op", transport=transport) as operator:
            assert (await operator.list_namespaces()).names == ["default"]
            assert (await operator.describe_namespace("default")).retention_days == 30
            before = await snapshot(database_url)
            for call in (
                operator.create_namespace("billing"),
                operator.update_namespace("default", description="x"),
                operator.set_namespace_external_storage("default", driver="local"),
                operator.delete_namespace("default"),
            ):
                with pytest.raises(Forbidden):
                    await call
            assert await snapshot(database_url) == before
        async with Client("http://t", token="adm", transport=transport) as admin:
            assert (await admin.create_namespace("billing")).name == "billing"


def test_the_sync_client_manages_namespaces(database_url: str) -> None:
    with serving(e2e_settings(database_url)) as url, SyncClient(url, token=TOKEN) as client:
        assert client.create_namespace("billing", retention_days=7).retention_days == 7
        assert client.describe_namespace("billing").name == "billing"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the current spelling warns about nothing
            stored = client.set_namespace_external_storage("billing", driver="local", threshold_bytes=10)
        assert stored.external_payload_storage == {"driver": "local", "enabled": True, "threshold_bytes": 10}
        assert client.delete_namespace("billing").deleted["workflow_runs"] == 0
        assert client.list_namespaces().names == ["default"]
