"""``POST /bridge-adapters/webhook/{adapter}``: the request, checked into a :class:`BridgeEvent`.

Refusals of this route are not the ``validation_failed`` envelope but the bridge's own outcome
body (``outcome: "rejected"``, ``reason`` ``malformed_payload`` with ``errors``,
``unsupported_action`` or ``unsupported_routing``), so the body model accepts any field and
:func:`parse_event` does the checking.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, cast

from pydantic import WithJsonSchema
from pydantic_core import PydanticCustomError

from durable_workflow.protocol import codec
from durable_workflow.protocol.wire import Envelope

from ...engine.bridge.shapes import (
    ACTIONS,
    MALFORMED_PAYLOAD,
    UNSUPPORTED_ACTION,
    UNSUPPORTED_ROUTING,
    Action,
    BridgeEvent,
    BridgeTarget,
    redact,
    target_summary,
)
from ..operation_names import operation_name_errors
from . import RequestModel
from .workflows import WORKFLOW_ID_PATTERN, normalize_arguments

ADAPTER_PATTERN = re.compile(r"[a-zA-Z0-9._:-]+")
MAX_ADAPTER_LENGTH = 128
MAX_KEY_LENGTH = 255


class BridgeWebhookBody(RequestModel):
    """The event: ``action``, ``idempotency_key`` and ``target`` required; ``input``, ``correlation``."""

    action: Annotated[Any, WithJsonSchema({"type": "string", "enum": list(ACTIONS)})] = None
    idempotency_key: Annotated[Any, WithJsonSchema({"type": "string", "maxLength": MAX_KEY_LENGTH})] = None
    target: Annotated[Any, WithJsonSchema({"type": "object"})] = None
    input: Annotated[
        Any, WithJsonSchema({"anyOf": [{"type": "array"}, {"type": "object"}, {"type": "null"}]})
    ] = None
    correlation: Annotated[Any, WithJsonSchema({"anyOf": [{"type": "object"}, {"type": "null"}]})] = None


class Rejected(Exception):
    """The request cannot be an event: ``reason`` and field ``errors`` for the outcome body."""

    def __init__(self, reason: str, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.errors = errors


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def _text(
    source: dict[str, Any], key: str, errs: _Errors, *, where: str = "", required: bool = False,
    max_len: int = 255, pattern: re.Pattern[str] | None = None,
) -> str | None:  # fmt: skip
    value = source.get(key)
    name = f"{where}{key}"
    label = name.replace(".", " ").replace("_", " ")
    if value is None or (isinstance(value, str) and not value.strip() and required):
        if required:
            errs.add(name, f"The {label} field is required.")
        return None
    if not isinstance(value, str):
        errs.add(name, f"The {label} field must be a string.")
        return None
    if len(value) > max_len:
        errs.add(name, f"The {label} field must not be greater than {max_len} characters.")
    elif pattern is not None and not pattern.fullmatch(value):
        errs.add(name, f"The {label} field format is invalid.")
    return value


def _choice(source: dict[str, Any], key: str, choices: tuple[str, ...], default: str, errs: _Errors) -> str:
    value = source.get(key)
    if value is None:
        return default
    if value not in choices:
        errs.add(
            f"target.{key}",
            f"The selected target {key.replace('_', ' ')} is invalid. Allowed values: {', '.join(choices)}.",
        )
        return default
    return cast(str, value)


def _name(source: dict[str, Any], key: str, errs: _Errors) -> str | None:
    value = _text(source, key, errs, where="target.", required=True)
    if value is not None:
        for message in operation_name_errors(value, key).get(key, []):
            errs.add(f"target.{key}", message)
    return value


def _target(action: Action, raw: dict[str, Any], errs: _Errors) -> BridgeTarget:
    workflow_id = _text(
        raw, "workflow_id", errs, where="target.", required=action != "start_workflow", max_len=128,
        pattern=WORKFLOW_ID_PATTERN,
    )  # fmt: skip
    if action == "start_workflow":
        policy = _choice(raw, "duplicate_policy", ("reject_duplicate", "use_existing"), "use_existing", errs)
        return BridgeTarget(
            workflow_id=workflow_id,
            workflow_type=_text(raw, "workflow_type", errs, where="target.", required=True),
            task_queue=_text(raw, "task_queue", errs, where="target."),
            business_key=_text(raw, "business_key", errs, where="target."),
            duplicate_policy=cast(Literal["reject_duplicate", "use_existing"], policy),
        )
    if action == "signal_workflow":
        return BridgeTarget(workflow_id=workflow_id, signal_name=_name(raw, "signal_name", errs))
    wait_for = _choice(raw, "wait_for", ("accepted", "completed"), "accepted", errs)
    timeout = raw.get("wait_timeout_seconds")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 3600
    ):
        errs.add(
            "target.wait_timeout_seconds",
            "The target wait timeout seconds field must be an integer from 1 to 3600.",
        )
        timeout = None
    return BridgeTarget(
        workflow_id=workflow_id,
        update_name=_name(raw, "update_name", errs),
        wait_for=cast(Literal["accepted", "completed"], wait_for),
        wait_timeout_seconds=timeout,
    )


def _input(value: Any, errs: _Errors) -> Envelope:
    """The arguments as an envelope: an array is the argument list, an envelope is kept, and any
    other object is the one argument (a Python workflow takes the event as ``run(ctx, event)``)."""
    if isinstance(value, dict) and set(value) != {"codec", "blob"}:
        value = [value]
    if value is not None and not isinstance(value, (list, dict)):
        errs.add("input", "The input field must be an array or an object.")
        return codec.envelope([])
    try:
        return normalize_arguments(value)
    except PydanticCustomError as exc:
        context = exc.context or {}
        errs.add("input", str(context.get("message") or "The input envelope must use the avro codec."))
        return codec.envelope([])


def parse_event(adapter: str, body: BridgeWebhookBody) -> BridgeEvent:
    """The checked event, or :class:`Rejected`."""
    if len(adapter) > MAX_ADAPTER_LENGTH or not ADAPTER_PATTERN.fullmatch(adapter):
        raise Rejected(
            UNSUPPORTED_ROUTING,
            f"The adapter key must match {ADAPTER_PATTERN.pattern} (at most {MAX_ADAPTER_LENGTH}).",
        )
    errs = _Errors()
    raw = body.model_dump()
    action = raw.get("action")
    if action is None or action == "":
        errs.add("action", "The action field is required.")
    elif action not in ACTIONS:
        raise Rejected(UNSUPPORTED_ACTION, f"The action must be one of: {', '.join(ACTIONS)}.")
    key = _text(raw, "idempotency_key", errs, required=True, max_len=MAX_KEY_LENGTH)
    target_raw = raw.get("target")
    target = BridgeTarget()
    if isinstance(target_raw, dict) and action in ACTIONS:
        target = _target(cast(Action, action), target_raw, errs)
    elif not isinstance(target_raw, dict):
        errs.add(
            "target",
            "The target field is required." if target_raw is None else "The target field must be an object.",
        )
        target_raw = {}
    arguments = _input(raw.get("input"), errs)
    correlation = raw.get("correlation")
    if correlation is not None and not isinstance(correlation, dict):
        errs.add("correlation", "The correlation field must be an object.")
    if errs.errors:
        raise Rejected(MALFORMED_PAYLOAD, "The bridge event is malformed.", errs.errors)
    assert key is not None
    return BridgeEvent(
        adapter=adapter,
        action=cast(Action, action),
        idempotency_key=key,
        target=target,
        input=arguments,
        correlation=redact(correlation) if isinstance(correlation, dict) else None,
        target_summary=target_summary(target_raw),
    )
