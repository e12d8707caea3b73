"""The schedule routes over the real engine: answers, every refusal with its envelope and nothing
written, and namespace isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow.protocol import codec
from durable_workflow_server import Settings, create_app
from durable_workflow_server.engine.namespaces import rows as namespaces
from durable_workflow_server.engine.service import Engine
from tests.helpers.live_app import CONTROL, TOKEN, snapshot

OTHER = {**CONTROL, "X-Namespace": "other"}
CREATE = {
    "schedule_id": "nightly",
    "spec": {"cron_expressions": ["0 2 * * *"], "timezone": "Europe/Paris"},
    "action": {"workflow_type": "report", "task_queue": "reports", "input": [{"format": "pdf"}]},
    "overlap_policy": "allow_all",
    "memo": {"team": "ops"},
}


@dataclass
class Api:
    http: httpx.AsyncClient
    engine: Engine
    db_url: str


@pytest.fixture
async def api(db_url: str, clock: Any) -> AsyncIterator[Api]:
    settings = Settings(database_url=db_url, auth_token=TOKEN, timer_loop_interval=3600.0, clock=clock)
    engine = Engine(settings, background_loop=False)
    app = create_app(settings, engine=engine)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        async with engine._tx() as tx:  # a second namespace to isolate from
            await namespaces.ensure(tx, {"other"})
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            created = await http.post("/api/schedules", json=CREATE, headers=CONTROL)
            assert created.status_code == 201, created.text
            yield Api(http, engine, db_url)


async def test_the_routes_answer_their_documented_shapes(api: Api) -> None:
    http = api.http
    described = (await http.get("/api/schedules/nightly", headers=CONTROL)).json()
    assert described["schedule_id"] == "nightly" and described["namespace"] == "default"
    assert described["action"]["input"] == codec.envelope([{"format": "pdf"}])  # stored as an envelope
    assert described["state"]["status"] == described["status"] == "active"
    assert described["next_fire_at"] == "2026-03-02T01:00:00.000000Z"  # 02:00 in Paris (UTC+1)
    assert "control_plane" not in described
    listed = (await http.get("/api/schedules", headers=CONTROL)).json()
    assert [s["schedule_id"] for s in listed["schedules"]] == ["nightly"]
    paused = await http.post("/api/schedules/nightly/pause", json={"note": "hold"}, headers=CONTROL)
    assert (paused.status_code, paused.json()["outcome"], paused.json()["note"]) == (200, "paused", "hold")
    resumed = await http.post("/api/schedules/nightly/resume", json={}, headers=CONTROL)
    assert (resumed.status_code, resumed.json()["outcome"]) == (200, "resumed")
    triggered = (await http.post("/api/schedules/nightly/trigger", json={}, headers=CONTROL)).json()
    assert triggered["outcome"] == "triggered" and triggered["workflow_id"].startswith("nightly-trigger-")
    backfill = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-03T00:00:00+00:00"}
    filled = (await http.post("/api/schedules/nightly/backfill", json=backfill, headers=CONTROL)).json()
    assert [r["fire_time"] for r in filled["results"]] == [
        "2026-01-01T01:00:00.000000Z",
        "2026-01-02T01:00:00.000000Z",
    ]
    updated = await http.put(
        "/api/schedules/nightly", json={"action": {"workflow_execution_timeout": 60}, "x": 1}, headers=CONTROL
    )
    assert (updated.status_code, updated.json()["outcome"]) == (200, "updated")
    described = (await http.get("/api/schedules/nightly", headers=CONTROL)).json()
    assert described["action"]["execution_timeout_seconds"] == 60  # the legacy name, renamed
    history = (
        await http.get("/api/schedules/nightly/history", params={"limit": "2"}, headers=CONTROL)
    ).json()
    assert [e["sequence"] for e in history["events"]] == [1, 2]
    assert (history["has_more"], history["next_cursor"]) == (True, 2)
    rest = await http.get("/api/schedules/nightly/history", params={"after_sequence": "2"}, headers=CONTROL)
    assert rest.json()["has_more"] is False
    deleted = await http.delete("/api/schedules/nightly", headers=CONTROL)
    assert (deleted.status_code, deleted.json()["outcome"]) == (200, "deleted")
    gone = await http.get("/api/schedules/nightly", headers=CONTROL)
    assert (gone.status_code, gone.json()["reason"]) == (404, "schedule_not_found")
    for junk in ("0", "-3", "ten"):  # as the reference: the default page of 100
        kept = (await http.get(f"{N}/history", params={"limit": junk}, headers=CONTROL)).json()
        assert len(kept["events"]) == 8
    beyond = await http.get(f"{N}/history", params={"after_sequence": "9" * 30}, headers=CONTROL)
    assert (beyond.status_code, beyond.json()["events"]) == (200, [])
    last = await http.get("/api/schedules/nightly/history", params={"after_sequence": "7"}, headers=CONTROL)
    assert [e["event_type"] for e in last.json()["events"]] == ["ScheduleDeleted"]


S = "/api/schedules"
N = "/api/schedules/nightly"
BAD: list[tuple[str, str, str, Any, int, str, str | None]] = [
    ("create without spec", "POST", S, {"action": {"workflow_type": "w"}}, 422, "validation_failed", "spec"),
    ("create with an empty spec", "POST", S, {**CREATE, "schedule_id": "x", "spec": {}}, 422,
     "validation_failed", "spec"),
    ("create with a bad cron", "POST", S, {**CREATE, "schedule_id": "x", "spec": {"cron_expressions": ["x"]}},
     422, "validation_failed", "spec.cron_expressions.0"),
    ("create with six cron fields", "POST", S,
     {**CREATE, "schedule_id": "x", "spec": {"cron_expressions": ["0 0 * * * *"]}}, 422, "validation_failed",
     "spec.cron_expressions.0"),
    ("create with a bad time zone", "POST", S,
     {**CREATE, "schedule_id": "x", "spec": {"cron_expressions": ["0 * * * *"], "timezone": "Nowhere/Land"}},
     422, "validation_failed", "spec.timezone"),
    ("create with a bad duration", "POST", S,
     {**CREATE, "schedule_id": "x", "spec": {"intervals": [{"every": "30 minutes"}]}}, 422,
     "validation_failed",
     "spec.intervals.0.every"),
    ("create with a bad offset", "POST", S,
     {**CREATE, "schedule_id": "x", "spec": {"intervals": [{"every": "PT1H", "offset": 5}]}}, 422,
     "validation_failed", "spec.intervals.0.offset"),
    ("create with a calendar duration", "POST", S,
     {**CREATE, "schedule_id": "x", "spec": {"intervals": [{"every": "P1M"}]}}, 422, "validation_failed",
     "spec.intervals.0.every"),
    ("create without a workflow type", "POST", S, {**CREATE, "schedule_id": "x", "action": {}}, 422,
     "validation_failed", "action.workflow_type"),
    ("create with a bad policy", "POST", S, {**CREATE, "schedule_id": "x", "overlap_policy": "never"}, 422,
     "validation_failed", "overlap_policy"),
    ("create with too much jitter", "POST", S, {**CREATE, "schedule_id": "x", "jitter_seconds": 3601}, 422,
     "validation_failed", "jitter_seconds"),
    ("create with max_runs 0", "POST", S, {**CREATE, "schedule_id": "x", "max_runs": 0}, 422,
     "validation_failed", "max_runs"),
    ("create with a bad id", "POST", S, {**CREATE, "schedule_id": "a b"}, 422, "validation_failed",
     "schedule_id"),
    ("create with a long note", "POST", S, {**CREATE, "schedule_id": "x", "note": "n" * 1001}, 422,
     "validation_failed", "note"),
    ("create with a foreign codec", "POST", S,
     {**CREATE, "schedule_id": "x",
      "action": {"workflow_type": "w", "input": {"codec": "json", "blob": "[]"}}},
     422, "unsupported_payload_codec", None),
    ("create with a big memo", "POST", S, {**CREATE, "schedule_id": "x", "memo": {"m": "x" * 300_000}}, 422,
     "memo_too_large", None),
    ("create an existing id", "POST", S, CREATE, 409, "schedule_already_exists", None),
    ("describe unknown", "GET", "/api/schedules/nope", None, 404, "schedule_not_found", None),
    ("update unknown", "PUT", "/api/schedules/nope", {"note": "n"}, 404, "schedule_not_found", None),
    ("update with a bad spec", "PUT", N, {"spec": {"cron_expressions": ["99 * * * *"]}}, 422,
     "validation_failed", "spec.cron_expressions.0"),
    ("update with a bad action", "PUT", N, {"action": {"run_timeout_seconds": 0}}, 422, "validation_failed",
     "action.run_timeout_seconds"),
    ("delete unknown", "DELETE", "/api/schedules/nope", None, 404, "schedule_not_found", None),
    ("pause unknown", "POST", "/api/schedules/nope/pause", {}, 404, "schedule_not_found", None),
    ("pause with a long note", "POST", f"{N}/pause", {"note": "n" * 1001}, 422, "validation_failed", "note"),
    ("resume unknown", "POST", "/api/schedules/nope/resume", {}, 404, "schedule_not_found", None),
    ("resume with a bad note", "POST", f"{N}/resume", {"note": 3}, 422, "validation_failed", "note"),
    ("trigger unknown", "POST", "/api/schedules/nope/trigger", {}, 404, "schedule_not_found", None),
    ("trigger with a bad policy", "POST", f"{N}/trigger", {"overlap_policy": "x"}, 422, "validation_failed",
     "overlap_policy"),
    ("backfill unknown", "POST", "/api/schedules/nope/backfill",
     {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-02T00:00:00Z"}, 404, "schedule_not_found",
     None),
    ("backfill without times", "POST", f"{N}/backfill", {}, 422, "validation_failed", "start_time"),
    ("backfill with a bad time", "POST", f"{N}/backfill",
     {"start_time": "yesterday", "end_time": "2026-01-02T00:00:00Z"}, 422, "validation_failed", "start_time"),
    ("backfill a reversed range", "POST", f"{N}/backfill",
     {"start_time": "2026-01-02T00:00:00Z", "end_time": "2026-01-01T00:00:00Z"}, 422, "invalid_time_range",
     None),
    ("history unknown", "GET", "/api/schedules/nope/history", None, 404, "schedule_not_found", None),
    ("history after a negative sequence", "GET", f"{N}/history?after_sequence=-1", None, 422,
     "invalid_after_sequence", None),
    ("history after junk", "GET", f"{N}/history?after_sequence=abc", None, 422, "invalid_after_sequence",
     None),
    ("backfill from year 1", "POST", f"{N}/backfill",
     {"start_time": "0001-01-01T00:00:00Z", "end_time": "2026-01-01T00:00:00Z"}, 422, "validation_failed",
     "start_time"),
    ("a body that is not an object", "POST", f"{N}/trigger", [1], 422, "validation_failed", "body"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status", "reason", "field"), BAD, ids=[b[0] for b in BAD]
)
async def test_bad_input_gets_its_envelope_and_writes_nothing(
    api: Api, name: str, method: str, path: str, body: Any, status: int, reason: str, field: str | None
) -> None:
    before = await snapshot(api.db_url)
    answer = await api.http.request(method, path, json=body, headers=CONTROL)
    assert answer.status_code == status, answer.text
    data = answer.json()
    assert data["reason"] == reason
    if field is not None:
        assert field in data["errors"], data["errors"]
    assert await snapshot(api.db_url) == before


# The text checks each spec field starts with: (spec, the field, its message).
SPEC_TEXT = [
    ({"cron_expressions": [3]}, "spec.cron_expressions.0", "must be a string"),
    ({"cron_expressions": ["*" * 256]}, "spec.cron_expressions.0", "255"),
    ({"cron_expressions": ["0 * * * *"], "timezone": 3}, "spec.timezone", "must be a string"),
    ({"cron_expressions": ["0 * * * *"], "timezone": "Z" * 65}, "spec.timezone", "64"),
    ({"intervals": [{"every": 60}]}, "spec.intervals.0.every", "must be a string"),
    ({"intervals": [{"every": "PT1M", "offset": "P" * 65}]}, "spec.intervals.0.offset", "64"),
]


@pytest.mark.parametrize(("spec", "field", "message"), SPEC_TEXT, ids=[s[1] + "-" + s[2] for s in SPEC_TEXT])
async def test_spec_text_fields_refuse_what_is_not_short_text(
    api: Api, spec: dict[str, Any], field: str, message: str
) -> None:
    answer = await api.http.post(S, json={**CREATE, "schedule_id": "x", "spec": spec}, headers=CONTROL)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert list(errors) == [field] and message in errors[field][0], errors


async def test_another_namespace_neither_sees_nor_touches_the_schedule(api: Api) -> None:
    http = api.http
    before = await snapshot(api.db_url)
    assert (await http.get(S, headers=OTHER)).json()["schedules"] == []
    for method, path, body in (
        ("GET", N, None),
        ("PUT", N, {"note": "mine"}),
        ("DELETE", N, None),
        ("POST", f"{N}/pause", {}),
        ("POST", f"{N}/resume", {}),
        ("POST", f"{N}/trigger", {}),
        ("POST", f"{N}/backfill", {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-02T00:00:00Z"}),
        ("GET", f"{N}/history", None),
    ):
        answer = await http.request(method, path, json=body, headers=OTHER)
        assert (answer.status_code, answer.json()["reason"]) == (404, "schedule_not_found"), (method, path)
    assert await snapshot(api.db_url) == before
    # The same id is free there; each namespace keeps its own.
    mine = await http.post(S, json={**CREATE, "note": "other's"}, headers=OTHER)
    assert mine.status_code == 201, mine.text
    assert (await http.get(N, headers=CONTROL)).json()["note"] is None
    assert (await http.get(N, headers=OTHER)).json()["note"] == "other's"
    fired = (await http.post(f"{N}/trigger", json={}, headers=OTHER)).json()
    assert fired["workflow_id"].startswith("other.nightly-trigger-")
    assert (await http.get(f"/api/workflows/{fired['workflow_id']}", headers=CONTROL)).status_code == 404


async def test_a_worker_token_is_refused_and_writes_nothing(db_url: str, clock: Any) -> None:
    settings = Settings(database_url=db_url, operator_token="op", worker_token="wk", clock=clock)
    engine = Engine(settings, background_loop=False)
    async with LifespanManager(create_app(settings, engine=engine)) as manager:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as http:
            headers = {**CONTROL, "Authorization": "Bearer wk"}
            refused = await http.post(S, json=CREATE, headers=headers)
            assert (refused.status_code, refused.json()["reason"]) == (403, "forbidden")
            allowed = await http.post(S, json=CREATE, headers={**CONTROL, "Authorization": "Bearer op"})
            assert allowed.status_code == 201
            assert [s["schedule_id"] for s in (await engine.list_schedules("default"))["schedules"]] == [
                "nightly"
            ]
