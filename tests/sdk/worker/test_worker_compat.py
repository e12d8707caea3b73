"""The pure server-manifest check run before a worker registers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from durable_workflow.worker._compat import (
    ServerCompatibilityError,
    check_server_compatibility,
    long_poll_timeout,
    supports_query_tasks,
)
from tests.helpers.worker_fakes import GOOD_CLUSTER_INFO


def manifest() -> dict[str, Any]:
    return copy.deepcopy(GOOD_CLUSTER_INFO)


def test_accepts_a_good_manifest():
    check_server_compatibility(manifest())
    assert long_poll_timeout(manifest()) == 30.0
    assert supports_query_tasks(manifest()) is True


@pytest.mark.parametrize("version", ["1.1", "1.8", "1.15"])
def test_accepts_worker_protocol_minor_versions(version: str):
    info = manifest()
    info["worker_protocol"]["version"] = version
    check_server_compatibility(info)


def test_accepts_digit_string_request_contract_version_and_int_control_plane():
    info = manifest()
    info["control_plane"]["version"] = 2
    info["control_plane"]["request_contract"]["version"] = "1"
    check_server_compatibility(info)


def _set(info: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = info
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[leaf]
    else:
        node[leaf] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("worker_protocol.version", "1.0", "worker_protocol.version"),
        ("worker_protocol.version", "2.1", "worker_protocol.version"),
        ("worker_protocol.version", "latest", "worker_protocol.version"),
        ("worker_protocol", _DELETE, "worker_protocol"),
        ("control_plane.version", "1", "control_plane.version"),
        ("control_plane", _DELETE, "control_plane"),
        ("control_plane.request_contract.schema", "other", "request_contract.schema"),
        ("control_plane.request_contract.version", 2, "request_contract.version"),
        ("auth_composition_contract", _DELETE, "auth_composition_contract is missing"),
        ("auth_composition_contract.version", "1", "auth_composition_contract.version"),
        ("auth_composition_contract.schema", "x", "auth_composition_contract.schema"),
        ("auth_composition_contract.precedence", {"connection_values": []}, "precedence"),
        (
            "auth_composition_contract.canonical_environment.profile",
            "PROFILE",
            "canonical_environment.profile",
        ),
        ("auth_composition_contract.auth_material.token.effective_config_value", "plain", "token"),
        ("auth_composition_contract.auth_material.mtls.status", "supported", "mtls"),
        ("auth_composition_contract.effective_config.required_fields", ["server_url"], "required_fields"),
        ("auth_composition_contract.redaction.never_echo", ["bearer_tokens"], "never_echo"),
    ],
)
def test_rejects_incompatible_manifests(path: str, value: Any, needle: str):
    info = manifest()
    _set(info, path, value)
    with pytest.raises(ServerCompatibilityError) as exc_info:
        check_server_compatibility(info)
    assert isinstance(exc_info.value, RuntimeError)
    assert str(exc_info.value).startswith("Server compatibility error: ")
    assert needle in str(exc_info.value)
