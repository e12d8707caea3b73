"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from .shapes import (
    BackfillScheduleBody,
    DescribeScheduleBody,
    ListSchedulesBody,
    ScheduleActionBody,
    ScheduleCommandBody,
    ScheduleHistoryBody,
    TriggerScheduleBody,
    UpcomingFiresBody,
)

OverlapPolicy = Literal["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"]
OVERLAP_POLICIES: tuple[OverlapPolicy, ...] = (
    "skip",
    "buffer_one",
    "buffer_all",
    "cancel_other",
    "terminate_other",
    "allow_all",
)


@dataclass(frozen=True)
class CreateScheduleRequest:
    """A validated ``POST /schedules`` body.

    ``spec`` passed :func:`.specs.parse_spec`; ``action.input`` is an envelope; ``memo`` fits
    the memo limit (the HTTP layer checked shapes, the engine re-checks the spec).
    """

    spec: dict[str, Any]
    action: ScheduleActionBody
    schedule_id: str | None = None
    overlap_policy: OverlapPolicy = "skip"
    jitter_seconds: int = 0
    max_runs: int | None = None
    memo: dict[str, Any] | None = None
    search_attributes: dict[str, Any] | None = None
    paused: bool = False
    note: str | None = None


@dataclass(frozen=True)
class UpdateScheduleRequest:
    """A validated ``PUT /schedules/{id}`` body: ``None`` leaves a field as it is.

    ``action`` is merged key by key into the stored action.
    """

    spec: dict[str, Any] | None = None
    action: ScheduleActionBody | None = None
    overlap_policy: OverlapPolicy | None = None
    jitter_seconds: int | None = None
    max_runs: int | None = None
    memo: dict[str, Any] | None = None
    search_attributes: dict[str, Any] | None = None
    note: str | None = None


class ScheduleAPI(Protocol):
    """Schedules: specs, fires, overlap policies, the audit history."""

    async def create_schedule(self, namespace: str, request: CreateScheduleRequest) -> ScheduleCommandBody:
        """Create a schedule (``schedule_already_exists`` when a live one has the id)."""
        ...

    async def list_schedules(self, namespace: str) -> ListSchedulesBody:
        """The namespace's live schedules, newest created first."""
        ...

    async def describe_schedule(self, namespace: str, schedule_id: str) -> DescribeScheduleBody:
        """One live schedule (``schedule_not_found`` for an unknown or deleted one)."""
        ...

    async def upcoming_schedule_fires(
        self, namespace: str, schedule_id: str, *, limit: int
    ) -> UpcomingFiresBody:
        """The next ``limit`` (at most 100) nominal fire times, by the spec code the fire loop
        plans with: from the planned next fire on, as many as the remaining actions allow; none
        while the schedule is paused (resuming plans from the next occurrence after then)."""
        ...

    async def update_schedule(
        self, namespace: str, schedule_id: str, request: UpdateScheduleRequest
    ) -> ScheduleCommandBody:
        """Change the given fields; a new spec or jitter recomputes the next fire."""
        ...

    async def delete_schedule(self, namespace: str, schedule_id: str) -> ScheduleCommandBody:
        """Soft-delete: hidden from list and describe, its history kept."""
        ...

    async def pause_schedule(self, namespace: str, schedule_id: str, note: str | None) -> ScheduleCommandBody:
        """Stop future fires (buffered ones wait too)."""
        ...

    async def resume_schedule(
        self, namespace: str, schedule_id: str, note: str | None
    ) -> ScheduleCommandBody:
        """Fire again from the next occurrence after now (paused-over fires are not caught up)."""
        ...

    async def trigger_schedule(
        self, namespace: str, schedule_id: str, overlap_policy: OverlapPolicy | None
    ) -> TriggerScheduleBody:
        """Fire now, with ``overlap_policy`` overriding the schedule's for this fire only."""
        ...

    async def backfill_schedule(
        self,
        namespace: str,
        schedule_id: str,
        start_time: datetime,
        end_time: datetime,
        overlap_policy: OverlapPolicy | None,
    ) -> BackfillScheduleBody:
        """Fire every occurrence in ``[start_time, end_time)`` now, in order, honoring overlap."""
        ...

    async def schedule_history(
        self, namespace: str, schedule_id: str, *, limit: int, after_sequence: int
    ) -> ScheduleHistoryBody:
        """One page of the audit stream, after ``after_sequence`` (deleted schedules too)."""
        ...
