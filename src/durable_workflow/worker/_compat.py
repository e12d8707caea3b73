"""Server manifest checks run before a worker registers (pure functions over ``/cluster/info``).

A worker that talks to a server with a different contract could complete tasks wrongly, so
``Worker.run()`` fails fast with ``RuntimeError("Server compatibility error: ...")``: the
checks are the control-plane version and request contract, and the worker protocol version
(see docs/protocol.md, "Versions").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol import capabilities, versions

_CANONICAL_ENVIRONMENT = {
    "server_url": "DURABLE_WORKFLOW_SERVER_URL",
    "namespace": "DURABLE_WORKFLOW_NAMESPACE",
    "auth_token": "DURABLE_WORKFLOW_AUTH_TOKEN",
    "tls_verify": "DURABLE_WORKFLOW_TLS_VERIFY",
    "profile": "DW_ENV",
}
_REQUIRED_FIELDS = frozenset({"server_url", "namespace", "profile", "auth", "tls", "identity"})
_NEVER_ECHO = frozenset({"bearer_tokens", "private_keys", "raw_authorization_headers"})


class ServerCompatibilityError(RuntimeError):
    """The server's published contract does not match what this SDK speaks."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"Server compatibility error: {problem}")
        self.problem = problem


def _is_version(value: Any, expected: int) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == expected
    return isinstance(value, str) and value.strip().isdigit() and int(value) == expected


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_control_plane(info: Mapping[str, Any]) -> None:
    control = info.get("control_plane")
    if not isinstance(control, Mapping):
        raise ServerCompatibilityError("control_plane manifest is missing")
    if str(control.get("version")) != versions.CONTROL_PLANE_VERSION:
        raise ServerCompatibilityError(
            f"control_plane.version is {control.get('version')!r}, this SDK needs "
            f"{versions.CONTROL_PLANE_VERSION!r}"
        )
    contract = control.get("request_contract")
    if not isinstance(contract, Mapping):
        raise ServerCompatibilityError("control_plane.request_contract is missing")
    if contract.get("schema") != versions.REQUEST_CONTRACT_SCHEMA:
        raise ServerCompatibilityError(
            f"control_plane.request_contract.schema is {contract.get('schema')!r}, expected "
            f"{versions.REQUEST_CONTRACT_SCHEMA!r}"
        )
    if not _is_version(contract.get("version"), versions.REQUEST_CONTRACT_VERSION):
        raise ServerCompatibilityError(
            f"control_plane.request_contract.version is {contract.get('version')!r}, expected "
            f"{versions.REQUEST_CONTRACT_VERSION}"
        )


def _check_worker_protocol(info: Mapping[str, Any]) -> None:
    worker = info.get("worker_protocol")
    if not isinstance(worker, Mapping):
        raise ServerCompatibilityError("worker_protocol manifest is missing")
    raw = worker.get("version")
    parsed = versions.parse_worker_protocol(raw if isinstance(raw, str) else None)
    if parsed is None:
        if raw != versions.WORKER_PROTOCOL_VERSION:
            raise ServerCompatibilityError(f"worker_protocol.version {raw!r} is not MAJOR.MINOR")
        return
    major, minor = parsed
    if major != 1 or minor < 1:
        raise ServerCompatibilityError(f"worker_protocol.version is {raw!r}; this SDK needs 1.x with x >= 1")


def _check_auth_composition(info: Mapping[str, Any]) -> None:
    auth = info.get("auth_composition_contract")
    if not isinstance(auth, Mapping):
        raise ServerCompatibilityError("auth_composition_contract is missing")
    where = "auth_composition_contract"
    if auth.get("schema") != versions.AUTH_COMPOSITION_SCHEMA:
        raise ServerCompatibilityError(f"{where}.schema is {auth.get('schema')!r}")
    version = auth.get("version")
    if isinstance(version, bool) or version != versions.AUTH_COMPOSITION_VERSION:
        raise ServerCompatibilityError(f"{where}.version is {version!r}, expected 1")
    precedence = auth.get("precedence")
    if not isinstance(precedence, Mapping) or not all(
        _string_list(precedence.get(key)) for key in ("connection_values", "profile_selection")
    ):
        raise ServerCompatibilityError(
            f"{where}.precedence needs connection_values and profile_selection lists"
        )
    env = auth.get("canonical_environment")
    if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
        raise ServerCompatibilityError(f"{where}.canonical_environment must map names to strings")
    for key, expected in _CANONICAL_ENVIRONMENT.items():
        if env.get(key) != expected:
            raise ServerCompatibilityError(f"{where}.canonical_environment.{key} must be {expected!r}")
    material = auth.get("auth_material")
    if not isinstance(material, Mapping) or not all(isinstance(v, Mapping) for v in material.values()):
        raise ServerCompatibilityError(f"{where}.auth_material must be an object of objects")
    token = material.get("token") or {}
    if token.get("status") != "supported" or token.get("effective_config_value") != "redacted":
        raise ServerCompatibilityError(f"{where}.auth_material.token must be supported and redacted")
    for reserved in ("mtls", "signed_headers"):
        if (material.get(reserved) or {}).get("status") != "reserved":
            raise ServerCompatibilityError(f"{where}.auth_material.{reserved}.status must be 'reserved'")
    effective = auth.get("effective_config")
    fields = effective.get("required_fields") if isinstance(effective, Mapping) else None
    if not isinstance(fields, list) or not _string_list(fields) or not set(fields) >= _REQUIRED_FIELDS:
        raise ServerCompatibilityError(
            f"{where}.effective_config.required_fields must include {sorted(_REQUIRED_FIELDS)}"
        )
    redaction = auth.get("redaction")
    never = redaction.get("never_echo") if isinstance(redaction, Mapping) else None
    if not isinstance(never, list) or not _string_list(never) or not set(never) >= _NEVER_ECHO:
        raise ServerCompatibilityError(f"{where}.redaction.never_echo must include {sorted(_NEVER_ECHO)}")


def check_server_compatibility(info: Mapping[str, Any]) -> None:
    """Raise :class:`ServerCompatibilityError` (a ``RuntimeError``) unless ``info`` is compatible."""
    if not isinstance(info, Mapping):
        raise ServerCompatibilityError("cluster info is not a JSON object")
    _check_control_plane(info)
    _check_worker_protocol(info)
    _check_auth_composition(info)


def server_capabilities(info: Mapping[str, Any]) -> Mapping[str, Any]:
    worker = info.get("worker_protocol")
    caps = worker.get("server_capabilities") if isinstance(worker, Mapping) else None
    return caps if isinstance(caps, Mapping) else {}


def long_poll_timeout(info: Mapping[str, Any]) -> float | None:
    """The server's long-poll hold time in seconds, if it advertises a positive one."""
    value = server_capabilities(info).get("long_poll_timeout")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def supports_query_tasks(info: Mapping[str, Any]) -> bool:
    return server_capabilities(info).get("query_tasks") is True


def supports_sticky_workflow_tasks(info: Mapping[str, Any]) -> bool:
    """The server hands a run's next workflow task to the worker that kept its replay."""
    return server_capabilities(info).get(capabilities.SERVER_STICKY_WORKFLOW_TASKS) is True
