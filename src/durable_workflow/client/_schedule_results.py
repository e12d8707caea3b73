"""Typed answers of the schedule methods. Every class keeps the full answer in ``raw``.

Servers answer schedules in two shapes (control-plane.md §8.7, DECISIONS D8): the reference's
nested ``state`` / ``info`` blocks with ``next_fire`` / ``last_fire``, and flat copies
(``status``, ``next_fire_at``, ``fires_count``, ...). The parsers read the flat keys first and
fall back to the nested ones, so both kinds of server decode to the same values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import opt_int, opt_text, text
from ..errors import PayloadError
from ..protocol import codec

__all__ = [
    "ScheduleBackfillFire",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHistoryEvent",
    "ScheduleHistoryPage",
    "ScheduleList",
    "ScheduleOperationResult",
    "ScheduleTriggerResult",
]


def _map(value: Any) -> dict[str, Any]:
    # PHP servers render empty maps as ``[]``.
    return dict(value) if isinstance(value, Mapping) else {}


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any, default: int = 0) -> int:
    number = opt_int({"v": value}, "v")
    return default if number is None else number


def _decoded_input(action: Mapping[str, Any]) -> Any:
    value = action.get("input")
    if isinstance(value, Mapping) and "codec" in value:
        try:
            return codec.decode_envelope(value)
        except codec.PayloadCodecError as exc:
            raise PayloadError(f"cannot decode the schedule action's input: {exc}", exc.reason) from exc
    return value


@dataclass(frozen=True)
class ScheduleDescription:
    """A schedule as the server describes (or lists) it.

    Attributes:
        schedule_id: The schedule's id.
        status: ``active``, ``paused`` or ``deleted``.
        paused: Whether fires are paused.
        spec: The spec as stored (``cron_expressions``, ``intervals``, ``timezone``).
        action: The workflow start each fire makes, as stored (``input`` is an envelope).
        workflow_type: The action's workflow type.
        task_queue: The action's task queue.
        input: The action's input, decoded.
        overlap_policy: What a fire does while the previous workflow still runs.
        note: The operator's note (pause/resume reasons update it).
        fires_count: Workflows this schedule started.
        failures_count: Fires whose start failed.
        next_fire_at: When it fires next (``None`` while paused or when nothing is left to fire).
        last_fired_at: When it last started a workflow.
        remaining_actions: Fires left under ``max_runs`` (``None`` when unbounded).
        info: The server's ``info`` block (recent actions, buffered fires, skip counters).
        raw: The whole answer.
    """

    schedule_id: str
    status: str | None = None
    paused: bool | None = None
    namespace: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    action: dict[str, Any] = field(default_factory=dict)
    workflow_type: str | None = None
    task_queue: str | None = None
    input: Any = None
    overlap_policy: str | None = None
    note: str | None = None
    memo: dict[str, Any] = field(default_factory=dict)
    search_attributes: dict[str, Any] = field(default_factory=dict)
    jitter_seconds: int | None = None
    max_runs: int | None = None
    remaining_actions: int | None = None
    fires_count: int = 0
    failures_count: int = 0
    next_fire_at: str | None = None
    last_fired_at: str | None = None
    latest_workflow_instance_id: str | None = None
    paused_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, schedule_id: str = "") -> ScheduleDescription:
        """Build from a describe body or one ``GET /schedules`` row (flat keys, then nested).

        Raises:
            PayloadError: The action's input envelope could not be decoded.
        """
        state, info, action = _map(data.get("state")), _map(data.get("info")), _map(data.get("action"))
        status = _opt_str(_first(data.get("status"), state.get("status")))
        paused = _first(data.get("paused"), state.get("paused"))
        return cls(
            schedule_id=text(data, "schedule_id", schedule_id),
            status=status,
            paused=paused if isinstance(paused, bool) else (status == "paused" if status else None),
            namespace=opt_text(data, "namespace"),
            spec=_map(data.get("spec")),
            action=action,
            workflow_type=_opt_str(_first(action.get("workflow_type"), data.get("workflow_type"))),
            task_queue=_opt_str(action.get("task_queue")),
            input=_decoded_input(action),
            overlap_policy=opt_text(data, "overlap_policy"),
            note=_opt_str(_first(data.get("note"), state.get("note"))),
            memo=_map(data.get("memo")),
            search_attributes=_map(data.get("search_attributes")),
            jitter_seconds=opt_int(data, "jitter_seconds"),
            max_runs=opt_int(data, "max_runs"),
            remaining_actions=opt_int(data, "remaining_actions"),
            fires_count=_int(_first(data.get("fires_count"), info.get("fires_count"))),
            failures_count=_int(_first(data.get("failures_count"), info.get("failures_count"))),
            next_fire_at=_opt_str(
                _first(data.get("next_fire_at"), data.get("next_fire"), info.get("next_fire"))
            ),
            last_fired_at=_opt_str(
                _first(data.get("last_fired_at"), data.get("last_fire"), info.get("last_fire"))
            ),
            latest_workflow_instance_id=opt_text(data, "latest_workflow_instance_id"),
            paused_at=opt_text(data, "paused_at"),
            created_at=opt_text(data, "created_at"),
            updated_at=opt_text(data, "updated_at"),
            info=info,
            raw=dict(data),
        )


@dataclass(frozen=True)
class ScheduleList:
    """The namespace's schedules (``GET /schedules``), newest created first."""

    schedules: list[ScheduleDescription]
    next_page_token: str | None = None
    namespace: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[ScheduleDescription]:
        return iter(self.schedules)

    def __len__(self) -> int:
        return len(self.schedules)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleList:
        """Build from a ``GET /schedules`` body."""
        rows = data.get("schedules")
        items = (
            [ScheduleDescription.from_dict(row) for row in rows if isinstance(row, Mapping)]
            if isinstance(rows, list)
            else []
        )
        return cls(
            schedules=items,
            next_page_token=opt_text(data, "next_page_token"),
            namespace=opt_text(data, "namespace"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ScheduleOperationResult:
    """What an update, pause, resume or delete answered.

    ``outcome`` is ``updated``, ``paused``, ``resumed`` or ``deleted``; ``note`` is the note the
    schedule now carries (pause and resume). The other keys of the answer (``paused_at``,
    ``deleted_at``, ...) vary by server and are in ``raw``.
    """

    schedule_id: str
    outcome: str | None = None
    namespace: str | None = None
    note: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, schedule_id: str = "") -> ScheduleOperationResult:
        """Build from an update / pause / resume / delete answer."""
        return cls(
            schedule_id=text(data, "schedule_id", schedule_id),
            outcome=opt_text(data, "outcome"),
            namespace=opt_text(data, "namespace"),
            note=opt_text(data, "note"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ScheduleTriggerResult:
    """What a manual trigger did.

    ``outcome``: ``triggered`` (``workflow_id`` / ``run_id`` of the started workflow),
    ``buffered`` (``buffer_depth``), ``buffer_full`` or ``skipped`` (``reason``:
    ``status_not_triggerable``, ``remaining_actions_exhausted``, ``overlap_policy_skip``).
    """

    schedule_id: str
    outcome: str
    workflow_id: str | None = None
    run_id: str | None = None
    reason: str | None = None
    buffer_depth: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, schedule_id: str = "") -> ScheduleTriggerResult:
        """Build from a trigger answer."""
        return cls(
            schedule_id=text(data, "schedule_id", schedule_id),
            outcome=text(data, "outcome"),
            workflow_id=opt_text(data, "workflow_id"),
            run_id=opt_text(data, "run_id"),
            reason=opt_text(data, "reason"),
            buffer_depth=opt_int(data, "buffer_depth"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ScheduleBackfillFire:
    """One occurrence of a backfill: ``outcome`` ``started`` / ``buffered`` / ``skipped`` / ``failed``."""

    fire_time: str
    outcome: str
    workflow_id: str | None = None
    run_id: str | None = None
    reason: str | None = None
    buffer_depth: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleBackfillFire:
        return cls(
            fire_time=text(data, "fire_time"),
            outcome=text(data, "outcome"),
            workflow_id=opt_text(data, "workflow_id"),
            run_id=opt_text(data, "run_id"),
            reason=opt_text(data, "reason"),
            buffer_depth=opt_int(data, "buffer_depth"),
        )


@dataclass(frozen=True)
class ScheduleBackfillResult:
    """What a backfill did: how many occurrences it took, and each one's outcome."""

    schedule_id: str
    outcome: str
    fires_attempted: int = 0
    results: list[ScheduleBackfillFire] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, schedule_id: str = "") -> ScheduleBackfillResult:
        """Build from a backfill answer."""
        rows = data.get("results")
        results = (
            [ScheduleBackfillFire.from_dict(r) for r in rows if isinstance(r, Mapping)]
            if isinstance(rows, list)
            else []
        )
        return cls(
            schedule_id=text(data, "schedule_id", schedule_id),
            outcome=text(data, "outcome"),
            fires_attempted=_int(data.get("fires_attempted"), len(results)),
            results=results,
            raw=dict(data),
        )


@dataclass(frozen=True)
class ScheduleHistoryEvent:
    """One entry of a schedule's audit history.

    ``event_type`` is one of ``ScheduleCreated``, ``SchedulePaused``, ``ScheduleResumed``,
    ``ScheduleUpdated``, ``ScheduleTriggered``, ``ScheduleTriggerSkipped``, ``ScheduleDeleted``;
    ``workflow_instance_id`` / ``workflow_run_id`` name the workflow a fire started.
    """

    sequence: int
    event_type: str | None = None
    recorded_at: str | None = None
    workflow_instance_id: str | None = None
    workflow_run_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleHistoryEvent:
        return cls(
            sequence=_int(data.get("sequence")),
            event_type=opt_text(data, "event_type"),
            recorded_at=opt_text(data, "recorded_at"),
            workflow_instance_id=opt_text(data, "workflow_instance_id"),
            workflow_run_id=opt_text(data, "workflow_run_id"),
            payload=_map(data.get("payload")),
            id=opt_text(data, "id"),
        )


@dataclass(frozen=True)
class ScheduleHistoryPage:
    """One page of a schedule's audit history, ordered by ``sequence``.

    Ask for the next page with ``after_sequence=page.next_cursor`` while ``has_more``.
    """

    schedule_id: str
    events: list[ScheduleHistoryEvent]
    has_more: bool = False
    next_cursor: int | None = None
    namespace: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[ScheduleHistoryEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, schedule_id: str = "") -> ScheduleHistoryPage:
        """Build from a ``GET /schedules/{id}/history`` body."""
        rows = data.get("events")
        events = (
            [ScheduleHistoryEvent.from_dict(r) for r in rows if isinstance(r, Mapping)]
            if isinstance(rows, list)
            else []
        )
        more = data.get("has_more")
        return cls(
            schedule_id=text(data, "schedule_id", schedule_id),
            events=events,
            has_more=more if isinstance(more, bool) else False,
            next_cursor=opt_int(data, "next_cursor"),
            namespace=opt_text(data, "namespace"),
            raw=dict(data),
        )
