"""Worker-plane request models: registration, polls, task outcomes and heartbeats."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainValidator, ValidationInfo, WithJsonSchema, model_validator

from durable_workflow.protocol import codec

from .. import fields as f
from .. import limits
from . import RequestModel, WireObject

RUNTIMES = ("php", "python", "typescript", "go", "java", "external")
FAILURE_KINDS = (
    "application", "timeout", "cancellation", "malformed_output", "handler_crash", "decode_failure",
    "unsupported_payload",
)  # fmt: skip
TIMEOUT_TYPES = ("schedule_to_start", "start_to_close", "schedule_to_close", "heartbeat", "deadline_exceeded")
NAME = limits.NAME_LENGTH


def _history_page_size(value: Any, info: ValidationInfo) -> int | None:
    maximum: int = info.context["settings"].history_page_size_max if info.context else 1000
    return f.integer_check(minimum=1, maximum=maximum)(value)


HistoryPageSize = Annotated[
    int | None,
    PlainValidator(_history_page_size),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}),
]


class RegisterWorkerBody(RequestModel):
    """``POST /api/worker/register``."""

    worker_id: f.text(max_len=NAME) = None  # type: ignore[valid-type]
    task_queue: f.text(required=True, max_len=NAME)  # type: ignore[valid-type]
    runtime: f.text(required=True, choices=RUNTIMES)  # type: ignore[valid-type]
    sdk_version: f.text(max_len=64) = None  # type: ignore[valid-type]
    build_id: f.text(max_len=NAME) = None  # type: ignore[valid-type]
    supported_workflow_types: f.NameList = Field(default_factory=list)
    workflow_definition_fingerprints: f.NameMap = Field(default_factory=dict)
    supported_activity_types: f.NameList = Field(default_factory=list)
    max_concurrent_workflow_tasks: f.integer(minimum=1) = None  # type: ignore[valid-type]
    max_concurrent_activity_tasks: f.integer(minimum=1) = None  # type: ignore[valid-type]
    capabilities: f.NameList = Field(default_factory=list)
    task_slots: f.Object = None
    process_metrics: f.Object = None


class WorkerHeartbeatBody(RequestModel):
    """``POST /api/worker/heartbeat``."""

    worker_id: f.text(required=True, max_len=NAME)  # type: ignore[valid-type]
    task_slots: f.Object = None
    process_metrics: f.Object = None


class PollBody(RequestModel):
    """Fields both long polls share."""

    worker_id: f.text(required=True, max_len=NAME)  # type: ignore[valid-type]
    task_queue: f.text(required=True, max_len=NAME)  # type: ignore[valid-type]
    build_id: f.text(max_len=NAME) = None  # type: ignore[valid-type]
    poll_request_id: f.text(max_len=NAME) = None  # type: ignore[valid-type]


class PollWorkflowTaskBody(PollBody):
    """``POST /api/worker/workflow-tasks/poll``."""

    history_page_size: HistoryPageSize = None
    accept_history_encoding: f.text(max_len=64) = None  # type: ignore[valid-type]
    # ``poll_timeout_seconds`` is the later specs' name; it is read only without ``timeout_seconds``.
    timeout_seconds: f.Number = None
    poll_timeout_seconds: f.number_unless("timeout_seconds") = None  # type: ignore[valid-type]


class PollActivityTaskBody(PollBody):
    """``POST /api/worker/activity-tasks/poll``."""

    timeout_seconds: f.Number = None
    poll_timeout_seconds: f.number_unless("timeout_seconds") = None  # type: ignore[valid-type]


class WorkflowTaskFence(RequestModel):
    """The lease a workflow-task call must still hold."""

    lease_owner: f.text(required=True, max_len=NAME)  # type: ignore[valid-type]
    workflow_task_attempt: f.integer(required=True, minimum=1)  # type: ignore[valid-type]


class WorkflowTaskHistoryBody(WorkflowTaskFence):
    """``POST /api/worker/workflow-tasks/{task_id}/history``."""

    next_history_page_token: f.text(required=True, max_len=512)  # type: ignore[valid-type]
    history_page_size: HistoryPageSize = None
    accept_history_encoding: f.text(max_len=64) = None  # type: ignore[valid-type]


def _retry_policy(value: Any) -> Any:
    if isinstance(value, dict):
        for name in ("max_attempts",):
            if name in value:
                try:
                    f.column_int(value[name])
                except Exception as exc:
                    message = f"The retry policy {name} must not be greater than {limits.MAX_INT32}."
                    raise f.problem("message", message=message) from exc
        backoff = value.get("backoff_seconds")
        if isinstance(backoff, list):
            for item in backoff:
                try:
                    f.column_int(item)
                except Exception as exc:
                    message = f"The retry policy backoff seconds must not be greater than {limits.MAX_INT32}."
                    raise f.problem("message", message=message) from exc
    return value


def _command_type(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise f.problem("required")
    return value


class Command(WireObject):
    """One workflow-task command. The engine owns its meaning; these checks keep it storable."""

    type: Annotated[str, PlainValidator(_command_type), WithJsonSchema({"type": "string", "minLength": 1})]
    activity_type: f.ColumnName = None
    queue: f.ColumnName = None
    workflow_type: f.ColumnName = None
    change_id: f.ColumnName = None
    delay_seconds: f.ColumnInt = None
    start_to_close_timeout: f.ColumnInt = None
    schedule_to_start_timeout: f.ColumnInt = None
    schedule_to_close_timeout: f.ColumnInt = None
    heartbeat_timeout: f.ColumnInt = None
    execution_timeout_seconds: f.ColumnInt = None
    run_timeout_seconds: f.ColumnInt = None
    timeout_seconds: f.ColumnInt = None
    version: f.ColumnInt = None
    min_supported: f.ColumnInt = None
    max_supported: f.ColumnInt = None
    retry_policy: Annotated[Any, PlainValidator(_retry_policy), WithJsonSchema({})] = None


def _commands(value: Any) -> Any:
    if value is None or value == []:
        raise f.problem("required")
    if not isinstance(value, list):
        raise f.problem("array")
    return value


class CompleteWorkflowTaskBody(WorkflowTaskFence):
    """``POST /api/worker/workflow-tasks/{task_id}/complete``."""

    commands: Annotated[list[Command], BeforeValidator(_commands)]

    @model_validator(mode="before")
    @classmethod
    def _absent_commands(cls, data: Any) -> Any:
        # An absent list is "must be an array", unlike null or [] ("is required").
        if isinstance(data, dict) and "commands" not in data:
            return {**data, "commands": f.ABSENT}
        return data


class WorkflowFailure(WireObject):
    """A workflow task's failure report."""

    message: f.text(required=True)  # type: ignore[valid-type]
    type: f.text(max_len=NAME) = None  # type: ignore[valid-type]
    stack_trace: f.text() = None  # type: ignore[valid-type]


