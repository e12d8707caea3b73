"""Protocol versions, header names and the contract identifiers both sides advertise."""

from __future__ import annotations

CONTROL_PLANE_VERSION = "2"
CONTROL_PLANE_HEADER = "X-Durable-Workflow-Control-Plane-Version"

WORKER_PROTOCOL_VERSION = "1.1"
WORKER_PROTOCOL_HEADER = "X-Durable-Workflow-Protocol-Version"

NAMESPACE_HEADER = "X-Namespace"
DEFAULT_NAMESPACE = "default"

REQUEST_CONTRACT_SCHEMA = "durable-workflow.v2.control-plane-request.contract"
REQUEST_CONTRACT_VERSION = 1
RESPONSE_SCHEMA = "durable-workflow.v2.control-plane-response"
RESPONSE_CONTRACT_SCHEMA = "durable-workflow.v2.control-plane-response.contract"
AUTH_COMPOSITION_SCHEMA = "durable-workflow.v2.auth-composition.contract"
AUTH_COMPOSITION_VERSION = 1
HISTORY_EXPORT_SCHEMA = "durable-workflow.v2.history-export"


def parse_worker_protocol(value: str | None) -> tuple[int, int] | None:
    """Parse ``"MAJOR.MINOR"``; ``None`` when the value is missing or malformed."""
    if value is None:
        return None
    text = value.strip()
    major, sep, minor = text.partition(".")
    if not sep or not major.isdigit() or not minor.isdigit():
        return None
    return int(major), int(minor)


def accepts_worker_protocol(requested: str | None, advertised: str = WORKER_PROTOCOL_VERSION) -> bool:
    """The range rule: same major as advertised and a minor no newer than advertised."""
    req = parse_worker_protocol(requested)
    adv = parse_worker_protocol(advertised)
    if req is None or adv is None:
        return False
    return req[0] == adv[0] and req[1] <= adv[1]
