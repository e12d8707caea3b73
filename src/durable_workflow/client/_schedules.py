"""Schedules: create, list, describe, update, pause, resume, trigger, backfill, history, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import ServerError
from ..protocol import routes
from ._base import BaseClient
from ._schedule_handle import ScheduleHandle
from ._schedule_types import ScheduleAction, ScheduleSpec

# The result classes load with the first call that returns one (``dw`` cold start).
if TYPE_CHECKING:
    from ._schedule_results import (
        ScheduleBackfillResult,
        ScheduleDescription,
        ScheduleHistoryEvent,
        ScheduleHistoryPage,
        ScheduleList,
        ScheduleOperationResult,
        ScheduleTriggerResult,
    )

_OPERATION = "schedule"


def _spec_body(spec: ScheduleSpec | Mapping[str, Any]) -> dict[str, Any]:
    return (spec if isinstance(spec, ScheduleSpec) else ScheduleSpec.from_dict(spec)).to_dict()


def _instant(value: str | datetime) -> str:
    """A backfill bound as ISO-8601 text (a naive datetime is taken as UTC)."""
    if isinstance(value, str):
        return value
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class SchedulesMixin(BaseClient):
    """Schedules methods of :class:`durable_workflow.Client`."""

    def _action_body(self, action: ScheduleAction | Mapping[str, Any], schedule_id: str) -> dict[str, Any]:
        typed = action if isinstance(action, ScheduleAction) else ScheduleAction.from_mapping(action)
        what = f"input of schedule {schedule_id}"
        # ``_arguments``: a list as it is; a mapping only with ``plain_json_payloads`` (as for starts).
        return typed.to_body(lambda value: self._caller_value(self._arguments(value), what=what))

    def _path(self, schedule_id: str) -> dict[str, str]:
        return {"schedule_id": schedule_id}

    def get_schedule_handle(self, schedule_id: str) -> ScheduleHandle:
        """A handle for a schedule you already know; no request is made."""
        return ScheduleHandle(self, schedule_id)

    async def create_schedule(
        self,
        *,
        spec: ScheduleSpec | Mapping[str, Any],
        action: ScheduleAction | Mapping[str, Any],
        schedule_id: str | None = None,
        overlap_policy: str | None = None,
        jitter_seconds: int | None = None,
        max_runs: int | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        paused: bool = False,
        note: str | None = None,
    ) -> ScheduleHandle:
        """Create a schedule and return its handle.

        Args:
            spec: When it fires (cron expressions in a time zone, intervals).
            action: The workflow start each fire makes; ``input`` is sent as an Avro envelope.
            schedule_id: Your id for it; the server generates one when omitted.
            overlap_policy: ``skip`` (server default), ``buffer_one``, ``buffer_all``,
                ``cancel_other``, ``terminate_other`` or ``allow_all``.
            jitter_seconds: Each fire is delayed by a random 0..jitter seconds (at most 3600).
            max_runs: Fire at most this many times.
            memo: Memo of every started workflow.
            search_attributes: Search attributes of every started workflow.
            paused: Create it paused.
            note: Operator's note.

        Raises:
            ScheduleAlreadyExists: A schedule with this id exists.
            InvalidArgument: The server rejected a field (a bad cron expression, time zone, ...).
        """
        label = schedule_id or "(server-generated id)"
        body: dict[str, Any] = {"spec": _spec_body(spec), "action": self._action_body(action, label)}
        optional = {
            "schedule_id": schedule_id,
            "overlap_policy": overlap_policy,
            "jitter_seconds": jitter_seconds,
            "max_runs": max_runs,
            "memo": dict(memo) if memo is not None else None,
            "search_attributes": dict(search_attributes) if search_attributes is not None else None,
            "paused": True if paused else None,
            "note": note,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        data = await self._request_object("POST", routes.SCHEDULES, body=body, operation=_OPERATION)
        return ScheduleHandle(self, str(data.get("schedule_id") or schedule_id or ""), raw=data)

    async def list_schedules(
        self,
        *,
        status: str | None = None,
        workflow_type: str | None = None,
        query: str | None = None,
        page_size: int | None = None,
        next_page_token: str | None = None,
    ) -> ScheduleList:
        """List the namespace's schedules, newest created first.

        The filters and paging parameters are sent only when given, as ``dw schedule:list``
        sends them; a server that does not filter or page answers every schedule.

        Args:
            status: ``active`` or ``paused``.
            workflow_type: Only schedules starting this workflow type.
            query: A visibility query over the schedules.
            page_size: Schedules per page (1-200).
            next_page_token: The previous page's ``next_page_token``.
        """
        params = {
            "status": status,
            "workflow_type": workflow_type,
            "query": query,
            "page_size": page_size,
            "next_page_token": next_page_token,
        }
        data = await self._request_object("GET", routes.SCHEDULES, params=params, operation=_OPERATION)
        from ._schedule_results import ScheduleList

        return ScheduleList.from_dict(data)

    async def describe_schedule(self, schedule_id: str) -> ScheduleDescription:
        """Read a schedule: status, spec, action, next fire and counters.

        Raises:
            ScheduleNotFound: No such schedule in the namespace (or it was deleted).
        """
        data = await self._request_object(
            "GET", routes.SCHEDULE, path_params=self._path(schedule_id), operation=_OPERATION
        )
        from ._schedule_results import ScheduleDescription

        return ScheduleDescription.from_dict(data, schedule_id=schedule_id)

    async def update_schedule(
        self,
        schedule_id: str,
        *,
        spec: ScheduleSpec | Mapping[str, Any] | None = None,
        action: ScheduleAction | Mapping[str, Any] | None = None,
        overlap_policy: str | None = None,
        jitter_seconds: int | None = None,
        max_runs: int | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> ScheduleOperationResult:
        """Change the given fields; ``action`` keys replace the stored ones key by key.

        A new spec or jitter plans the next fire again; a new ``max_runs`` recomputes the
        remaining actions (``max_runs`` minus the fires so far).

        Raises:
            ScheduleNotFound: No such schedule.
            InvalidArgument: The server rejected a field.
        """
        body: dict[str, Any] = {}
        if spec is not None:
            body["spec"] = _spec_body(spec)
        if action is not None:
            body["action"] = self._action_body(action, schedule_id)
        optional = {
            "overlap_policy": overlap_policy,
            "jitter_seconds": jitter_seconds,
            "max_runs": max_runs,
            "memo": dict(memo) if memo is not None else None,
            "search_attributes": dict(search_attributes) if search_attributes is not None else None,
            "note": note,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        data = await self._request_object(
            "PUT", routes.SCHEDULE, path_params=self._path(schedule_id), body=body, operation=_OPERATION
        )
        from ._schedule_results import ScheduleOperationResult

        return ScheduleOperationResult.from_dict(data, schedule_id=schedule_id)

    async def pause_schedule(self, schedule_id: str, note: str | None = None) -> ScheduleOperationResult:
        """Pause future fires (running workflows are not touched); ``note`` becomes the note."""
        body = {"note": note} if note is not None else {}
        data = await self._request_object(
            "POST",
            routes.SCHEDULE_PAUSE,
            path_params=self._path(schedule_id),
            body=body,
            operation=_OPERATION,
        )
        from ._schedule_results import ScheduleOperationResult

        return ScheduleOperationResult.from_dict(data, schedule_id=schedule_id)

    async def resume_schedule(self, schedule_id: str, note: str | None = None) -> ScheduleOperationResult:
        """Resume a paused schedule from its next occurrence; ``note`` replaces the note."""
        body = {"note": note} if note is not None else {}
        data = await self._request_object(
            "POST",
            routes.SCHEDULE_RESUME,
            path_params=self._path(schedule_id),
            body=body,
            operation=_OPERATION,
        )
        from ._schedule_results import ScheduleOperationResult

        return ScheduleOperationResult.from_dict(data, schedule_id=schedule_id)

    async def trigger_schedule(
        self, schedule_id: str, overlap_policy: str | None = None
    ) -> ScheduleTriggerResult:
        """Fire now; ``overlap_policy`` overrides the schedule's for this fire only."""
        body = {"overlap_policy": overlap_policy} if overlap_policy is not None else {}
        data = await self._request_object(
            "POST",
            routes.SCHEDULE_TRIGGER,
            path_params=self._path(schedule_id),
            body=body,
            operation=_OPERATION,
        )
        from ._schedule_results import ScheduleTriggerResult

        return ScheduleTriggerResult.from_dict(data, schedule_id=schedule_id)

    async def backfill_schedule(
        self,
        schedule_id: str,
        *,
        start_time: str | datetime,
        end_time: str | datetime,
        overlap_policy: str | None = None,
    ) -> ScheduleBackfillResult:
        """Fire every occurrence in ``[start_time, end_time)`` now, in order, honoring overlap.

        Raises:
            ScheduleNotFound: No such schedule.
            InvalidArgument: ``end_time`` is not after ``start_time`` (``invalid_time_range``).
        """
        body: dict[str, Any] = {"start_time": _instant(start_time), "end_time": _instant(end_time)}
        if overlap_policy is not None:
            body["overlap_policy"] = overlap_policy
        data = await self._request_object(
            "POST",
            routes.SCHEDULE_BACKFILL,
            path_params=self._path(schedule_id),
            body=body,
            operation=_OPERATION,
        )
        from ._schedule_results import ScheduleBackfillResult

        return ScheduleBackfillResult.from_dict(data, schedule_id=schedule_id)

    async def delete_schedule(self, schedule_id: str) -> ScheduleOperationResult:
        """Delete the schedule; its audit history survives."""
        data = await self._request_object(
            "DELETE", routes.SCHEDULE, path_params=self._path(schedule_id), operation=_OPERATION
        )
        from ._schedule_results import ScheduleOperationResult

        return ScheduleOperationResult.from_dict(data, schedule_id=schedule_id)

    async def get_schedule_history(
        self, schedule_id: str, *, limit: int | None = None, after_sequence: int | None = None
    ) -> ScheduleHistoryPage:
        """One page of the schedule's audit history, by ``sequence`` ascending.

        Args:
            limit: Events per page (100 by default, at most 500).
            after_sequence: The previous page's ``next_cursor``.

        Raises:
            ScheduleNotFound: The schedule id is unknown (a deleted schedule keeps its history).
        """
        data = await self._request_object(
            "GET",
            routes.SCHEDULE_HISTORY,
            path_params=self._path(schedule_id),
            params={"limit": limit, "after_sequence": after_sequence},
            operation=_OPERATION,
        )
        from ._schedule_results import ScheduleHistoryPage

        return ScheduleHistoryPage.from_dict(data, schedule_id=schedule_id)

    async def iter_schedule_history(
        self, schedule_id: str, *, limit: int | None = None, after_sequence: int | None = None
    ) -> AsyncIterator[ScheduleHistoryEvent]:
        """Every audit event of the schedule, paging until the server reports ``has_more=False``."""
        cursor = after_sequence
        while True:
            page = await self.get_schedule_history(schedule_id, limit=limit, after_sequence=cursor)
            for event in page.events:
                yield event
            if not page.has_more or page.next_cursor is None:
                return
            if cursor is not None and page.next_cursor <= cursor:
                raise ServerError(
                    f"the history of schedule {schedule_id} did not advance past sequence {cursor}",
                    body=page.raw,
                )
            cursor = page.next_cursor