class ActivityFailure(WorkflowFailure):
    """An activity attempt's failure report."""

    non_retryable: f.Boolean = None
    retryable: f.Boolean = None
    cancelled: f.Boolean = None
    malformed_output: f.Boolean = None
    kind: f.text(choices=FAILURE_KINDS) = None  # type: ignore[valid-type]
    timeout_type: f.text(choices=TIMEOUT_TYPES) = None  # type: ignore[valid-type]


class FailWorkflowTaskBody(WorkflowTaskFence):
    """``POST /api/worker/workflow-tasks/{task_id}/fail``."""

    failure: Annotated[WorkflowFailure, BeforeValidator(f.required_object)]


class ActivityFence(RequestModel):
    """The attempt an activity call must still hold."""

    activity_attempt_id: f.text(required=True, max_len=NAME)  # type: ignore[valid-type]
    lease_owner: f.text(required=True, max_len=NAME)  # type: ignore[valid-type]


def _result(value: Any) -> Any:
    if (
        isinstance(value, dict)
        and set(value) == {"codec", "blob"}
        and value.get("codec") not in codec.SUPPORTED_CODECS
    ):
        supported = ", ".join(codec.SUPPORTED_CODECS)
        raise f.problem(
            "message", key="result.codec", message=f"The result codec must be one of: {supported}."
        )
    return value


class CompleteActivityTaskBody(ActivityFence):
    """``POST /api/worker/activity-tasks/{task_id}/complete``."""

    result: Annotated[
        Any,
        PlainValidator(_result),
        WithJsonSchema({"description": "A blob string or a {codec, blob} envelope."}),
    ] = None


class FailActivityTaskBody(ActivityFence):
    """``POST /api/worker/activity-tasks/{task_id}/fail``."""

    failure: Annotated[ActivityFailure, BeforeValidator(f.required_object)]


class HeartbeatActivityTaskBody(ActivityFence):
    """``POST /api/worker/activity-tasks/{task_id}/heartbeat``."""

    message: f.text(max_len=1000) = None  # type: ignore[valid-type]
    current: f.Number = None
    total: f.Number = None
    unit: f.text(max_len=64) = None  # type: ignore[valid-type]
    details: f.Object = None
