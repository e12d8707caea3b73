"""The namespace methods of the SDK: what they send, what they read, the deprecated alias."""

from __future__ import annotations

import json
import warnings
from typing import Any

import httpx
import pytest

from durable_workflow import Client, ExternalPayloadStoragePolicy, NamespaceDescription, NamespaceList


def recording(answer: dict[str, Any]) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer, headers={"X-Durable-Workflow-Control-Plane-Version": "2"})

    return seen, httpx.MockTransport(handler)


def test_a_description_keeps_the_policy_mapping_and_only_integer_counts() -> None:
    body = {
        "name": "billing",
        "status": "deleted",
        "external_payload_storage": {"driver": "s3", "enabled": False, "threshold_bytes": "64", "config": []},
        "deleted": {"workflow_runs": 2, "note": "x", "flag": True, "workflow_schedules": 0},
    }
    described = NamespaceDescription.from_dict(body)
    # PHP's [] for an empty config is no config; a numeric text threshold is read as a number.
    assert described.external_payload_storage == {"driver": "s3", "enabled": False, "threshold_bytes": 64}
    policy = described.external_payload_storage
    assert isinstance(policy, dict) and isinstance(policy, ExternalPayloadStoragePolicy)
    # The docs branch on policy.enabled: the keys read as attributes too.
    assert (policy.driver, policy.enabled, policy.threshold_bytes, policy.config) == ("s3", False, 64, {})
    assert described.deleted == {"workflow_runs": 2, "workflow_schedules": 0}
    assert (described.description, described.retention_days, described.created_at) == (None, None, None)
    assert described.raw == body
    assert (
        NamespaceDescription.from_dict(
            {"name": "x", "external_payload_storage": {"enabled": True}}
        ).external_payload_storage
        is None
    )


def test_a_list_skips_items_that_are_not_objects() -> None:
    listed = NamespaceList.from_dict({"namespaces": [{"name": "a"}, "b", None, {"name": "c"}]})
    assert listed.names == ["a", "c"] and len(listed) == 2
    assert NamespaceList.from_dict({"namespaces": None}).names == []


async def test_the_deprecated_namespace_keyword_warns_and_sends_the_same_request() -> None:
    seen, transport = recording(
        {"name": "billing", "external_payload_storage": {"driver": "local", "enabled": True}}
    )
    async with Client("http://dw.test", token="t", transport=transport) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            await client.set_namespace_external_storage(
                "billing", driver="local", config={"uri": "file:///x"}
            )
        with pytest.warns(DeprecationWarning, match="deprecated"):
            described = await client.set_namespace_external_storage(
                namespace="billing", driver="local", config={"uri": "file:///x"}
            )
    assert described.external_payload_storage == {"driver": "local", "enabled": True}
    assert [r.url.path for r in seen] == ["/api/namespaces/billing/external-storage"] * 2
    assert (
        json.loads(seen[0].content)
        == json.loads(seen[1].content)
        == {
            "driver": "local",
            "enabled": True,
            "config": {"uri": "file:///x"},
        }
    )


async def test_set_external_storage_needs_one_name_and_a_driver() -> None:
    seen, transport = recording({})
    async with Client("http://dw.test", token="t", transport=transport) as client:
        with pytest.raises(TypeError, match="driver"):
            await client.set_namespace_external_storage("billing")
        with pytest.raises(TypeError, match="name"):
            await client.set_namespace_external_storage(driver="local")
        with pytest.raises(TypeError, match="not also"):
            await client.set_namespace_external_storage("billing", driver="local", namespace="billing")
    assert seen == []


async def test_names_are_percent_encoded_in_the_path() -> None:
    seen, transport = recording({"name": "a b"})
    async with Client("http://dw.test", token="t", transport=transport) as client:
        await client.describe_namespace("a b/c")
    assert seen[0].url.raw_path == b"/api/namespaces/a%20b%2Fc"
