"""``dw schedule:*`` against the real server, plus what a fake server shows more easily
(backfill windows, exit codes by outcome, the history's paging guard).

Schedules here fire on 29 February only (``0 0 29 2 *``), so the server's own loop never fires
one during a test; backfills reach into 2024 for occurrences.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow_cli.commands.schedule_actions import backfill_windows
from durable_workflow_cli.runtime import Runtime
from tests.helpers.cli import Recorder, ServerThread, invoke, one_document, server_thread, validate_output
from tests.helpers.cli import dw_json_on as dw_json
from tests.helpers.cli import dw_on as dw
from tests.helpers.e2e_env import e2e_settings

LEAP_DAY = ("--cron=0 0 29 2 *", "--cron=0 12 29 2 *")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with server_thread(e2e_settings(f"sqlite:///{tmp_path / 'cli.sqlite3'}")) as srv:
        yield srv


def create(srv: ServerThread, tmp_path: Path, schedule_id: str, *extra: str) -> Any:
    # The grouped form of cli.md §1, options before the group word included.
    result = dw(srv, tmp_path, "--json", "schedules", "create", f"--schedule-id={schedule_id}",
                "--workflow-type=leap.check", *LEAP_DAY, "--task-queue=leap", *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    document = one_document(result)
    validate_output(document, "schedule:create")
    return document


def test_schedule_definitions(server: ServerThread, tmp_path: Path) -> None:
    created = create(
        server, tmp_path, "leap", '--input=[{"warehouse":"west-1"}]', "--max-runs=10", "--note=hi"
    )
    assert (created["schedule_id"], created["namespace"], created["outcome"]) == (
        "leap",
        "default",
        "created",
    )

    described = dw_json(server, tmp_path, "schedule:describe", "leap")
    assert described["spec"] == {"cron_expressions": ["0 0 29 2 *", "0 12 29 2 *"], "timezone": "UTC"}
    assert (described["action"]["workflow_type"], described["action"]["task_queue"]) == ("leap.check", "leap")
    assert (described["overlap_policy"], described["max_runs"], described["status"]) == ("skip", 10, "active")

    human = dw(server, tmp_path, "schedule:describe", "leap")
    assert human.stdout.splitlines()[0] == "Schedule: leap"
    assert "10 (10 remaining)" in human.stdout
    assert all(len(line) <= 80 for line in human.stdout.splitlines())

    updated = dw_json(server, tmp_path, "schedule:update", "leap", "--interval=PT6H", "--jitter=5",
                      "--task-queue=leap-2", "--note=moved")  # fmt: skip
    assert (updated["outcome"], updated["schedule_id"]) == ("updated", "leap")
    described = dw_json(server, tmp_path, "schedule:describe", "leap")
    assert described["spec"]["intervals"] == [{"every": "PT6H"}]
    assert (described["action"]["task_queue"], described["jitter_seconds"]) == ("leap-2", 5)
    nothing = dw(server, tmp_path, "schedule:update", "leap")
    assert nothing.exit_code == 2 and "Nothing to update" in nothing.stderr

    create(server, tmp_path, "leap-paused", "--paused")
    listed = dw_json(server, tmp_path, "schedule:list")
    assert {s["schedule_id"]: s["status"] for s in listed["schedules"]} == {
        "leap": "active",
        "leap-paused": "paused",
    }
    lines = dw(server, tmp_path, "schedules", "list", "--output=jsonl").stdout.splitlines()
    assert sorted(json.loads(line)["schedule_id"] for line in lines) == ["leap", "leap-paused"]
    for line in lines:
        validate_output(json.loads(line), "schedule:list", jsonl=True)
    table = dw(server, tmp_path, "schedule:list")
    assert "Schedule ID" in table.stdout and "leap-paused" in table.stdout

    deleted = dw_json(server, tmp_path, "schedule:delete", "leap")
    assert deleted["outcome"] == "deleted"
    gone = dw(server, tmp_path, "schedule:describe", "leap")
    assert gone.exit_code == 5 and "schedule_not_found" in gone.stderr


def test_schedule_create_needs_a_spec_and_a_workflow_type(server: ServerThread, tmp_path: Path) -> None:
    no_spec = dw(server, tmp_path, "schedule:create", "--workflow-type=x")
    assert no_spec.exit_code == 2 and "--cron or --interval" in no_spec.stderr
    no_type = dw(server, tmp_path, "schedule:create", "--cron=0 0 29 2 *", "--json")
    assert no_type.exit_code == 2 and "--workflow-type" in one_document(no_type)["error"]
    bad_cron = dw(server, tmp_path, "schedule:create", "--workflow-type=x", "--cron=every day")
    assert bad_cron.exit_code == 2 and "Validation: spec.cron_expressions.0" in bad_cron.stderr


def test_pause_resume_trigger_and_history(server: ServerThread, tmp_path: Path) -> None:
    create(server, tmp_path, "leap")
    paused = dw_json(server, tmp_path, "schedule:pause", "leap", "--note=maintenance window")
    assert (paused["outcome"], paused["note"]) == ("paused", "maintenance window")

    skipped = dw_json(server, tmp_path, "schedule:trigger", "leap")
    assert (skipped["outcome"], skipped["reason"]) == ("skipped", "status_not_triggerable")

    resumed = dw(server, tmp_path, "schedule:resume", "leap", "--note=maintenance complete")
    assert resumed.exit_code == 0
    assert resumed.stdout.splitlines()[0] == "Schedule resumed: leap"
    assert ["Note:", "maintenance", "complete"] in [line.split() for line in resumed.stdout.splitlines()]

    triggered = dw(server, tmp_path, "schedules", "trigger", "leap", "--overlap-policy=allow_all")
    assert triggered.exit_code == 0, triggered.output
    assert triggered.stdout.splitlines()[0] == "Schedule leap triggered"
    assert "Workflow ID:" in triggered.stdout

    first = dw_json(server, tmp_path, "schedule:history", "leap", "--limit=2")
    assert [e["event_type"] for e in first["events"]] == ["ScheduleCreated", "SchedulePaused"]
    assert first["events"][1]["payload"]["reason"] == "maintenance window"
    assert (first["has_more"], first["next_cursor"]) == (True, 2)

    rest = dw_json(server, tmp_path, "schedule:history", "leap", "--after-sequence=2")
    assert [e["event_type"] for e in rest["events"]] == [
        "ScheduleTriggerSkipped",
        "ScheduleResumed",
        "ScheduleTriggered",
    ]
    assert rest["events"][2]["workflow_instance_id"] == triggered.stdout.split("Workflow ID:")[1].split()[0]

    everything = dw_json(server, tmp_path, "schedule:history", "leap", "--limit=1", "--all")
    assert [e["sequence"] for e in everything["events"]] == [1, 2, 3, 4, 5]
    assert (everything["has_more"], everything["next_cursor"]) == (False, None)
    lines = dw(server, tmp_path, "schedule:history", "leap", "--limit=2", "--all", "--output=jsonl")
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r["sequence"] for r in records] == [1, 2, 3, 4, 5]
    for record in records:
        validate_output(record, "schedule:history", jsonl=True)

    human = dw(server, tmp_path, "schedule:history", "leap", "--limit=2")
    assert "More events: dw schedule:history leap --after-sequence=2" in human.stdout


def test_backfill_goes_by_day_with_a_progress_bar_on_a_terminal(server: ServerThread, tmp_path: Path) -> None:
    create(server, tmp_path, "leap")
    terminal = Runtime(interactive=True, width=80, poll_interval=0.01)
    shown = dw(server, tmp_path, "schedules", "backfill", "leap", "--start-time=2024-02-27T00:00:00Z",
               "--end-time=2024-03-01T00:00:00Z", "--overlap-policy=allow_all", runtime=terminal)  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "Backfilling leap" in shown.stderr and "3/3 days" in shown.stderr
    assert shown.stdout.splitlines()[0] == "Backfill of schedule leap: 2 fires"
    assert "leap-20240229T000000Z" in shown.stdout and "leap-20240229T120000Z" in shown.stdout

    # JSON mode on the same terminal: no bar, one document merging the three windows' answers.
    again = dw(server, tmp_path, "schedule:backfill", "leap", "--start-time=2024-02-27T00:00:00Z",
               "--end-time=2024-03-01T00:00:00Z", "--json", runtime=terminal)  # fmt: skip
    assert again.exit_code == 0 and again.stderr == ""
    document = one_document(again)
    validate_output(document, "schedule:backfill")
    assert document["fires_attempted"] == 2
    # The first backfill's workflows still run (no worker here), so the skip policy skips.
    assert [(r["fire_time"], r["outcome"]) for r in document["results"]] == [
        ("2024-02-29T00:00:00.000000Z", "skipped"),
        ("2024-02-29T12:00:00.000000Z", "skipped"),
    ]

    # Off a terminal there is no bar either.
    plain = dw(server, tmp_path, "schedule:backfill", "leap", "--start-time=2024-02-28T00:00:00Z",
               "--end-time=2024-02-29T06:00:00Z")  # fmt: skip
    assert plain.exit_code == 0 and "Backfilling" not in plain.stderr

    refused = dw(server, tmp_path, "schedule:backfill", "leap", "--start-time=2024-03-01T00:00:00Z",
                 "--end-time=2024-02-01T00:00:00Z")  # fmt: skip
    assert refused.exit_code == 2 and "invalid_time_range" in refused.stderr
    bad_time = dw(server, tmp_path, "schedule:backfill", "leap", "--start-time=yesterday", "--end-time=now")
    assert bad_time.exit_code == 2 and "ISO-8601" in bad_time.stderr


def test_backfill_windows() -> None:
    assert backfill_windows("2026-04-20T00:00:00Z", "2026-04-20T03:00:00Z") == [
        ("2026-04-20T00:00:00Z", "2026-04-20T03:00:00Z")
    ]
    assert backfill_windows("2026-04-20T00:00:00+02:00", "2026-04-22T12:00+02:00") == [
        ("2026-04-19T22:00:00Z", "2026-04-20T22:00:00Z"),
        ("2026-04-20T22:00:00Z", "2026-04-21T22:00:00Z"),
        ("2026-04-21T22:00:00Z", "2026-04-22T10:00:00Z"),
    ]
    # A date alone is midnight UTC.
    assert backfill_windows("2026-04-20", "2026-04-21") == [("2026-04-20T00:00:00Z", "2026-04-21T00:00:00Z")]
    # An empty or reversed range is one request: the server says what is wrong with it.
    assert backfill_windows("2026-04-21T00:00:00Z", "2026-04-20T00:00:00Z") == [
        ("2026-04-21T00:00:00Z", "2026-04-20T00:00:00Z")
    ]


# ---------------------------------------------------------------------------- fake server


def _fake(answer: dict[str, Any]) -> Recorder:
    return Recorder(lambda request: httpx.Response(200, json=answer))


def test_a_failed_trigger_exits_1_also_in_json(tmp_path: Path) -> None:
    recorder = _fake({"schedule_id": "s", "outcome": "trigger_failed", "reason": "no workers"})
    result = invoke(["schedule:trigger", "s", "--json"], transport=recorder.transport(), config_home=tmp_path)
    assert result.exit_code == 1
    assert one_document(result)["outcome"] == "trigger_failed"
    human = invoke(["schedule:trigger", "s"], transport=recorder.transport(), config_home=tmp_path)
    assert human.exit_code == 1
    assert human.stdout.splitlines()[0] == "Schedule s trigger failed (trigger_failed)"


def test_backfill_with_a_failed_fire_exits_1(tmp_path: Path) -> None:
    fire = {"fire_time": "2026-01-01T00:00:00Z", "outcome": "failed", "reason": "boom"}
    recorder = _fake(
        {"schedule_id": "s", "outcome": "backfill_started", "fires_attempted": 1, "results": [fire]}
    )
    argv = ["schedule:backfill", "s", "--start-time=2026-01-01T00:00:00Z", "--end-time=2026-01-03T00:00:00Z"]
    result = invoke([*argv, "--json"], transport=recorder.transport(), config_home=tmp_path)
    assert result.exit_code == 1
    document = one_document(result)
    assert (document["fires_attempted"], len(document["results"])) == (2, 2)
    assert [json.loads(r.content) for r in recorder.requests] == [
        {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-02T00:00:00Z"},
        {"start_time": "2026-01-02T00:00:00Z", "end_time": "2026-01-03T00:00:00Z"},
    ]


def test_history_all_stops_when_the_cursor_does_not_advance(tmp_path: Path) -> None:
    event = {"sequence": 3, "event_type": "ScheduleUpdated"}
    recorder = _fake({"schedule_id": "s", "events": [event], "has_more": True, "next_cursor": 3})
    result = invoke(
        ["schedule:history", "s", "--after-sequence=3", "--all"],
        transport=recorder.transport(),
        config_home=tmp_path,
    )
    assert result.exit_code == 1
    assert "did not advance past sequence 3" in result.stderr
    assert len(recorder.requests) == 1


def test_list_sends_its_filters_and_refuses_blank_ones(tmp_path: Path) -> None:
    recorder = _fake({"schedules": [], "next_page_token": None})
    argv = [
        "schedule:list",
        "--status=paused",
        "-t",
        "reports",
        "--limit=5",
        "--next-page-token=p2",
        "--json",
    ]
    result = invoke(argv, transport=recorder.transport(), config_home=tmp_path)
    assert result.exit_code == 0, result.output
    assert dict(recorder.requests[0].url.params) == {
        "status": "paused",
        "workflow_type": "reports",
        "page_size": "5",
        "next_page_token": "p2",
    }
    validate_output(one_document(result), "schedule:list")
    blank = invoke(["schedule:list", "--type= "], transport=recorder.transport(), config_home=tmp_path)
    assert blank.exit_code == 2
    assert (
        invoke(["schedule:list", "--limit=0"], transport=recorder.transport(), config_home=tmp_path).exit_code
        == 2
    )
