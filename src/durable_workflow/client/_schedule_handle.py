"""``ScheduleHandle``: a schedule id bound to a client; every method forwards to the client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._schedule_results import (
        ScheduleBackfillResult,
        ScheduleDescription,
        ScheduleHistoryEvent,
        ScheduleHistoryPage,
        ScheduleTriggerResult,
    )
    from ._schedule_types import ScheduleAction, ScheduleSpec
    from ._schedules import SchedulesMixin


class ScheduleHandle:
    """A created (or known) schedule.

    Attributes:
        schedule_id: The schedule's id.
        raw: The server's answer to the create (``outcome``, ``status``, ``created_at``, ...);
            empty for a handle of a schedule you already knew.
    """

    def __init__(
        self, client: SchedulesMixin, schedule_id: str, *, raw: Mapping[str, Any] | None = None
    ) -> None:
        self._client = client
        self.schedule_id = schedule_id
        self.raw: dict[str, Any] = dict(raw or {})

    def __repr__(self) -> str:
        return f"ScheduleHandle(schedule_id={self.schedule_id!r})"

    async def describe(self) -> ScheduleDescription:
        """Read the schedule (see :meth:`Client.describe_schedule`)."""
        return await self._client.describe_schedule(self.schedule_id)

    async def update(
        self,
        *,
        spec: ScheduleSpec | Mapping[str, Any] | None = None,
        action: ScheduleAction | Mapping[str, Any] | None = None,
        overlap_policy: str | None = None,
        jitter_seconds: int | None = None,
        max_runs: int | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        """Change the given fields (see :meth:`Client.update_schedule`)."""
        await self._client.update_schedule(
            self.schedule_id,
            spec=spec,
            action=action,
            overlap_policy=overlap_policy,
            jitter_seconds=jitter_seconds,
            max_runs=max_runs,
            memo=memo,
            search_attributes=search_attributes,
            note=note,
        )

    async def pause(self, note: str | None = None) -> None:
        """Pause future fires."""
        await self._client.pause_schedule(self.schedule_id, note=note)

    async def resume(self, note: str | None = None) -> None:
        """Resume a paused schedule."""
        await self._client.resume_schedule(self.schedule_id, note=note)

    async def trigger(self, overlap_policy: str | None = None) -> ScheduleTriggerResult:
        """Fire now (see :meth:`Client.trigger_schedule`)."""
        return await self._client.trigger_schedule(self.schedule_id, overlap_policy=overlap_policy)

    async def backfill(
        self,
        *,
        start_time: str | datetime,
        end_time: str | datetime,
        overlap_policy: str | None = None,
    ) -> ScheduleBackfillResult:
        """Fire the occurrences in ``[start_time, end_time)`` (see :meth:`Client.backfill_schedule`)."""
        return await self._client.backfill_schedule(
            self.schedule_id, start_time=start_time, end_time=end_time, overlap_policy=overlap_policy
        )

    async def history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> ScheduleHistoryPage:
        """One page of the audit history (see :meth:`Client.get_schedule_history`)."""
        return await self._client.get_schedule_history(
            self.schedule_id, limit=limit, after_sequence=after_sequence
        )

    async def iter_history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> AsyncIterator[ScheduleHistoryEvent]:
        """Every audit event, paging under the hood (see :meth:`Client.iter_schedule_history`)."""
        async for event in self._client.iter_schedule_history(
            self.schedule_id, limit=limit, after_sequence=after_sequence
        ):
            yield event

    async def delete(self) -> None:
        """Delete the schedule (its history survives)."""
        await self._client.delete_schedule(self.schedule_id)
