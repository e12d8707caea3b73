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

    worker_id: Annotated[str | None, f.Text(max_len=NAME)] = None
    task_queue: Annotated[str, f.Text(required=True, max_len=NAME)]
    runtime: Annotated[str, f.Text(required=True, choices=tuple(RUNTIMES))]
    sdk_version: Annotated[str | None, f.Text(max_len=64)] = None
    build_id: Annotated[str | None, f.Text(max_len=NAME)] = None
    supported_workflow_types: f.NameList = Field(default_factory=list)
    workflow_definition_fingerprints: f.NameMap = Field(default_factory=dict)
    supported_activity_types: f.NameList = Field(default_factory=list)
    max_concurrent_workflow_tasks: Annotated[int | None, f.Integer(minimum=1)] = None
    max_concurrent_activity_tasks: Annotated[int | None, f.Integer(minimum=1)] = None
    capabilities: f.NameList = Field(default_factory=list)
    task_slots: f.Object = None
    process_metrics: f.Object = None


class WorkerHeartbeatBody(RequestModel):
    """``POST /api/worker/heartbeat``."""

    worker_id: Annotated[str, f.Text(required=True, max_len=NAME)]
    task_slots: f.Object = None
    process_metrics: f.Object = None
    # The worker's stop notice (after its drain): every lease it still holds is released now.
    stopping: f.Boolean = None


# The tasks of the polled kind this worker runs now; every other task of that kind leased to
# it is handed back before the poll claims (absent or null: nothing is handed back).
HeldTaskIds = list[f.NameItem] | None


class PollBody(RequestModel):
    """Fields both long polls share."""

    worker_id: Annotated[str, f.Text(required=True, max_len=NAME)]
    task_queue: Annotated[str, f.Text(required=True, max_len=NAME)]
    build_id: Annotated[str | None, f.Text(max_len=NAME)] = None
    poll_request_id: Annotated[str | None, f.Text(max_len=NAME)] = None
    # With ``held_task_ids``: leases granted or renewed less than this many seconds ago are not
    # handed back (a worker taking tasks eagerly may poll before such an answer reached it).
    hand_back_grace_seconds: f.Number = None


class PollWorkflowTaskBody(PollBody):
    """``POST /api/worker/workflow-tasks/poll``."""

    history_page_size: HistoryPageSize = None
    accept_history_encoding: Annotated[str | None, f.Text(max_len=64)] = None
    # ``poll_timeout_seconds`` is the later specs' name; it is read only without ``timeout_seconds``.
    timeout_seconds: f.Number = None
    poll_timeout_seconds: Annotated[float | int | None, f.NumberUnless("timeout_seconds")] = None
    held_task_ids: HeldTaskIds = None


class PollActivityTaskBody(PollBody):
    """``POST /api/worker/activity-tasks/poll``."""

    timeout_seconds: f.Number = None
    poll_timeout_seconds: Annotated[float | int | None, f.NumberUnless("timeout_seconds")] = None
    held_task_ids: HeldTaskIds = None


class WorkflowTaskFence(RequestModel):
    """The lease a workflow-task call must still hold."""

    lease_owner: Annotated[str, f.Text(required=True, max_len=NAME)]
    workflow_task_attempt: Annotated[int, f.Integer(required=True, minimum=1)]


class WorkflowTaskHistoryBody(WorkflowTaskFence):
    """``POST /api/worker/workflow-tasks/{task_id}/history``."""

    next_history_page_token: Annotated[str, f.Text(required=True, max_len=512)]
    history_page_size: HistoryPageSize = None
    accept_history_encoding: Annotated[str | None, f.Text(max_len=64)] = None


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
    condition_key: f.ColumnName = None
    condition_definition_fingerprint: f.ColumnName = None
    condition_wait_id: f.ColumnName = None
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
    # Eager activity dispatch (capability ``eager_activity_dispatch``): free activity slots of
    # the completing worker; up to that many of the activities scheduled on its queue are
    # leased to it and answered in ``eager_activity_tasks`` (see docs/protocol.md).
    eager_activity_slots: Annotated[int | None, f.Integer(minimum=0)] = None
    # Extension (sticky_workflow_tasks): the worker keeps the run's replay for its next task.
    sticky: f.Boolean = None

    @model_validator(mode="before")
    @classmethod
    def _absent_commands(cls, data: Any) -> Any:
        # An absent list is "must be an array", unlike null or [] ("is required").
        if isinstance(data, dict) and "commands" not in data:
            return {**data, "commands": f.ABSENT}
        return data


class WorkflowFailure(WireObject):
    """A workflow task's failure report."""

    message: Annotated[str, f.Text(required=True)]
    type: Annotated[str | None, f.Text(max_len=NAME)] = None
    stack_trace: Annotated[str | None, f.Text()] = None


class ActivityFailure(WorkflowFailure):
    """An activity attempt's failure report."""

    non_retryable: f.Boolean = None
    retryable: f.Boolean = None
    cancelled: f.Boolean = None
    malformed_output: f.Boolean = None
    kind: Annotated[str | None, f.Text(choices=tuple(FAILURE_KINDS))] = None
    timeout_type: Annotated[str | None, f.Text(choices=tuple(TIMEOUT_TYPES))] = None


class FailWorkflowTaskBody(WorkflowTaskFence):
    """``POST /api/worker/workflow-tasks/{task_id}/fail``."""

    failure: Annotated[WorkflowFailure, BeforeValidator(f.required_object)]


class ActivityFence(RequestModel):
    """The attempt an activity call must still hold."""

    activity_attempt_id: Annotated[str, f.Text(required=True, max_len=NAME)]
    lease_owner: Annotated[str, f.Text(required=True, max_len=NAME)]


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
    # Capability ``activity_completion_workflow_task``: lease the workflow task this completion
    # queues to the completing worker and answer it in ``eager_workflow_task``.
    eager_workflow_task: f.Boolean = None
    history_page_size: HistoryPageSize = None


class FailActivityTaskBody(ActivityFence):
    """``POST /api/worker/activity-tasks/{task_id}/fail``."""

    failure: Annotated[ActivityFailure, BeforeValidator(f.required_object)]


class HeartbeatActivityTaskBody(ActivityFence):
    """``POST /api/worker/activity-tasks/{task_id}/heartbeat``."""

    message: Annotated[str | None, f.Text(max_len=1000)] = None
    current: f.Number = None
    total: f.Number = None
    unit: Annotated[str | None, f.Text(max_len=64)] = None
    details: f.Object = None
