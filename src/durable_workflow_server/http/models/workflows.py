"""Control-plane request models: start a workflow, list workflows, read a history page."""

from __future__ import annotations

import binascii
import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, PlainValidator, ValidationInfo, WithJsonSchema

from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import EXTERNAL_PAYLOAD_REFERENCE_SCHEMA
from durable_workflow.protocol.wire import Envelope

from ...engine.api import DuplicatePolicy
from ...engine.external_storage.stored import stored_envelope
from ...engine.search_attributes.values import parse_datetime
from .. import contracts
from .. import fields as f
from ..problems import UNSUPPORTED_CODEC
from . import RequestModel

WORKFLOW_ID_PATTERN = re.compile(r"[a-zA-Z0-9._:-]+")
SEARCH_ATTRIBUTE_KEY_PATTERN = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
MAX_SEARCH_ATTRIBUTE_KEY_BYTES = 128
MAX_SEARCH_ATTRIBUTE_VALUE_BYTES = 2048
LIST_PAGE_SIZE_DEFAULT, LIST_PAGE_SIZE_MAX = 50, 200
HISTORY_PAGE_SIZE_DEFAULT, HISTORY_PAGE_SIZE_MAX = 100, 1000

_PAYLOAD_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "array", "description": "The arguments as plain JSON; stored as avro."},
        {
            "type": "object",
            "properties": {
                "codec": {"type": "string", "enum": list(codec.SUPPORTED_CODECS)},
                "blob": {"type": "string"},
            },
            "required": ["codec", "blob"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "description": "A reference to the payload in the namespace's external storage.",
            "properties": {
                "codec": {"type": "string", "enum": list(codec.SUPPORTED_CODECS)},
                "external_storage": {
                    "type": "object",
                    "properties": {
                        "schema": {"type": "string", "enum": [EXTERNAL_PAYLOAD_REFERENCE_SCHEMA]},
                        "uri": {"type": "string", "maxLength": 2048},
                        "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                        "size_bytes": {"type": "integer", "minimum": 0},
                        "codec": {"type": "string"},
                        "expires_at": {"type": "string", "format": "date-time"},
                    },
                    "required": ["schema", "uri", "sha256", "size_bytes", "codec"],
                    "additionalProperties": False,
                },
            },
            "required": ["codec", "external_storage"],
            "additionalProperties": False,
        },
        {"type": "null"},
    ]
}


def _keyed(key: str, message: str) -> Exception:
    return f.problem("message", key=key, message=message)


def normalize_arguments(value: Any) -> Envelope:
    """A caller ``input`` as a ``{codec: "avro", blob}`` envelope.

    absent / ``null`` / ``[]`` → envelope of ``[]``; a JSON array → envelope of that list; an
    ``{codec, blob}`` envelope with codec ``avro`` whose blob decodes → kept verbatim; a
    ``{codec, external_storage}`` reference → checked, and carried as its stored form (the blob
    is fetched by the engine); another codec → ``unsupported_payload_codec``; anything else → a
    field error.
    """
    if value is None or value == []:
        return codec.envelope([])
    if isinstance(value, list):
        try:
            return codec.envelope(value)
        except codec.PayloadCodecError as exc:
            raise _keyed("input", f"The input field could not be encoded: {exc}") from exc
    if isinstance(value, dict) and set(value) == {"codec", "blob"}:
        payload_codec, blob = value["codec"], value["blob"]
        if not isinstance(payload_codec, str) or payload_codec not in codec.SUPPORTED_CODECS:
            raise f.problem(UNSUPPORTED_CODEC, field="input", given=payload_codec)
        if not isinstance(blob, str):
            raise _keyed("input.blob", "The input.blob field must be a string.")
        try:
            codec.decode(blob, payload_codec)
        except (codec.PayloadCodecError, binascii.Error, ValueError, json.JSONDecodeError) as exc:
            message = f"The input.blob field is not a valid {payload_codec} payload: {exc}"
            raise _keyed("input.blob", message) from exc
        return {"codec": payload_codec, "blob": blob}
    if isinstance(value, dict) and set(value) == {"codec", "external_storage"}:
        # The reference is checked here; its bytes are fetched and verified through the
        # namespace's driver by the engine (``external_storage/offloading.py``), which answers 422
        # on input.external_storage when there is no driver or the object is missing or changed.
        if not isinstance(value["codec"], str) or value["codec"] not in codec.SUPPORTED_CODECS:
            raise f.problem(UNSUPPORTED_CODEC, field="input", given=value["codec"])
        try:
            payload_codec, stored = stored_envelope(value)
        except ValueError as exc:
            raise _keyed(
                "input.external_storage", f"The input.external_storage field is invalid: {exc}"
            ) from exc
        return {"codec": payload_codec, "blob": stored}
    if isinstance(value, dict):
        raise _keyed(
            "input", "The input field must be a JSON array of arguments or a {codec, blob} envelope."
        )
    raise _keyed("input", "The input field must be an array or a {codec, blob} envelope.")


