"""Validate and normalise workflow-task commands (see docs/protocol.md). Pure.

Every check happens before anything is written: a batch is either applied whole or rejected
with field errors (``ValidationFailed``) or ``invalid_commands``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from durable_workflow.protocol import commands as c
from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.codec import AVRO, SUPPORTED_CODECS
from durable_workflow.protocol.payload_storage import is_external_storage_envelope

from .errors import DomainError, ValidationFailed
from .external_storage.stored import stored_envelope

# Commands this engine applies. The rest of the catalogue is known but not implemented yet.
IMPLEMENTED = frozenset(
    {
        c.COMPLETE_WORKFLOW,
        c.FAIL_WORKFLOW,
        c.CONTINUE_AS_NEW,
        c.SCHEDULE_ACTIVITY,
        c.START_TIMER,
        c.START_CHILD_WORKFLOW,
        c.RECORD_SIDE_EFFECT,
        c.RECORD_VERSION_MARKER,
        c.UPSERT_SEARCH_ATTRIBUTES,
        c.OPEN_CONDITION_WAIT,
        c.COMPLETE_UPDATE,
        c.FAIL_UPDATE,
    }
)
# Commands answering an accepted update (checked against the run's updates in ``updates/``).
UPDATE_COMMANDS = frozenset({c.COMPLETE_UPDATE, c.FAIL_UPDATE})
BLOCKING = frozenset({c.SCHEDULE_ACTIVITY, c.START_TIMER, c.START_CHILD_WORKFLOW})
PARENT_CLOSE_POLICIES = ("abandon", "request_cancel", "terminate")
ACTIVITY_TIMEOUTS = (
    "start_to_close_timeout",
    "schedule_to_start_timeout",
    "schedule_to_close_timeout",
    "heartbeat_timeout",
)
PAYLOAD_COMMANDS = frozenset(
    {
        c.COMPLETE_WORKFLOW,
        c.SCHEDULE_ACTIVITY,
        c.START_CHILD_WORKFLOW,
        c.CONTINUE_AS_NEW,
        c.COMPLETE_UPDATE,
        c.RECORD_SIDE_EFFECT,
    }
)
# Field → the command types allowed to carry it.
FIELD_SCOPES: dict[str, frozenset[str]] = {
    "retry_policy": frozenset({c.SCHEDULE_ACTIVITY, c.START_CHILD_WORKFLOW}),
    **{name: frozenset({c.SCHEDULE_ACTIVITY}) for name in ACTIVITY_TIMEOUTS},
    "execution_timeout_seconds": frozenset({c.START_CHILD_WORKFLOW}),
    "run_timeout_seconds": frozenset({c.START_CHILD_WORKFLOW}),
    "non_retryable": frozenset({c.FAIL_WORKFLOW, c.FAIL_UPDATE}),
    "parent_close_policy": frozenset({c.START_CHILD_WORKFLOW}),
    "delay_seconds": frozenset({c.START_TIMER}),
    "timeout_seconds": frozenset({c.OPEN_CONDITION_WAIT}),
    "condition_wait_id": frozenset({c.OPEN_CONDITION_WAIT}),
    "payload_codec": PAYLOAD_COMMANDS,
}


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


# ASCII digits only: str.isdigit() also accepts superscripts and other scripts' digits, which
# int() then refuses. Twenty digits is beyond any column, so longer text is simply not an integer.
_INTEGER_TEXT = re.compile(r"\s*-?[0-9]{1,20}\s*")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    return None


def normalize_payload(
    value: Any, explicit_codec: Any, default_codec: str, key: str, errs: _Errors
) -> tuple[str, str] | None:
    """``(codec, blob)`` from a bare blob string or a ``{codec, blob}`` envelope."""
    if explicit_codec is not None and explicit_codec not in SUPPORTED_CODECS:
        errs.add(f"{key}.payload_codec", f"Unknown payload codec [{explicit_codec}]; use avro.")
        return None
    if value is None:
        return None
    if isinstance(value, str):
        return (explicit_codec or default_codec, value)
    if isinstance(value, Mapping) and set(value) == {"codec", "blob"}:
        codec, blob = value.get("codec"), value.get("blob")
        if codec not in SUPPORTED_CODECS:
            errs.add(key, f"Unknown payload codec [{codec}]; use avro.")
            return None
        if explicit_codec is not None and explicit_codec != codec:
            errs.add(f"{key}.payload_codec", "payload_codec must match the envelope codec.")
            return None
        if not isinstance(blob, str):
            errs.add(key, "The envelope blob must be a string.")
            return None
        return (str(codec), blob)
    if is_external_storage_envelope(value):
        try:
            codec, stored = stored_envelope(value)
        except ValueError as exc:
            errs.add(f"{key}.external_storage", str(exc))
            return None
        if explicit_codec is not None and explicit_codec != codec:
            errs.add(f"{key}.payload_codec", "payload_codec must match the envelope codec.")
            return None
        return (codec, stored)
    errs.add(key, "The payload must be a blob string or a {codec, blob} envelope.")
    return None


def _retry_policy(value: Any, key: str, errs: _Errors) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errs.add(key, "The retry policy must be an object.")
        return None
    out: dict[str, Any] = {}
    if value.get("max_attempts") is not None:
        n = _int(value["max_attempts"])
        if n is None or n < 1:
            errs.add(f"{key}.max_attempts", "max_attempts must be an integer of at least 1.")
        else:
            out["max_attempts"] = n
    backoff = value.get("backoff_seconds")
    if backoff is not None:
        items = [_int(v) for v in backoff] if isinstance(backoff, list) else [None]
        if any(i is None or i < 0 for i in items):
            errs.add(f"{key}.backoff_seconds", "backoff_seconds must be a list of integers >= 0.")
        else:
            out["backoff_seconds"] = items
    types = value.get("non_retryable_error_types")
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(x, str) for x in types):
            errs.add(
                f"{key}.non_retryable_error_types", "non_retryable_error_types must be a list of strings."
            )
        else:
            out["non_retryable_error_types"] = list(types)
    return out


def _child_workflow(
    key: str, cmd: Mapping[str, Any], codec: Any, run_codec: str, errs: _Errors
) -> dict[str, Any]:
    """The fields of a ``start_child_workflow`` command (``connection`` is accepted and ignored)."""
    out: dict[str, Any] = {}
    wtype = cmd.get("workflow_type")
    if not isinstance(wtype, str) or not wtype:
        errs.add(f"{key}.workflow_type", "The workflow_type field is required.")
    out["workflow_type"] = wtype
    queue = cmd.get("queue")
    if queue is not None and (not isinstance(queue, str) or not queue):
        errs.add(f"{key}.queue", "The queue must be a non-empty string.")
    out["queue"] = queue or None
    policy = cmd.get("parent_close_policy")
    if policy is not None and policy not in PARENT_CLOSE_POLICIES:
        errs.add(
            f"{key}.parent_close_policy",
            f"parent_close_policy must be one of {', '.join(PARENT_CLOSE_POLICIES)}.",
        )
    out["parent_close_policy"] = policy or "abandon"
    out["arguments"] = normalize_payload(cmd.get("arguments"), codec, run_codec, f"{key}.arguments", errs)
    out["retry_policy"] = _retry_policy(cmd.get("retry_policy"), f"{key}.retry_policy", errs)
    for name in ("execution_timeout_seconds", "run_timeout_seconds"):
        raw = cmd.get(name)
        n = _int(raw) if raw is not None else None
        if raw is not None and (n is None or n < 1):
            errs.add(f"{key}.{name}", f"{name} must be an integer of at least 1 second.")
        out[name] = n
    return out


def _validate_one(index: int, cmd: Mapping[str, Any], run_codec: str, errs: _Errors) -> dict[str, Any] | None:
    key = f"commands.{index}"
    kind = cmd["type"]
    if kind not in c.SUPPORTED_COMMANDS:
        errs.add(f"{key}.type", f"Workflow task command type [{kind}] is not supported by the server yet.")
        return None
    if kind not in IMPLEMENTED:
        errs.add(f"{key}.type", f"Workflow task command type [{kind}] is not supported by this server yet.")
        return None
    for field, allowed in FIELD_SCOPES.items():
        if field in cmd and cmd[field] is not None and kind not in allowed:
            errs.add(f"{key}.{field}", f"The {field} field is not allowed on {kind} commands.")
    out: dict[str, Any] = {"type": kind}
    codec = cmd.get("payload_codec")
    if kind == c.SCHEDULE_ACTIVITY:
        atype = cmd.get("activity_type")
        if not isinstance(atype, str) or not atype:
            errs.add(f"{key}.activity_type", "The activity_type field is required.")
        out["activity_type"] = atype
        queue = cmd.get("queue")
        if queue is not None and (not isinstance(queue, str) or not queue):
            errs.add(f"{key}.queue", "The queue must be a non-empty string.")
        out["queue"] = queue or None
        out["arguments"] = normalize_payload(cmd.get("arguments"), codec, run_codec, f"{key}.arguments", errs)
        out["retry_policy"] = _retry_policy(cmd.get("retry_policy"), f"{key}.retry_policy", errs)
        for name in ACTIVITY_TIMEOUTS:
            raw = cmd.get(name)
            n = _int(raw) if raw is not None else None
            if raw is not None and (n is None or n < 1):
                errs.add(f"{key}.{name}", f"{name} must be an integer of at least 1 second.")
            out[name] = n
        hb, stc = out["heartbeat_timeout"], out["start_to_close_timeout"]
        s2c, sts = out["schedule_to_close_timeout"], out["schedule_to_start_timeout"]
        if hb and stc and hb > stc:
            errs.add(f"{key}.heartbeat_timeout", "heartbeat_timeout must not exceed start_to_close_timeout.")
        if stc and s2c and stc > s2c:
            errs.add(
                f"{key}.start_to_close_timeout",
                "start_to_close_timeout must not exceed schedule_to_close_timeout.",
            )
        if sts and s2c and sts > s2c:
            errs.add(
                f"{key}.schedule_to_start_timeout",
                "schedule_to_start_timeout must not exceed schedule_to_close_timeout.",
            )
    elif kind == c.START_TIMER:
        n = _int(cmd.get("delay_seconds"))
        if n is None or n < 0:
            errs.add(
                f"{key}.delay_seconds", "The delay_seconds field is required and must be an integer >= 0."
            )
        out["delay_seconds"] = n
    elif kind == c.START_CHILD_WORKFLOW:
        out.update(_child_workflow(key, cmd, codec, run_codec, errs))
    elif kind == c.RECORD_SIDE_EFFECT:
        result = cmd.get("result")
        if result is None or result == "":
            errs.add(f"{key}.result", "The result field is required.")
        out["result"] = normalize_payload(result, codec, run_codec, f"{key}.result", errs)
    elif kind == c.RECORD_VERSION_MARKER:
        if not isinstance(cmd.get("change_id"), str) or not cmd.get("change_id"):
            errs.add(f"{key}.change_id", "The change_id field is required.")
        out["change_id"] = cmd.get("change_id")
        nums = {name: _int(cmd.get(name)) for name in ("version", "min_supported", "max_supported")}
        for name, n in nums.items():
            if n is None:
                errs.add(f"{key}.{name}", f"The {name} field is required and must be an integer.")
        low, version, high = nums["min_supported"], nums["version"], nums["max_supported"]
        if low is not None and version is not None and high is not None and not low <= version <= high:
            errs.add(f"{key}.version", "version must lie between min_supported and max_supported.")
        out.update(nums)
    elif kind == c.UPSERT_SEARCH_ATTRIBUTES:
        attrs = cmd.get("attributes")
        if not isinstance(attrs, Mapping) or not attrs:
            errs.add(f"{key}.attributes", "The attributes field must be a non-empty object.")
        out["attributes"] = dict(attrs) if isinstance(attrs, Mapping) else {}
    elif kind == c.OPEN_CONDITION_WAIT:
        _condition_wait(cmd, key, out, errs)
    elif kind == c.COMPLETE_WORKFLOW:
        out["result"] = normalize_payload(cmd.get("result"), codec, run_codec, f"{key}.result", errs)
    elif kind in UPDATE_COMMANDS:
        _update_answer(cmd, key, codec, run_codec, out, errs)
    elif kind == c.FAIL_WORKFLOW:
        message = cmd.get("message")
        if not isinstance(message, str):
            errs.add(f"{key}.message", "The message field is required.")
        out["failure"] = {
            "message": message if isinstance(message, str) else "",
            "exception_type": cmd.get("exception_type"),
            "exception_class": cmd.get("exception_class"),
            "non_retryable": bool(cmd.get("non_retryable", False)),
        }
    elif kind == c.CONTINUE_AS_NEW:
        out["arguments"] = normalize_payload(cmd.get("arguments"), codec, run_codec, f"{key}.arguments", errs)
        for name in ("workflow_type", "queue"):
            value = cmd.get(name)
            if value is not None and (not isinstance(value, str) or not value):
                errs.add(f"{key}.{name}", f"The {name} must be a non-empty string.")
            out[name] = value or None
    return out


def _update_answer(
    cmd: Mapping[str, Any], key: str, codec: Any, run_codec: str, out: dict[str, Any], errs: _Errors
) -> None:
    """``complete_update`` (``update_id``, ``result``) / ``fail_update`` (``update_id``, ``message``)."""
    update_id = cmd.get("update_id")
    if not isinstance(update_id, str) or not update_id:
        errs.add(f"{key}.update_id", "The update_id field is required.")
    out["update_id"] = update_id
    if cmd["type"] == c.COMPLETE_UPDATE:
        out["result"] = normalize_payload(cmd.get("result"), codec, run_codec, f"{key}.result", errs)
        return
    message = cmd.get("message")
    if not isinstance(message, str):
        errs.add(f"{key}.message", "The message field is required.")
    out["failure"] = {
        "message": message if isinstance(message, str) else "",
        "exception_type": cmd.get("exception_type"),
        "exception_class": cmd.get("exception_class"),
        "non_retryable": bool(cmd.get("non_retryable", True)),
    }


def _condition_wait(cmd: Mapping[str, Any], key: str, out: dict[str, Any], errs: _Errors) -> None:
    """``open_condition_wait``: optional key and fingerprint, a timeout >= 0, and the id of the
    open wait it re-sends (from workers registered with ``condition_wait_ids``)."""
    for name in ("condition_key", "condition_definition_fingerprint", "condition_wait_id"):
        value = cmd.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            errs.add(f"{key}.{name}", f"The {name} must be a non-empty string.")
        out[name] = value if isinstance(value, str) and value else None
    raw = cmd.get("timeout_seconds")
    timeout = _int(raw) if raw is not None else None
    if raw is not None and (timeout is None or timeout < 0):
        errs.add(f"{key}.timeout_seconds", "The timeout_seconds must be an integer >= 0.")
    out["timeout_seconds"] = timeout


def validate_commands(commands: Sequence[Mapping[str, Any]], run_codec: str = AVRO) -> list[dict[str, Any]]:
    """Normalise a completion's command list or raise before anything is written.

    The HTTP layer has checked the list's shape (a non-empty array of objects, each with a
    non-empty string ``type``, every value storable); what is checked here is what the commands
    mean: whether the server implements each type, which fields each may carry, their ranges,
    and that a completion decides something (at least one command, at most one terminal one).
    """
    if not commands:
        raise DomainError(reasons.INVALID_COMMANDS, "A workflow task completion needs at least one command.")
    errs = _Errors()
    normalized = [_validate_one(i, cmd, run_codec, errs) for i, cmd in enumerate(commands)]
    if errs.errors:
        raise ValidationFailed(errs.errors)
    result = [n for n in normalized if n is not None]
    terminal = [n for n in result if n["type"] in c.TERMINAL_COMMANDS]
    if len(terminal) > 1:
        raise DomainError(
            reasons.INVALID_COMMANDS, "A workflow task completion may carry at most one terminal command."
        )
    return result
