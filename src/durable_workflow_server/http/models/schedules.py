"""Schedule request models (control-plane.md §8.7): create, update, pause/resume, trigger, backfill, history.

A spec is checked here, field by field, with the engine's own evaluator (:mod:`...engine.schedules.specs`):
an empty spec, a bad cron expression, an unknown time zone or a bad duration is a 422
``validation_failed`` naming the field (``spec.cron_expressions.0``), never a 500 (D7).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, cast

from pydantic import BeforeValidator, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from ...engine.schedules import specs
from ...engine.schedules.api import OVERLAP_POLICIES, OverlapPolicy
from ...engine.schedules.shapes import ScheduleActionBody
from .. import fields as f
from . import RequestModel
from .workflows import (
    _OBJECT_SCHEMA,
    _PAYLOAD_SCHEMA,
    WORKFLOW_ID_PATTERN,
    _search_attributes,
    normalize_arguments,
)

MAX_NOTE = 1000
MAX_JITTER_SECONDS = 3600
HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX = 100, 500
# Backfill bounds: the Unix epoch intervals count from, and far enough from datetime's end that
# evaluating a spec never overflows.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=timezone.utc)
_STRING = {"type": "string"}
# The text checks the spec's fields start with (then each its own rule).
_CRON_TEXT, _SPEC_TEXT = f.TextItem(255), f.TextItem(specs.MAX_TEXT)


def _cron(value: Any) -> str:
    text = _CRON_TEXT.validate(value)
    problem = specs.check_cron(text)
    if problem is not None:
        raise f.problem("message", message=f"The cron expression {text!r} {problem}.")
    return text


def _duration(value: Any) -> str | None:
    if value is None:
        return None
    text = _SPEC_TEXT.validate(value)
    try:
        length = specs.parse_duration(text)
    except ValueError:
        raise f.problem(
            "message",
            message=f"The duration {text!r} must be an ISO-8601 duration of weeks, days, hours, "
            "minutes and seconds (e.g. PT30M), at most P36500D.",
        ) from None
    if length.total_seconds() < 0:  # pragma: no cover - the pattern has no sign
        raise f.problem("format")
    return text


def _every(value: Any) -> str:
    text = _duration(f.required_object(value))
    assert text is not None
    if specs.parse_duration(text).total_seconds() < 1:
        raise f.problem("message", message=f"The interval {text!r} must be at least one second.")
    return text


def _timezone(value: Any) -> str | None:
    if value is None:
        return None
    text = _SPEC_TEXT.validate(value)
    try:
        specs.zone_of(text)
    except ValueError:
        raise f.problem("message", message=f"The time zone {text!r} is not an IANA time zone name.") from None
    return text


CronItem = Annotated[str, PlainValidator(_cron), WithJsonSchema({"type": "string", "maxLength": 255})]
_DURATION_SCHEMA = {"type": "string", "maxLength": specs.MAX_TEXT, "example": "PT30M"}


class IntervalBody(RequestModel):
    """One interval rule: fires every ``every`` (plus ``offset``), counted from the Unix epoch."""

    every: Annotated[str, PlainValidator(_every), WithJsonSchema(_DURATION_SCHEMA)]
    offset: Annotated[
        str | None, PlainValidator(_duration), WithJsonSchema({"anyOf": [_DURATION_SCHEMA, {"type": "null"}]})
    ] = None


class ScheduleSpecBody(RequestModel):
    """When a schedule fires: the union of its cron expressions and intervals, in ``timezone``."""

    cron_expressions: Annotated[list[CronItem], f.none_as(list), Field(max_length=specs.MAX_RULES)] = Field(
        default_factory=list
    )
    intervals: Annotated[list[IntervalBody], f.none_as(list), Field(max_length=specs.MAX_RULES)] = Field(
        default_factory=list
    )
    timezone: Annotated[
        str | None, PlainValidator(_timezone), WithJsonSchema({"anyOf": [_STRING, {"type": "null"}]})
    ] = None

    @model_validator(mode="after")
    def _has_a_rule(self) -> ScheduleSpecBody:
        if not self.cron_expressions and not self.intervals:
            raise PydanticCustomError(
                "message",
                "message",
                {"message": "The spec must have at least one cron expression or interval."},
            )
        return self

    def stored(self) -> dict[str, Any]:
        """The spec as it is stored and answered: the keys the client sent."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


def _action_input(value: Any) -> Any:
    """``normalize_arguments`` with its field names placed inside ``action``."""
    try:
        return normalize_arguments(value)
    except PydanticCustomError as exc:
        context = dict(exc.context or {})
        if "key" in context:
            context["key"] = f"action.{context['key']}"
        if "field" in context:
            context["field"] = "action.input"
        raise PydanticCustomError(exc.type, exc.message_template, context) from None


def _legacy_timeouts(data: Any) -> Any:
    """``workflow_execution_timeout`` / ``workflow_run_timeout`` are the older names (renamed)."""
    if isinstance(data, dict):
        data = dict(data)
        for old, new in (
            ("workflow_execution_timeout", "execution_timeout_seconds"),
            ("workflow_run_timeout", "run_timeout_seconds"),
        ):
            if old in data and data.get(new) is None:
                data[new] = data.pop(old)
    return data


