"""``/api/health``, ``/api/ready`` and ``/api/cluster/info``."""

from __future__ import annotations

from durable_workflow.protocol import versions
from durable_workflow_server import Settings
from durable_workflow_server.http.health import auth_readiness
from durable_workflow_server.settings import parse_namespace_tokens
from tests.helpers.http_helpers import control_headers, worker_headers


async def test_health_needs_no_auth_and_is_plain(client, fake_engine):
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "serving" and body["checks"] == {"database": "ok"}
    assert body["timestamp"].endswith("+00:00")
    assert versions.CONTROL_PLANE_HEADER not in response.headers
    assert "control_plane" not in body


async def test_health_degraded_when_database_fails(client, fake_engine):
    fake_engine.results["database_ok"] = False
    response = await client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"
    fake_engine.errors["database_ok"] = OSError("disk gone")
    assert (await client.get("/api/health")).status_code == 503


async def test_ready_reports_all_checks(client):
    response = await client.get("/api/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "default_namespace", "cache", "auth"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert versions.CONTROL_PLANE_HEADER not in response.headers


def test_ready_auth_check_says_missing_without_auth_material():
    # Was test_ready_is_503_without_auth_material (GET /api/ready on such an app): since issue 10
    # such an app is not built at all (create_app refuses it), so the check is asked directly.
    check = auth_readiness(Settings(auth_token=None))
    assert check["status"] == "missing" and "no auth configured" in check["message"]
    assert auth_readiness(Settings(auth_driver="ldap"))["status"] == "invalid"
    only_bound = Settings(auth_token=None, namespace_tokens=parse_namespace_tokens("billing:operator:b"))
    assert auth_readiness(only_bound)["status"] == "ok"


async def test_ready_is_503_when_engine_checks_fail(client, fake_engine):
    fake_engine.errors["readiness_checks"] = OSError("db down")
    response = await client.get("/api/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "unavailable"


async def test_cluster_info_passes_sdk_checks_without_version_header(client, assert_cluster_info_compatible):
    response = await client.get("/api/cluster/info", headers={"Authorization": "Bearer test-token"})
    assert response.status_code == 200
    assert versions.CONTROL_PLANE_HEADER not in response.headers
    info = response.json()
    assert_cluster_info_compatible(info)
    assert info["worker_protocol"]["version"] == "1.1"
    assert info["worker_protocol"]["server_capabilities"]["query_tasks"] is True
    assert info["control_plane"]["header"] == versions.CONTROL_PLANE_HEADER
    assert info["default_namespace"] == "default"
    assert info["capabilities"]["payload_codecs"] == ["avro"]
    assert "payload_codecs_engine_specific" not in info["capabilities"]
    assert info["limits"]["max_payload_bytes"] == 2_097_152
    assert info["structural_limits"]["command_batch_size"] == 1000
    assert info["task_repair"]["policy"]["scan_limit"] == 25
    assert (
        info["bridge_adapter_outcome_contract"]["schema"]
        == "durable-workflow.v2.bridge-adapter-outcome.contract"
    )
    compat = info["client_compatibility"]
    assert compat["required_protocols"]["worker_protocol"]["version"] == info["worker_protocol"]["version"]
    response_contract = info["control_plane"]["response_contract"]
    assert response_contract["projected_fields"][0] == "run_id"
    assert response_contract["operations"]["signal"]["operation_name_field"] == "signal_name"
    start = info["control_plane"]["request_contract"]["operations"]["start"]
    assert "request_id" in start["unsupported_fields"]
    assert start["fields"]["duplicate_policy"]["rejected_aliases"] == {"use_existing": "use-existing"}


async def test_cluster_info_fleet_uses_namespace_without_validating_it(client, fake_engine):
    response = await client.get("/api/cluster/info", headers=control_headers(**{"X-Namespace": "Elsewhere"}))
    assert response.status_code == 200
    assert response.json()["worker_fleet"]["namespace"] == "elsewhere"
    assert fake_engine.called("namespace_exists") == []


async def test_cluster_info_accepts_every_role(make_client):
    client = await make_client(worker_token="w", operator_token="o", admin_token="a")
    for token in ("w", "o", "a"):
        assert (await client.get("/api/cluster/info", headers=worker_headers(token))).status_code == 200
    assert (await client.get("/api/cluster/info")).status_code == 401