def _duplicate_policy(value: Any) -> DuplicatePolicy | None:
    if isinstance(value, str) and value in contracts.DUPLICATE_POLICY_ALIASES:
        canonical = contracts.DUPLICATE_POLICY_ALIASES[value]
        raise f.problem(
            "message", message=f"The duplicate policy '{value}' is not canonical; use '{canonical}'."
        )
    policy = _policy_text(value)
    if policy is None:
        return None
    return "use-existing" if policy == "use-existing" else "fail"  # the choices are exactly these two


_policy_text = f.text_check(choices=contracts.DUPLICATE_POLICIES)


def _memo(value: Any, info: ValidationInfo) -> dict[str, Any] | None:
    memo = f.check_object(value)
    if memo is None:
        return None
    limit: int = info.context["settings"].max_memo_bytes if info.context else 262_144
    size = len(json.dumps(memo, separators=(",", ":"), ensure_ascii=False).encode())
    if size > limit:
        raise f.problem(
            "message", message=f"The memo must not be larger than {limit} bytes of JSON (got {size})."
        )
    return memo


def _search_attributes(value: Any) -> dict[str, Any] | None:
    attributes = f.check_object(value)
    if attributes is None:
        return None
    problems: list[str] = []
    for key, item in attributes.items():
        if not key:
            problems.append("Search attribute keys must not be empty.")
            continue
        if len(key.encode()) > MAX_SEARCH_ATTRIBUTE_KEY_BYTES:
            problems.append(
                f"Search attribute key '{key[:40]}' exceeds {MAX_SEARCH_ATTRIBUTE_KEY_BYTES} bytes."
            )
        elif not SEARCH_ATTRIBUTE_KEY_PATTERN.fullmatch(key):
            problems.append(
                f"Search attribute key '{key}' must start with a letter and use only letters, digits, _."
            )
        values = item if isinstance(item, list) else [item]
        for entry in values:
            if isinstance(entry, str) and len(entry.encode()) > MAX_SEARCH_ATTRIBUTE_VALUE_BYTES:
                problems.append(
                    f"Search attribute '{key}' has a value over {MAX_SEARCH_ATTRIBUTE_VALUE_BYTES} bytes."
                )
                break
    if problems:
        raise f.problem("messages", messages=problems)
    return attributes


def _unsupported(value: Any) -> None:
    raise f.problem("unsupported")


