"""``POST /storage/test`` end to end: the real app (ASGI), the real engine and database, the SDK's
``Client.test_external_storage``, local directories and a real S3-compatible server (moto)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from durable_workflow import Client
from durable_workflow.errors import Forbidden, InvalidArgument
from durable_workflow_server import create_app
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.settings import parse_namespace_tokens
from durable_workflow_server.store import tables as t
from tests.helpers.e2e_env import TOKEN, e2e_settings
from tests.helpers.external_storage import local_policy, stored_files

ADMIN, OPERATOR, BILLING_ADMIN = "admin-token", "operator-token", "billing-admin-token"


class Server:
    """The app with its engine (to set namespace policies directly) and a storage root."""

    def __init__(self, app: Any, engine: Engine, root: Path) -> None:
        self.app, self.engine, self.root = app, engine, root

    def client(self, namespace: str = "default", token: str = ADMIN) -> Client:
        transport = httpx.ASGITransport(app=self.app)
        return Client("http://testserver", token=token, namespace=namespace, transport=transport)

    async def set_policy(self, namespace: str, policy: dict[str, Any] | None) -> None:
        """Create ``namespace`` if needed and set its policy through the SDK (the admin route)."""
        async with self.client() as client:
            if namespace not in (await client.list_namespaces()).names:
                await client.create_namespace(namespace)
            if policy is not None:
                await client.set_namespace_external_storage(
                    namespace,
                    driver=policy["driver"],
                    enabled=policy.get("enabled", True),
                    threshold_bytes=policy.get("threshold_bytes"),
                    config=policy.get("config"),
                )

    async def post(self, body: Any, namespace: str = "default", token: str = ADMIN) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Durable-Workflow-Control-Plane-Version": "2",
            "X-Namespace": namespace,
        }
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://t"
        ) as http:
            return await http.post("/api/storage/test", json=body, headers=headers)


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    settings = e2e_settings(
        database_url,
        auth_token=None,
        admin_token=ADMIN,
        operator_token=OPERATOR,
        namespace_tokens=parse_namespace_tokens(f"billing:admin:{BILLING_ADMIN}"),
        external_storage_dir=str(tmp_path / "server-default"),
    )
    engine = Engine(settings)
    app = create_app(settings, engine=engine)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield Server(app, engine, tmp_path / "payloads")


def digest(fill: bytes, size: int) -> str:
    return hashlib.sha256(fill * size).hexdigest()


async def test_a_local_policy_round_trips_both_payloads_and_leaves_nothing(server: Server) -> None:
    await server.set_policy("default", local_policy(server.root, threshold_bytes=65536))
    async with server.client() as client:
        result = await client.test_external_storage(
            small_payload_bytes=128, large_payload_bytes=3 * 1024 * 1024
        )
    assert result.passed and (result.namespace, result.driver) == ("default", "local")
    small, large = result.small_payload, result.large_payload
    assert small is not None and large is not None
    assert (small.bytes, small.sha256) == (128, digest(b"s", 128))
    assert (large.bytes, large.sha256) == (3 * 1024 * 1024, digest(b"l", 3 * 1024 * 1024))
    for payload in (small, large):
        assert payload.passed and payload.wrote and payload.read and payload.verified
        assert payload.latency_ms is not None and payload.latency_ms >= 0
        assert payload.reference_uri is not None
        assert Path(payload.reference_uri[len("file://") :]).is_relative_to(server.root)
    assert small.reference_uri != large.reference_uri
    assert stored_files(server.root) == []  # written, read back, deleted


async def test_without_sizes_the_server_writes_one_kib_and_one_mib(server: Server) -> None:
    await server.set_policy("default", local_policy(server.root))
    async with server.client() as client:
        result = await client.test_external_storage()
    assert result.small_payload is not None and result.large_payload is not None
    assert (result.small_payload.bytes, result.large_payload.bytes) == (1024, 1024 * 1024)


async def test_local_can_be_tested_without_a_policy_in_the_default_directory(
    server: Server, tmp_path: Path
) -> None:
    async with server.client() as client:
        result = await client.test_external_storage(
            driver="local", small_payload_bytes=1, large_payload_bytes=2
        )
    assert result.passed and result.driver == "local"
    assert result.large_payload is not None and result.large_payload.reference_uri is not None
    written = Path(result.large_payload.reference_uri[len("file://") :])
    assert written.is_relative_to(tmp_path / "server-default" / "default")
    assert not written.exists()


async def refusal(server: Server, body: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    response = await server.post(body, namespace)
    assert response.status_code == 422, response.text
    answer: dict[str, Any] = response.json()
    assert answer["status"] == "failed" and answer["namespace"] == namespace
    return answer


async def test_the_refusals_come_in_the_documented_order(server: Server) -> None:
    sizes = {"small_payload_bytes": 1, "large_payload_bytes": 1}
    # 1. no driver named, no policy
    answer = await refusal(server, sizes)
    assert (answer["reason"], answer["driver"]) == ("external_storage_not_configured", None)
    async with server.client() as client:
        with pytest.raises(InvalidArgument):
            await client.test_external_storage(small_payload_bytes=1, large_payload_bytes=1)
    # 2. disabled wins over a driver mismatch
    await server.set_policy("default", local_policy(server.root, enabled=False))
    answer = await refusal(server, {**sizes, "driver": "s3"})
    assert (answer["reason"], answer["driver"]) == ("external_storage_disabled", "s3")
    # 3. another driver than the policy's: only local can be tested without its own policy
    await server.set_policy("default", local_policy(server.root))
    answer = await refusal(server, {**sizes, "driver": "s3"})
    assert answer["reason"] == "storage_driver_unavailable"
    assert answer["supported_diagnostic_drivers"] == ["local"]
    # 4. the policy's driver cannot be built here
    await server.set_policy("default", {"driver": "gcs", "enabled": True, "config": {"bucket": "b"}})
    answer = await refusal(server, sizes)
    assert (answer["reason"], answer["driver"]) == ("storage_driver_unavailable", "gcs")
    assert answer["supported_diagnostic_drivers"] == ["local", "s3"]
    await server.set_policy("default", {"driver": "s3", "enabled": True, "config": {"bucket": "b"}})
    answer = await refusal(server, sizes)
    assert answer["reason"] == "storage_driver_unavailable" and "config.disk" in answer["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"small_payload_bytes": 0}, "small_payload_bytes", id="small zero"),
        pytest.param({"small_payload_bytes": 1_048_577}, "small_payload_bytes", id="small too big"),
        pytest.param({"large_payload_bytes": 16_777_217}, "large_payload_bytes", id="large too big"),
        pytest.param({"large_payload_bytes": "ten"}, "large_payload_bytes", id="large not an integer"),
        pytest.param({"driver": "ftp"}, "driver", id="unknown driver"),
    ],
)
async def test_bad_input_is_refused_and_writes_nothing(
    server: Server, body: dict[str, Any], field: str
) -> None:
    await server.set_policy("default", local_policy(server.root))
    response = await server.post(body)
    assert response.status_code == 422
    answer = response.json()
    assert answer["reason"] == "validation_failed" and field in answer["errors"]
    assert stored_files(server.root) == []


async def test_only_admins_may_test_storage(server: Server) -> None:
    await server.set_policy("default", local_policy(server.root))
    async with server.client(token=OPERATOR) as client:
        with pytest.raises(Forbidden):
            await client.test_external_storage()
    assert (await server.post({}, token=TOKEN)).status_code == 401
    assert stored_files(server.root) == []


async def test_each_namespace_tests_its_own_policy(server: Server, tmp_path: Path) -> None:
    await server.set_policy("default", local_policy(server.root))
    await server.set_policy("other", None)
    # The other namespace has no policy: it does not borrow default's.
    answer = await refusal(server, {}, namespace="other")
    assert answer["reason"] == "external_storage_not_configured"
    other_root = tmp_path / "other-payloads"
    await server.set_policy("other", local_policy(other_root))
    async with server.client("other") as client:
        result = await client.test_external_storage(small_payload_bytes=1, large_payload_bytes=1)
    assert result.namespace == "other" and result.large_payload is not None
    assert str(result.large_payload.reference_uri).startswith(other_root.as_uri())
    async with server.engine._read() as tx:  # a test stores nothing for any run
        assert await tx.all(sa.select(t.external_payloads)) == []


async def test_an_admin_bound_to_one_namespace_cannot_test_another(server: Server, tmp_path: Path) -> None:
    await server.set_policy("billing", local_policy(tmp_path / "billing"))
    await server.set_policy("default", local_policy(server.root))
    async with server.client("billing", token=BILLING_ADMIN) as client:
        assert (await client.test_external_storage(small_payload_bytes=1, large_payload_bytes=1)).passed
    async with server.client("default", token=BILLING_ADMIN) as client:
        with pytest.raises(Forbidden):
            await client.test_external_storage(small_payload_bytes=1, large_payload_bytes=1)
    assert stored_files(server.root) == [] and stored_files(tmp_path / "billing") == []


async def test_an_unknown_namespace_is_not_found(server: Server) -> None:
    response = await server.post({}, namespace="nope")
    assert response.status_code == 404 and response.json()["reason"] == "namespace_not_found"


async def test_an_s3_policy_round_trips_through_an_s3_compatible_server(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("moto")
    from tests.helpers.s3_server import s3_client, s3_server

    # moto keeps one in-memory S3 per process (other tests' buckets too): a bucket of our own.
    bucket = f"dw-storage-test-{uuid.uuid4().hex[:12]}"
    with s3_server() as endpoint:
        s3_client(endpoint).create_bucket(Bucket=bucket)
        # The disk binding: credentials stay in the server's environment, not in the policy.
        monkeypatch.setenv("DW_STORAGE_DISK_PAYLOAD_OBJECTS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("DW_STORAGE_DISK_PAYLOAD_OBJECTS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("DW_STORAGE_DISK_PAYLOAD_OBJECTS_ENDPOINT", endpoint)
        policy = {
            "driver": "s3",
            "enabled": True,
            "threshold_bytes": 65536,
            "config": {
                "disk": "payload-objects",
                "bucket": bucket,
                "prefix": "billing/",
                "region": "us-east-1",
            },
        }
        await server.set_policy("default", policy)
        async with server.client() as client:
            result = await client.test_external_storage(
                driver="s3", small_payload_bytes=128, large_payload_bytes=3 * 1024 * 1024
            )
        assert result.passed and result.driver == "s3"
        assert result.large_payload is not None and result.large_payload.sha256 == digest(
            b"l", 3 * 1024 * 1024
        )
        assert str(result.large_payload.reference_uri).startswith(f"s3://{bucket}/billing/")
        listed = s3_client(endpoint).list_objects_v2(Bucket=bucket)
        assert listed.get("KeyCount", 0) == 0  # both objects deleted again
