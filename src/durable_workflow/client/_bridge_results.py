"""The typed answer of ``send_webhook_bridge_event``: the bridge-adapter outcome contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import mapping, opt_int, opt_text

__all__ = ["BRIDGE_OUTCOME_SCHEMA", "BridgeAdapterOutcome"]

BRIDGE_OUTCOME_SCHEMA = "durable-workflow.v2.bridge-adapter-outcome.contract"


def _errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    value = data.get("errors")
    if not isinstance(value, Mapping):
        return {}
    return {str(k): [str(m) for m in v] if isinstance(v, list) else [str(v)] for k, v in value.items()}


@dataclass(frozen=True)
class BridgeAdapterOutcome:
    """What the server did with one webhook-bridge event (the bridge-adapter outcome contract).

    ``outcome`` is ``accepted`` (HTTP 202: the start, signal or update was handed to the
    workflow), ``duplicate`` (200: this idempotency key was already delivered, or the workflow
    was already running; nothing new was started or sent) or ``rejected`` (422: ``reason`` says
    why, e.g. ``unknown_target`` or ``malformed_payload`` with field ``errors``). All three are
    answers, not exceptions.
    """

    outcome: str
    accepted: bool
    adapter: str | None = None
    action: str | None = None
    reason: str | None = None
    idempotency_key: str | None = None
    target: dict[str, Any] = field(default_factory=dict)
    correlation: dict[str, Any] = field(default_factory=dict)
    workflow_id: str | None = None
    run_id: str | None = None
    workflow_type: str | None = None
    control_plane_outcome: str | None = None
    message: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    schema: str | None = None
    version: int | None = None
    status_code: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def duplicate(self) -> bool:
        """The event was a repeat (or found its workflow running): nothing new happened."""
        return self.outcome == "duplicate"

    @property
    def rejected(self) -> bool:
        """The server refused the event; see :attr:`reason` and :attr:`errors`."""
        return self.outcome == "rejected"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], status_code: int | None = None) -> BridgeAdapterOutcome:
        """Build from a ``POST /bridge-adapters/webhook/{adapter}`` body."""
        outcome = opt_text(data, "outcome") or ("accepted" if data.get("accepted") is True else "rejected")
        return cls(
            outcome=outcome,
            accepted=data.get("accepted") is True,
            adapter=opt_text(data, "adapter"),
            action=opt_text(data, "action"),
            reason=opt_text(data, "reason"),
            idempotency_key=opt_text(data, "idempotency_key"),
            target=mapping(data, "target"),
            correlation=mapping(data, "correlation"),
            workflow_id=opt_text(data, "workflow_id"),
            run_id=opt_text(data, "run_id"),
            workflow_type=opt_text(data, "workflow_type"),
            control_plane_outcome=opt_text(data, "control_plane_outcome"),
            message=opt_text(data, "message"),
            errors=_errors(data),
            schema=opt_text(data, "schema"),
            version=opt_int(data, "version"),
            status_code=status_code,
            raw=dict(data),
        )