class ScheduleActionUpdate(RequestModel):
    """The workflow start a fire makes; on update, the keys given replace the stored ones."""

    workflow_type: Annotated[str | None, f.Text(max_len=255)] = None
    task_queue: Annotated[str | None, f.Text(max_len=255)] = None
    input: Annotated[Any, PlainValidator(_action_input), WithJsonSchema(_PAYLOAD_SCHEMA)] = None
    execution_timeout_seconds: Annotated[int | None, f.Integer(minimum=1)] = None
    run_timeout_seconds: Annotated[int | None, f.Integer(minimum=1)] = None

    @model_validator(mode="before")
    @classmethod
    def _rename(cls, data: Any) -> Any:
        return _legacy_timeouts(data)

    def body(self) -> ScheduleActionBody:
        """The given keys (``None`` is "not given"), ``input`` as an envelope."""
        return cast(ScheduleActionBody, self.model_dump(exclude_none=True))


class ScheduleActionCreate(ScheduleActionUpdate):
    """The workflow start of a new schedule: ``workflow_type`` is required."""

    workflow_type: Annotated[str, f.Text(required=True, max_len=255)]
    input: Annotated[Any, PlainValidator(_action_input), WithJsonSchema(_PAYLOAD_SCHEMA)] = Field(
        default=None, validate_default=True
    )


_Policy = Annotated[OverlapPolicy | None, f.Text(choices=OVERLAP_POLICIES)]
_Note = Annotated[str | None, f.Text(max_len=MAX_NOTE)]
_Memo = Annotated[dict[str, Any] | None, PlainValidator(f.check_object), WithJsonSchema(_OBJECT_SCHEMA)]
_SearchAttributes = Annotated[
    dict[str, Any] | None, PlainValidator(_search_attributes), WithJsonSchema(_OBJECT_SCHEMA)
]


class CreateScheduleBody(RequestModel):
    """``POST /api/schedules``."""

    schedule_id: Annotated[str | None, f.Text(max_len=128, pattern=WORKFLOW_ID_PATTERN)] = None
    spec: Annotated[ScheduleSpecBody, BeforeValidator(f.required_object)]
    action: Annotated[ScheduleActionCreate, BeforeValidator(f.required_object)]
    overlap_policy: _Policy = None
    jitter_seconds: Annotated[int | None, f.Integer(minimum=0, maximum=MAX_JITTER_SECONDS)] = None
    max_runs: Annotated[int | None, f.Integer(minimum=1)] = None
    memo: _Memo = None
    search_attributes: _SearchAttributes = None
    paused: f.Boolean = None
    note: _Note = None


class UpdateScheduleBody(RequestModel):
    """``PUT /api/schedules/{schedule_id}``: only the fields given change; unknown keys are ignored."""

    spec: ScheduleSpecBody | None = None
    action: ScheduleActionUpdate | None = None
    overlap_policy: _Policy = None
    jitter_seconds: Annotated[int | None, f.Integer(minimum=0, maximum=MAX_JITTER_SECONDS)] = None
    max_runs: Annotated[int | None, f.Integer(minimum=1)] = None
    memo: _Memo = None
    search_attributes: _SearchAttributes = None
    note: _Note = None


class ScheduleNoteBody(RequestModel):
    """``POST /api/schedules/{schedule_id}/pause`` and ``/resume``."""

    note: _Note = None


class TriggerScheduleBody(RequestModel):
    """``POST /api/schedules/{schedule_id}/trigger``: ``overlap_policy`` overrides for this fire."""

    overlap_policy: _Policy = None


def _instant(value: Any) -> datetime:
    if value is None:
        raise f.problem("required")
    if not isinstance(value, str) or not value.strip():
        raise f.problem("string") if not isinstance(value, str) else f.problem("required")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        instant = (
            parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
        )
    except (ValueError, OverflowError):
        raise f.problem("format") from None
    if not EARLIEST_INSTANT <= instant < LATEST_INSTANT:
        raise f.problem("message", message="Backfill times must fall between 1970 and 9000.")
    return instant


_Instant = Annotated[
    datetime, PlainValidator(_instant), WithJsonSchema({"type": "string", "format": "date-time"})
]


class BackfillScheduleBody(RequestModel):
    """``POST /api/schedules/{schedule_id}/backfill``: fire the occurrences in ``[start_time, end_time)``."""

    start_time: _Instant = Field(default=None, validate_default=True)
    end_time: _Instant = Field(default=None, validate_default=True)
    overlap_policy: _Policy = None


def _history_limit(value: Any) -> int:
    """As the reference: absent, junk or not positive is the default 100; more than 500 is 500."""
    number = f.as_int(value) if value is not None else None
    if number is None or number <= 0:
        return HISTORY_LIMIT_DEFAULT
    return min(number, HISTORY_LIMIT_MAX)


class ScheduleHistoryQuery(RequestModel):
    """``GET /api/schedules/{schedule_id}/history``: ``limit`` defaults to 100, at most 500."""

    limit: Annotated[
        int,
        PlainValidator(_history_limit),
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": HISTORY_LIMIT_MAX}),
    ] = Field(default=None, validate_default=True)
    after_sequence: Annotated[str | None, f.Text(max_len=32)] = None
