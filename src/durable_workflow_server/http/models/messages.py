"""Request models of workflow messages answered by workers: queries, query tasks and updates."""

from __future__ import annotations

from typing import Annotated, Any, cast

from pydantic import BeforeValidator, Field, PlainValidator, WithJsonSchema

from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import is_external_storage_envelope
from durable_workflow.protocol.wire import Envelope

from ...engine.external_storage.stored import stored_envelope
from .. import fields as f
from .. import limits
from . import RequestModel, WireObject
from .worker import PollBody
from .workflows import _PAYLOAD_SCHEMA, normalize_arguments

NAME = limits.NAME_LENGTH
WAIT_FOR = ("accepted", "completed")


def _optional_arguments(value: Any) -> dict[str, str] | None:
    """Absent or ``null`` stays ``None`` (the worker then gets ``{codec: null, blob: null}``)."""
    if value is None:
        return None
    envelope = normalize_arguments(value)
    return {"codec": envelope["codec"], "blob": envelope["blob"]}


OptionalArguments = Annotated[
    dict[str, str] | None, PlainValidator(_optional_arguments), WithJsonSchema(_PAYLOAD_SCHEMA)
]


class QueryWorkflowBody(RequestModel):
    """``POST /api/workflows/{workflow_id}/query/{name}`` (and the run-targeted form)."""

    input: OptionalArguments = None

    def arguments(self) -> Envelope | None:
        """The query arguments as an envelope, ``None`` when the caller sent none."""
        return cast(Envelope | None, self.input)


class PollQueryTaskBody(PollBody):
    """``POST /api/worker/query-tasks/poll``."""

    timeout_seconds: f.Number = None
    poll_timeout_seconds: Annotated[float | int | None, f.NumberUnless("timeout_seconds")] = None


class QueryTaskFence(RequestModel):
    """The lease a query-task call must still hold."""

    lease_owner: Annotated[str, f.Text(required=True, max_len=NAME)]
    query_task_attempt: Annotated[int, f.Integer(required=True, minimum=1)]


def _result_envelope(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if is_external_storage_envelope(value):
        # A worker that stored a large result itself (SDK 0.4.84 does over its threshold): the
        # reference is checked and handed to the caller as is (a query result is not stored).
        try:
            stored_envelope(value)
        except ValueError as exc:
            raise f.problem("message", message=f"The result envelope reference is invalid: {exc}") from exc
        return {"codec": value["codec"], "external_storage": dict(value["external_storage"])}
    if not isinstance(value, dict) or set(value) != {"codec", "blob"}:
        raise f.problem("message", message="The result envelope must be an object with codec and blob.")
    if value["codec"] not in codec.SUPPORTED_CODECS or not isinstance(value["blob"], str):
        supported = ", ".join(codec.SUPPORTED_CODECS)
        raise f.problem(
            "message", message=f"The result envelope needs a codec of {supported} and a blob string."
        )
    return {"codec": value["codec"], "blob": value["blob"]}


class CompleteQueryTaskBody(QueryTaskFence):
    """``POST /api/worker/query-tasks/{query_task_id}/complete``."""

    result: Annotated[Any, WithJsonSchema({"description": "The query result as plain JSON."})] = None
    result_envelope: Annotated[
        dict[str, Any] | None,
        PlainValidator(_result_envelope),
        WithJsonSchema({"anyOf": [{"type": "object"}, {"type": "null"}]}),
    ] = None


class QueryFailure(WireObject):
    """A worker's refusal of a query task; ``reason`` reaches the caller.

    ``message`` may be blank (SDK 0.4.84 sends ``str(exc)``, empty for ``raise ValueError()``):
    refusing the refusal would leave the caller waiting for its timeout, so the engine
    substitutes a default message instead.
    """

    message: Annotated[str | None, f.Text()] = None
    reason: Annotated[str | None, f.Text(max_len=NAME)] = None
    type: Annotated[str | None, f.Text(max_len=NAME)] = None
    stack_trace: Annotated[str | None, f.Text()] = None


class FailQueryTaskBody(QueryTaskFence):
    """``POST /api/worker/query-tasks/{query_task_id}/fail``."""

    failure: Annotated[QueryFailure, BeforeValidator(f.required_object)]


def _wait_policy(value: Any) -> None:
    raise f.problem(
        "message", message="The wait_policy field was renamed: use wait_for (accepted or completed)."
    )


class UpdateWorkflowBody(RequestModel):
    """``POST /api/workflows/{workflow_id}/update/{name}`` (and the run-targeted form)."""

    wait_policy: Annotated[Any, PlainValidator(_wait_policy), WithJsonSchema({"not": {}})] = None
    input: Annotated[dict[str, str], PlainValidator(normalize_arguments), WithJsonSchema(_PAYLOAD_SCHEMA)] = (
        Field(default=None, validate_default=True)
    )
    request_id: Annotated[str | None, f.Text(max_len=255)] = None
    wait_for: Annotated[str | None, f.Text(choices=WAIT_FOR)] = None
    wait_timeout_seconds: Annotated[int | None, f.Integer(minimum=1, maximum=3600)] = None

    def arguments(self) -> Envelope:
        """The update arguments as an envelope (``[]`` when the caller sent none)."""
        return cast(Envelope, self.input)