Unsupported = Annotated[Any, PlainValidator(_unsupported), WithJsonSchema({"not": {}})]
_OBJECT_SCHEMA = {"anyOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}]}


class StartWorkflowBody(RequestModel):
    """``POST /api/workflows``: start a workflow run."""

    # Fields the contract names but this endpoint refuses (present at all → an error), first.
    workflow_execution_timeout: Unsupported = None
    workflow_run_timeout: Unsupported = None
    workflow_task_timeout: Unsupported = None
    retry_policy: Unsupported = None
    idempotency_key: Unsupported = None
    request_id: Unsupported = None
    workflow_id: Annotated[str | None, f.Text(max_len=128, pattern=WORKFLOW_ID_PATTERN)] = None
    workflow_type: Annotated[str, f.Text(required=True, max_len=255)]
    task_queue: Annotated[str | None, f.Text(max_len=255)] = None
    business_key: Annotated[str | None, f.Text(max_len=255)] = None
    duplicate_policy: Annotated[
        DuplicatePolicy | None,
        PlainValidator(_duplicate_policy),
        WithJsonSchema(
            {"anyOf": [{"type": "string", "enum": list(contracts.DUPLICATE_POLICIES)}, {"type": "null"}]}
        ),
    ] = None
    execution_timeout_seconds: Annotated[int | None, f.Integer(minimum=1)] = None
    run_timeout_seconds: Annotated[int | None, f.Integer(minimum=1)] = None
    memo: Annotated[dict[str, Any] | None, PlainValidator(_memo), WithJsonSchema(_OBJECT_SCHEMA)] = None
    search_attributes: Annotated[
        dict[str, Any] | None, PlainValidator(_search_attributes), WithJsonSchema(_OBJECT_SCHEMA)
    ] = None
    input: Annotated[dict[str, str], PlainValidator(normalize_arguments), WithJsonSchema(_PAYLOAD_SCHEMA)] = (
        Field(default=None, validate_default=True)
    )
    # Eager first workflow task (capability ``eager_start_workflow_task``): lease the new run's
    # first task to this worker of the starting process and answer it (see docs/protocol.md).
    eager_worker_id: Annotated[str | None, f.Text(max_len=255)] = None


def _list_status(value: Any) -> str | None:
    if isinstance(value, str) and value in contracts.LIST_STATUS_ALIASES:
        bucket = contracts.LIST_STATUS_ALIASES[value]
        raise f.problem(
            "message", message=f"The status filter '{value}' is not canonical; use the bucket '{bucket}'."
        )
    if value is None or value == "":
        return None
    return _status_text(value)


_status_text = f.text_check(choices=contracts.LIST_STATUS_VALUES)


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise f.problem("datetime")
    return moment


Moment = Annotated[
    datetime | None,
    PlainValidator(_moment),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ListWorkflowsQuery(RequestModel):
    """``GET /api/workflows`` query parameters."""

    workflow_type: Annotated[str | None, f.Text(max_len=255)] = None
    status: Annotated[
        str | None,
        PlainValidator(_list_status),
        WithJsonSchema({"type": "string", "enum": list(contracts.LIST_STATUS_VALUES)}),
    ] = None
    query: Annotated[str | None, f.Text(max_len=1000)] = None
    page_size: Annotated[int | None, f.Integer(minimum=1, maximum=LIST_PAGE_SIZE_MAX)] = None
    next_page_token: Annotated[str | None, f.Text(max_len=512)] = None
    task_queue: Annotated[str | None, f.Text(max_len=255)] = None
    # Half-open windows: after <= time < before (RFC 3339; no zone means UTC).
    started_after: Moment = None
    started_before: Moment = None
    closed_after: Moment = None
    closed_before: Moment = None


def _wait_flag(value: Any) -> bool | None:
    if not isinstance(value, str):
        return None
    flag = f.parse_bool(value)
    if flag is None:
        raise f.problem("boolean")
    return flag


# A query flag: 1/0, true/false, yes/no, on/off (a bad word is a 422 on the field).
QueryFlag = Annotated[
    bool | None,
    PlainValidator(_wait_flag),
    WithJsonSchema({"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]}),
]


# The longest wait a caller may ask for; the server holds at most its long-poll limit anyway.
DESCRIBE_WAIT_SECONDS_MAX = 3600


class DescribeQuery(RequestModel):
    """``GET /api/workflows/{workflow_id}`` query parameters (an extension, see docs/protocol.md).

    ``wait_seconds`` > 0 holds the answer until the current run closed for good or that many
    seconds passed (at most the server's long-poll limit); absent or ``0``, describe as always.
    """

    wait_seconds: Annotated[int | None, f.Integer(minimum=0, maximum=DESCRIBE_WAIT_SECONDS_MAX)] = None


class DebugQuery(RequestModel):
    """``GET /api/workflows/{workflow_id}[/runs/{run_id}]/debug`` query parameters."""

    include_last_event_payload: QueryFlag = None


class HistoryQuery(RequestModel):
    """``GET /api/workflows/{workflow_id}/runs/{run_id}/history`` query parameters."""

    page_size: Annotated[int | None, f.Integer(minimum=1, maximum=HISTORY_PAGE_SIZE_MAX)] = None
    next_page_token: Annotated[str | None, f.Text(max_len=512)] = None
    wait_new_event: QueryFlag = None
