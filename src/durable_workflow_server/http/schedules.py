"""Schedules (control-plane.md §8.7): create, list, describe, update, delete, pause, resume,
trigger, backfill and the audit history.

Schedule answers carry the version header but no ``control_plane`` block. Refusals:
``schedule_not_found`` 404 (deleted schedules too, except for their history),
``schedule_already_exists`` 409, ``validation_failed`` / ``memo_too_large`` /
``invalid_time_range`` / ``invalid_after_sequence`` 422, ``trigger_failed`` 500.
"""

from __future__ import annotations

import json
from typing import Any

from durable_workflow.protocol import routes

from ..engine.schedules.api import CreateScheduleRequest, UpdateScheduleRequest
from ..engine.schedules.service import TRIGGER_FAILED
from . import limits
from .errors import ApiError
from .models.schedules import (
    BackfillScheduleBody,
    CreateScheduleBody,
    ScheduleHistoryQuery,
    ScheduleNoteBody,
    TriggerScheduleBody,
    UpdateScheduleBody,
)
from .routing import Call, Operation, Reply, copy_reply, engine_call


def _schedule_id(call: Call[Any]) -> str:
    return call.path["schedule_id"]


def _check_memo(call: Call[Any], memo: dict[str, Any] | None) -> None:
    if memo is None:
        return
    limit = call.settings.max_memo_bytes
    size = len(json.dumps(memo, separators=(",", ":"), ensure_ascii=False).encode())
    if size > limit:
        raise ApiError(
            422,
            "memo_too_large",
            f"The memo must not be larger than {limit} bytes of JSON (got {size}).",
            limit=limit,
        )


async def create_schedule(call: Call[CreateScheduleBody]) -> Reply:
    body = call.input
    _check_memo(call, body.memo)
    request = CreateScheduleRequest(
        spec=body.spec.stored(),
        action=body.action.body(),
        schedule_id=body.schedule_id,
        overlap_policy=body.overlap_policy or "skip",
        jitter_seconds=body.jitter_seconds or 0,
        max_runs=body.max_runs,
        memo=body.memo,
        search_attributes=body.search_attributes,
        paused=bool(body.paused),
        note=body.note,
    )
    return copy_reply(await engine_call(call.engine.create_schedule(call.namespace, request)), 201)


async def list_schedules(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.list_schedules(call.namespace)))


async def describe_schedule(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.describe_schedule(call.namespace, _schedule_id(call))))


async def update_schedule(call: Call[UpdateScheduleBody]) -> Reply:
    body = call.input
    _check_memo(call, body.memo)
    request = UpdateScheduleRequest(
        spec=body.spec.stored() if body.spec is not None else None,
        action=body.action.body() if body.action is not None else None,
        overlap_policy=body.overlap_policy,
        jitter_seconds=body.jitter_seconds,
        max_runs=body.max_runs,
        memo=body.memo,
        search_attributes=body.search_attributes,
        note=body.note,
    )
    return copy_reply(
        await engine_call(call.engine.update_schedule(call.namespace, _schedule_id(call), request))
    )


async def delete_schedule(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.delete_schedule(call.namespace, _schedule_id(call))))


async def pause_schedule(call: Call[ScheduleNoteBody]) -> Reply:
    result = call.engine.pause_schedule(call.namespace, _schedule_id(call), call.input.note)
    return copy_reply(await engine_call(result))


async def resume_schedule(call: Call[ScheduleNoteBody]) -> Reply:
    result = call.engine.resume_schedule(call.namespace, _schedule_id(call), call.input.note)
    return copy_reply(await engine_call(result))


async def trigger_schedule(call: Call[TriggerScheduleBody]) -> Reply:
    result = call.engine.trigger_schedule(call.namespace, _schedule_id(call), call.input.overlap_policy)
    return copy_reply(await engine_call(result, status_overrides={TRIGGER_FAILED: 500}))


async def backfill_schedule(call: Call[BackfillScheduleBody]) -> Reply:
    body = call.input
    result = call.engine.backfill_schedule(
        call.namespace, _schedule_id(call), body.start_time, body.end_time, body.overlap_policy
    )
    return copy_reply(await engine_call(result))


def _after_sequence(text: str | None) -> int:
    if text is None or text.strip() == "":
        return 0
    value = text.strip()
    if not value.isdigit():
        raise ApiError(
            422,
            "invalid_after_sequence",
            "The after_sequence must be a non-negative integer (the next_cursor of the previous page).",
            after_sequence=text,
        )
    # No sequence is beyond an INTEGER column: a larger cursor is past the end (an empty page).
    return min(int(value), limits.MAX_INT32)


async def schedule_history(call: Call[ScheduleHistoryQuery]) -> Reply:
    query = call.input
    after = _after_sequence(query.after_sequence)
    result = call.engine.schedule_history(
        call.namespace, _schedule_id(call), limit=query.limit, after_sequence=after
    )
    return copy_reply(await engine_call(result))


_SUMMARIES = {
    "list_schedules": "List the namespace's schedules, newest first.",
    "create_schedule": "Create a schedule.",
    "describe_schedule": "Describe a schedule: spec, action, state, next fire and counters.",
    "update_schedule": "Change a schedule's spec, action, overlap policy, jitter, limits, memo or note.",
    "delete_schedule": "Delete a schedule (its history is kept).",
    "pause_schedule": "Pause a schedule's fires.",
    "resume_schedule": "Resume a paused schedule.",
    "trigger_schedule": "Fire a schedule now.",
    "backfill_schedule": "Fire a schedule's occurrences in [start_time, end_time).",
    "schedule_history": "Read a schedule's audit history, after a sequence.",
}
OPERATIONS: list[Operation] = [
    Operation(method, path, operation_id, handler, body=body, query=query,
              summary=_SUMMARIES[operation_id], responses=responses)
    for method, path, operation_id, handler, body, query, responses in (
        ("GET", routes.SCHEDULES, "list_schedules", list_schedules, None, None, (200,)),
        ("POST", routes.SCHEDULES, "create_schedule", create_schedule, CreateScheduleBody, None,
         (201, 409)),
        ("GET", routes.SCHEDULE, "describe_schedule", describe_schedule, None, None, (200, 404)),
        ("PUT", routes.SCHEDULE, "update_schedule", update_schedule, UpdateScheduleBody, None,
         (200, 404)),
        ("DELETE", routes.SCHEDULE, "delete_schedule", delete_schedule, None, None, (200, 404)),
        ("POST", routes.SCHEDULE_PAUSE, "pause_schedule", pause_schedule, ScheduleNoteBody, None,
         (200, 404)),
        ("POST", routes.SCHEDULE_RESUME, "resume_schedule", resume_schedule, ScheduleNoteBody, None,
         (200, 404)),
        ("POST", routes.SCHEDULE_TRIGGER, "trigger_schedule", trigger_schedule, TriggerScheduleBody, None,
         (200, 404)),
        ("POST", routes.SCHEDULE_BACKFILL, "backfill_schedule", backfill_schedule, BackfillScheduleBody, None,
         (200, 404)),
        ("GET", routes.SCHEDULE_HISTORY, "schedule_history", schedule_history, None, ScheduleHistoryQuery,
         (200, 404)),
    )
]  # fmt: skip
