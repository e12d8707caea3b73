"""The schedule methods of the SDK against fake transports: the reference server's nested shapes,
history paging, and the blocking client's schedule handle."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from durable_workflow import Client, ScheduleAction, ScheduleSpec
from durable_workflow.errors import ServerError
from durable_workflow.protocol import codec
from durable_workflow.sync import Client as SyncClient

HEADERS = {"X-Durable-Workflow-Control-Plane-Version": "2"}


def _events(first: int, last: int) -> list[dict[str, Any]]:
    return [{"sequence": n, "event_type": "ScheduleTriggered", "payload": {}} for n in range(first, last + 1)]


def history_server(seen: list[httpx.Request]) -> httpx.MockTransport:
    """Five events in pages of two, as ``after_sequence`` asks."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        after = int(request.url.params.get("after_sequence", "0"))
        events = _events(after + 1, min(after + 2, 5))
        more = events[-1]["sequence"] < 5
        body = {"schedule_id": "s", "events": events, "has_more": more, "next_cursor": events[-1]["sequence"]}
        return httpx.Response(200, json=body, headers=HEADERS)

    return httpx.MockTransport(handler)


async def test_iter_schedule_history_pages_until_has_more_is_false() -> None:
    seen: list[httpx.Request] = []
    async with Client("http://dw.test", transport=history_server(seen)) as client:
        sequences = [e.sequence async for e in client.iter_schedule_history("s", limit=2)]
        handle_sequences = [
            e.sequence async for e in client.get_schedule_handle("s").iter_history(after_sequence=3)
        ]
    assert sequences == [1, 2, 3, 4, 5]
    assert handle_sequences == [4, 5]
    assert [dict(r.url.params) for r in seen[:3]] == [
        {"limit": "2"},
        {"limit": "2", "after_sequence": "2"},
        {"limit": "2", "after_sequence": "4"},
    ]


async def test_a_cursor_that_does_not_advance_raises_instead_of_looping() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"events": _events(1, 1), "has_more": True, "next_cursor": 1}
        return httpx.Response(200, json=body, headers=HEADERS)

    async with Client("http://dw.test", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ServerError):
            [e async for e in client.iter_schedule_history("s")]


async def test_describe_reads_the_reference_servers_nested_shape() -> None:
    nested = {
        "schedule_id": "s",
        "spec": {"cron_expressions": ["0 * * * *"]},
        "action": {"workflow_type": "w", "task_queue": "q", "input": codec.envelope([1, 2])},
        "overlap_policy": "skip",
        "state": {"status": "paused", "paused": True, "note": "hold"},
        "info": {
            "next_fire": None,
            "last_fire": "2026-01-01T00:00:00+00:00",
            "fires_count": 4,
            "failures_count": 1,
        },
        "memo": [],  # PHP renders an empty map as a list
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=nested, headers=HEADERS)

    async with Client("http://dw.test", transport=httpx.MockTransport(handler)) as client:
        described = await client.describe_schedule("s")
    assert (described.status, described.paused, described.note) == ("paused", True, "hold")
    assert (described.fires_count, described.failures_count, described.next_fire_at) == (4, 1, None)
    assert described.last_fired_at == "2026-01-01T00:00:00+00:00"
    assert (described.workflow_type, described.task_queue, described.input) == ("w", "q", [1, 2])
    assert described.memo == {}


def test_the_blocking_client_returns_a_blocking_schedule_handle() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST" and request.url.path == "/api/schedules":
            return httpx.Response(201, json={"schedule_id": "nightly", "outcome": "created"}, headers=HEADERS)
        if request.url.path.endswith("/trigger"):
            body = {"schedule_id": "nightly", "outcome": "triggered", "workflow_id": "w1", "run_id": "r1"}
            return httpx.Response(200, json=body, headers=HEADERS)
        return httpx.Response(200, json={"schedule_id": "nightly", "status": "active"}, headers=HEADERS)

    with SyncClient("http://dw.test", transport=httpx.MockTransport(handler)) as client:
        handle = client.create_schedule(
            schedule_id="nightly",
            spec=ScheduleSpec(cron_expressions=["0 2 * * *"]),
            action=ScheduleAction(workflow_type="report", input=["x"]),
        )
        assert handle.schedule_id == "nightly"
        assert handle.describe().status == "active"
        assert handle.trigger().workflow_id == "w1"
    sent = json.loads(seen[0].content)
    assert codec.decode_envelope(sent["action"]["input"]) == ["x"]
    assert [r.url.path for r in seen] == [
        "/api/schedules",
        "/api/schedules/nightly",
        "/api/schedules/nightly/trigger",
    ]
