"""The ``BridgeAdapterOutcome`` contract body and the event the HTTP layer hands the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from durable_workflow.protocol.wire import Envelope

OUTCOME_SCHEMA = "durable-workflow.v2.bridge-adapter-outcome.contract"
Action = Literal["start_workflow", "signal_workflow", "update_workflow"]
ACTIONS: tuple[Action, ...] = ("start_workflow", "signal_workflow", "update_workflow")
Outcome = Literal["accepted", "duplicate", "rejected"]

# Rejection reasons of the contract (control-plane.md §8.5) this server answers with.
UNKNOWN_TARGET = "unknown_target"
MALFORMED_PAYLOAD = "malformed_payload"
UNSUPPORTED_ACTION = "unsupported_action"
UNSUPPORTED_ROUTING = "unsupported_routing"
DUPLICATE_START = "duplicate_start"
DEDUPED = "deduped_existing_command"  # control_plane_outcome of a repeated signal/update/start

# What a target summary may show: identifiers and routing, never payloads or credentials.
MAX_ECHO_CHARS = 255
SAFE_TARGET_FIELDS = (
    "workflow_id",
    "workflow_type",
    "signal_name",
    "update_name",
    "task_queue",
    "business_key",
    "duplicate_policy",
)
# Keys never echoed back, wherever they appear in ``correlation`` (the manifest's never_echo).
NEVER_ECHO = frozenset(
    {"authorization", "signature", "token", "secret", "raw_payload", "password", "private_key"}
)


class BridgeAdapterOutcomeBody(TypedDict, total=False):
    """The answer of ``POST /bridge-adapters/webhook/{adapter}`` (``None`` fields are left out)."""

    schema: str
    version: int
    adapter: str
    action: str
    accepted: bool
    outcome: Outcome
    reason: str
    idempotency_key: str
    target: dict[str, Any]
    correlation: dict[str, Any]
    workflow_id: str
    run_id: str
    workflow_type: str
    control_plane_outcome: str
    message: str
    errors: dict[str, list[str]]


@dataclass(frozen=True)
class BridgeTarget:
    """The checked ``target`` of an event (which fields are set depends on the action)."""

    workflow_id: str | None = None
    workflow_type: str | None = None
    task_queue: str | None = None
    business_key: str | None = None
    duplicate_policy: Literal["reject_duplicate", "use_existing"] = "use_existing"
    signal_name: str | None = None
    update_name: str | None = None
    wait_for: Literal["accepted", "completed"] = "accepted"
    wait_timeout_seconds: int | None = None


@dataclass(frozen=True)
class BridgeEvent:
    """A checked webhook-bridge request: the adapter, the action, its target and payload."""

    adapter: str
    action: Action
    idempotency_key: str
    target: BridgeTarget
    input: Envelope
    correlation: dict[str, Any] | None = None
    # The target as the caller sent it, reduced to SAFE_TARGET_FIELDS (echoed in every answer).
    target_summary: dict[str, Any] = field(default_factory=dict)


def redact(value: Any) -> Any:
    """``value`` without the never-echo keys, at any depth."""
    if isinstance(value, dict):
        # By substring: ``x-signature``, ``api_token``, ``client_secret`` are credentials too.
        return {k: redact(v) for k, v in value.items() if not any(w in str(k).lower() for w in NEVER_ECHO)}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def target_summary(target: Any) -> dict[str, Any]:
    if not isinstance(target, dict):
        return {}
    # Only plain short text is echoed: an object or a huge string under a safe name is dropped,
    # so a rejected event's answer cannot carry back a credential or a megabyte.
    return {
        k: target[k]
        for k in SAFE_TARGET_FIELDS
        if isinstance(target.get(k), str) and len(target[k]) <= MAX_ECHO_CHARS
    }


def outcome_body(
    *,
    adapter: str,
    action: str,
    outcome: Outcome,
    idempotency_key: str | None,
    target: dict[str, Any] | None,
    correlation: dict[str, Any] | None,
    reason: str | None = None,
    workflow_id: str | None = None,
    run_id: str | None = None,
    workflow_type: str | None = None,
    control_plane_outcome: str | None = None,
    message: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> BridgeAdapterOutcomeBody:
    """The outcome body, with ``accepted`` derived from ``outcome`` and ``None`` fields dropped."""
    values: dict[str, Any] = {
        "schema": OUTCOME_SCHEMA,
        "version": 1,
        "adapter": adapter,
        "action": action,
        "accepted": outcome == "accepted",
        "outcome": outcome,
        "reason": reason,
        "idempotency_key": idempotency_key,
        "target": target or None,
        "correlation": redact(correlation) if correlation is not None else None,
        "workflow_id": workflow_id,
        "run_id": run_id,
        "workflow_type": workflow_type,
        "control_plane_outcome": control_plane_outcome,
        "message": message,
        "errors": errors,
    }
    body: BridgeAdapterOutcomeBody = {k: v for k, v in values.items() if v is not None}  # type: ignore[assignment]
    return body
