"""The wire bodies of the schedule routes (control-plane.md §8.7, DECISIONS D8).

Describe and list answer the superset of D8: the reference's nested ``state`` / ``info`` blocks
and ``next_fire`` / ``last_fire``, and the flat copies the SDKs read (``status``, ``paused``,
``next_fire_at``, ``last_fired_at``, ``fires_count``, ...). Every timestamp is RFC 3339 UTC.
"""

from __future__ import annotations

from typing import Any, TypedDict

from durable_workflow.protocol.wire import Envelope


class _Interval(TypedDict):
    every: str


class ScheduleIntervalBody(_Interval, total=False):
    offset: str


class ScheduleSpecBody(TypedDict, total=False):
    cron_expressions: list[str]
    intervals: list[ScheduleIntervalBody]
    timezone: str


class ScheduleActionBody(TypedDict, total=False):
    workflow_type: str
    task_queue: str
    input: Envelope
    execution_timeout_seconds: int
    run_timeout_seconds: int


class ScheduleStateBody(TypedDict):
    status: str
    paused: bool
    note: str | None


class RecentActionBody(TypedDict):
    scheduled_at: str | None
    started_at: str
    workflow_id: str | None
    run_id: str | None
    source: str | None


class BufferedActionBody(TypedDict):
    fire_at: str
    source: str
    buffered_at: str


class ScheduleInfoBody(TypedDict):
    next_fire: str | None
    last_fire: str | None
    fires_count: int
    failures_count: int
    recent_actions: list[RecentActionBody]
    buffered_actions: list[BufferedActionBody]
    skipped_trigger_count: int
    last_skip_reason: str | None
    last_skipped_at: str | None


class _ListItem(TypedDict):
    schedule_id: str
    workflow_type: str
    status: str
    paused: bool
    spec: dict[str, Any]
    action: dict[str, Any]
    overlap_policy: str
    note: str | None
    fires_count: int
    next_fire: str | None
    last_fire: str | None
    next_fire_at: str | None
    last_fired_at: str | None


class ScheduleListItemBody(_ListItem, total=False):
    """One row of ``GET /schedules``; the limits only when set (as the reference)."""

    jitter_seconds: int
    max_runs: int
    remaining_actions: int


class ListSchedulesBody(TypedDict):
    namespace: str
    schedules: list[ScheduleListItemBody]
    next_page_token: str | None


class DescribeScheduleBody(TypedDict):
    namespace: str
    schedule_id: str
    spec: dict[str, Any]
    action: dict[str, Any]
    overlap_policy: str
    state: ScheduleStateBody
    info: ScheduleInfoBody
    memo: dict[str, Any]
    search_attributes: dict[str, Any]
    jitter_seconds: int
    max_runs: int | None
    remaining_actions: int | None
    latest_workflow_instance_id: str | None
    created_at: str
    updated_at: str
    # the flat copies (D8)
    status: str
    paused: bool
    note: str | None
    fires_count: int
    failures_count: int
    next_fire: str | None
    last_fire: str | None
    next_fire_at: str | None
    last_fired_at: str | None
    paused_at: str | None


class _Outcome(TypedDict):
    namespace: str
    schedule_id: str
    outcome: str


class ScheduleCommandBody(_Outcome, total=False):
    """Create, update, delete, pause and resume answers (the keys after ``outcome`` vary)."""

    status: str
    created_at: str
    updated_at: str
    deleted_at: str
    paused: bool
    note: str | None
    paused_at: str | None
    resumed_at: str | None


class TriggerScheduleBody(_Outcome, total=False):
    """``outcome``: triggered (with the workflow), buffered, buffer_full or skipped (with why)."""

    workflow_id: str
    run_id: str
    buffer_depth: int
    reason: str


class _BackfillFire(TypedDict):
    fire_time: str
    outcome: str  # started | buffered | skipped | failed


class BackfillFireBody(_BackfillFire, total=False):
    workflow_id: str
    run_id: str
    buffer_depth: int
    reason: str


class BackfillScheduleBody(TypedDict):
    namespace: str
    schedule_id: str
    outcome: str  # backfill_started
    fires_attempted: int
    results: list[BackfillFireBody]


class UpcomingFiresBody(TypedDict):
    """The next nominal fire times of a schedule (what the fire loop will plan, in order)."""

    namespace: str
    schedule_id: str
    jitter_seconds: int  # each fire may start up to this much after its nominal time
    fires: list[str]


class ScheduleHistoryEventBody(TypedDict):
    id: str
    sequence: int
    event_type: str
    payload: dict[str, Any]
    workflow_instance_id: str | None
    workflow_run_id: str | None
    recorded_at: str


class ScheduleHistoryBody(TypedDict):
    schedule_id: str
    namespace: str
    events: list[ScheduleHistoryEventBody]
    next_cursor: int | None
    has_more: bool
