"""``dw`` as one product across its nouns: help on every command, the exit codes of cli.md §2.8,
next steps that fit the command's area, the SDK's log lines kept off the terminal, ``jsonl`` on
the list commands, and human views that fit 80 columns with no trailing spaces.

The CLI runs against a recording transport (``Recorder``) with a pinned clock and width, except
the unreachable-server test, which runs the real ``dw`` process: the SDK's log lines reach the
terminal only through the interpreter's last-resort handler, which pytest's own logging hides.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow_cli.cli import dw, rewrite_grouped
from durable_workflow_cli.errors import listing_for
from durable_workflow_cli.output import Renderer
from durable_workflow_cli.runtime import Runtime
from tests.helpers.cli import CLEARED_ENV, Recorder, invoke, one_document, validate_output
from tests.helpers.server_process import free_port

HEADERS = {"X-Durable-Workflow-Control-Plane-Version": "2"}
NOW = datetime(2026, 4, 22, 5, 0, 0, tzinfo=timezone.utc)


def answering(status: int, body: Mapping[str, Any]) -> Recorder:
    return Recorder(lambda request: httpx.Response(status, json=dict(body), headers=HEADERS))


class Waits:
    """A runtime ``sleep`` that records the waits instead of waiting (SDK retry backoff)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def pinned(**overrides: Any) -> Runtime:
    return Runtime(clock=lambda: NOW, width=80, sleep=Waits(), poll_interval=0.01, **overrides)


# ---------------------------------------------------------------------------- help


def test_every_command_and_alias_has_help_with_a_summary_and_an_example(tmp_path: Path) -> None:
    names = sorted(dw.commands) + sorted(dw.aliases)
    assert len(names) > 70
    for name in names:
        target = dw.aliases.get(name, name)
        result = invoke([name, "--help"], config_home=tmp_path)
        assert result.exit_code == 0, f"{name}: {result.output}"
        summary = dw.commands[target].get_short_help_str(limit=300)
        assert summary and "\n" not in summary, name
        assert summary in " ".join(result.stdout.split()), f"{name} --help lacks its summary"
        assert "Example:" in result.stdout, f"{name} --help lacks an example"
        example = result.stdout.split("Example:", 1)[1].strip().splitlines()[0]
        # The example runs this very command (``dw schedules create`` is ``schedule:create``;
        # ``eval "$(dw completion bash)"`` is read inside its quotes).
        words = shlex.split(example)
        inner = next((w for w in words if w.startswith("$(dw ")), None)
        words = shlex.split(inner[2:-1]) if inner else words
        assert rewrite_grouped(words[words.index("dw") + 1 :])[0] == target, f"{name}: example {example!r}"


# ---------------------------------------------------------------------------- exit codes (§2.8)


@pytest.mark.parametrize(
    ("status", "exit_code"),
    [(400, 2), (401, 4), (403, 4), (404, 5), (408, 7), (409, 2), (422, 2), (500, 6), (503, 6)],
)
def test_http_statuses_give_the_exit_codes_of_2_8(status: int, exit_code: int, tmp_path: Path) -> None:
    rec = answering(status, {"message": "refused", "reason": "because"})
    runtime = pinned()
    result = invoke(
        ["workflow:describe", "wf-1", "--json"],
        runtime=runtime,
        transport=rec.transport(),
        config_home=tmp_path,
    )
    error = one_document(result)
    assert (result.exit_code, error["exit_code"], error["status_code"]) == (exit_code, exit_code, status)
    assert error["command"] == "workflow:describe" and error["reason"] == "because"
    # A 5xx is retried by the SDK; its backoff waited through the runtime, not the wall clock.
    assert isinstance(runtime.sleep, Waits)
    assert len(runtime.sleep.seconds) == (2 if status >= 500 else 0)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert invoke(["workflow:describe"], config_home=tmp_path).exit_code == 2  # missing argument
    assert invoke(["workflow:list", "--no-such-option"], config_home=tmp_path).exit_code == 2
    assert invoke(["no:such-command"], config_home=tmp_path).exit_code == 2


# ---------------------------------------------------------------------------- next steps by area


@pytest.mark.parametrize(
    ("argv", "listing"),
    [
        (["workflow:describe", "x"], "dw workflow:list"),
        (["workflow:signal", "x", "go"], "dw workflow:list"),
        (["schedule:describe", "x"], "dw schedule:list"),
        (["schedule:pause", "x"], "dw schedule:list"),
        (["namespace:describe", "x"], "dw namespace:list"),
        (["worker:describe", "x"], "dw worker:list"),
        (["task-queue:describe", "x"], "dw task-queue:list"),
        (["search-attribute:delete", "x"], "dw search-attribute:list"),
    ],
)
def test_a_not_found_points_at_the_listing_of_its_area(argv: list[str], listing: str, tmp_path: Path) -> None:
    rec = answering(404, {"message": "not found", "reason": "not_found"})
    human = invoke(argv, runtime=pinned(), transport=rec.transport(), config_home=tmp_path)
    assert human.exit_code == 5
    assert human.stderr.startswith("Error: Server error: not found")
    assert f"\n    Try: {listing}\n" in human.stderr
    as_json = one_document(
        invoke([*argv, "--json"], runtime=pinned(), transport=rec.transport(), config_home=tmp_path)
    )
    assert as_json["recommendations"] == [
        {
            "id": "resource.not_found",
            "severity": "error",
            "message": "Check the id and the namespace.",
            "command": listing,
        }
    ]


def test_areas_without_a_listing_give_no_try_line() -> None:
    assert listing_for("bridge:webhook") is None
    assert listing_for(None) is None
    assert listing_for("storage:test") == "dw namespace:list"
    assert listing_for("activity:complete") == "dw task-queue:describe <task-queue>"


# ---------------------------------------------------------------------------- SDK log lines


def _run_dw(args: list[str], config_home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env["DW_CONFIG_HOME"] = str(config_home)
    return subprocess.run(
        [sys.executable, "-m", "durable_workflow_cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_an_unreachable_server_shows_only_the_error_block_unless_verbose(tmp_path: Path) -> None:
    server = f"--server=http://127.0.0.1:{free_port()}"  # nothing listens there
    quiet = _run_dw(["workflow:list", server], tmp_path)
    assert quiet.returncode == 3
    assert quiet.stderr.startswith("Error: Cannot reach the server at http://127.0.0.1:"), quiet.stderr
    assert "retrying" not in quiet.stderr and quiet.stderr.count("Error:") == 1

    verbose = _run_dw(["workflow:list", server, "-v"], tmp_path)
    assert verbose.returncode == 3
    retries = [line for line in verbose.stderr.splitlines() if line.endswith("retrying")]
    assert retries and all(line.startswith("WARNING durable_workflow.client: GET ") for line in retries)
    assert verbose.stderr.count("Error:") == 1


# ---------------------------------------------------------------------------- jsonl


def test_list_runs_and_env_list_print_one_record_a_line_with_jsonl(tmp_path: Path) -> None:
    runs = {"runs": [{"run_id": "r1", "run_number": 1}, {"run_id": "r2", "run_number": 2}], "run_count": 2}
    rec = answering(200, runs)
    listed = invoke(
        ["workflow:list-runs", "wf-1", "--output=jsonl"],
        runtime=pinned(),
        transport=rec.transport(),
        config_home=tmp_path,
    )
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [line["run_id"] for line in lines] == ["r1", "r2"]
    for line in lines:
        validate_output(line, "workflow:list-runs", jsonl=True)

    for name in ("prod", "dev"):
        assert (
            invoke(["env:set", name, f"--server=https://{name}.example"], config_home=tmp_path).exit_code == 0
        )
    profiles = invoke(["env:list", "--output=jsonl"], config_home=tmp_path)
    records = [json.loads(line) for line in profiles.stdout.splitlines()]
    assert [record["name"] for record in records] == ["dev", "prod"]
    for record in records:
        validate_output(record, "env:list", jsonl=True)


# ---------------------------------------------------------------------------- human views


WORKFLOWS = {
    "workflows": [
        {
            "workflow_id": "order-2026-04-22-with-a-long-identifier",
            "workflow_type": "orders.process.monthly",
            "business_key": "customer-12345",
            "status": "completed",
            "started_at": "2026-04-20T04:59:00Z",
            "closed_at": "2026-04-22T04:59:59Z",
        },
        {
            "workflow_id": "tty-1",
            "workflow_type": "tty.order",
            "status": "running",
            "started_at": "2026-04-22T04:59:59Z",
        },
    ]
}


def test_workflow_list_fits_80_columns_with_times_whole_and_no_trailing_spaces(tmp_path: Path) -> None:
    result = invoke(
        ["workflow:list"],
        runtime=pinned(),
        transport=answering(200, WORKFLOWS).transport(),
        config_home=tmp_path,
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    assert all(line == line.rstrip() for line in lines), [line for line in lines if line != line.rstrip()]
    assert lines[0] == "Namespace:  default"
    row = next(line for line in lines if line.startswith("tty-1"))
    assert row.split()[-3:] == ["1s", "ago", "-"]
    # The completed row: an older start as its date, the recent close as a relative time.
    first = next(line for line in lines if line.startswith("order-"))
    assert first.split()[-4:] == ["04-20", "04:59", "1s", "ago"]


def test_key_value_views_have_no_trailing_spaces(tmp_path: Path) -> None:
    body = {
        "workflow_id": "tty-1",
        "run_id": "run-1",
        "workflow_type": "tty.order",
        "status": "running",
        "started_at": "2026-04-22T04:59:59Z",
        "input": [42],
    }
    result = invoke(
        ["workflow:describe", "tty-1"],
        runtime=pinned(),
        transport=answering(200, body).transport(),
        config_home=tmp_path,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "Workflow"
    assert all(line == line.rstrip() for line in lines), result.stdout
    assert "Started:      2026-04-22 04:59:59 UTC (1s ago)" in lines
    assert "Input:        [42]" in lines


def test_table_times_are_as_short_as_ls_makes_them() -> None:
    out = Renderer("table", color=False, width=80, now=NOW)
    assert out.moment("2026-04-22T04:57:00Z", short=True) == "3m ago"
    assert out.moment("2026-04-22T07:00:00Z", short=True) == "in 2h"
    assert out.moment("2026-04-20T05:00:00Z", short=True) == "04-20 05:00"
    assert out.moment("2025-12-01T05:00:00Z", short=True) == "2025-12-01"
    assert out.moment("2026-04-22T04:57:00Z") == "2026-04-22 04:57:00 UTC (3m ago)"
    assert out.moment("not a time", short=True) == "not a time"


def test_the_json_error_object_carries_the_commands_own_identifiers(tmp_path: Path) -> None:
    # cli.md §2.9: workflow_id, signal_name, query_name, update_name and run_id come from the
    # command's own arguments; a copy the server sent wins over the command's.
    refused = answering(404, {"reason": "workflow_not_found", "message": "Workflow not found."})
    for args, expected in (
        (["workflow:signal", "wf-7", "approve", "--run-id=run-3"],
         {"workflow_id": "wf-7", "signal_name": "approve", "run_id": "run-3"}),
        (["workflow:query", "wf-7", "status"], {"workflow_id": "wf-7", "query_name": "status"}),
        (["workflow:update", "wf-7", "bump"], {"workflow_id": "wf-7", "update_name": "bump"}),
    ):  # fmt: skip
        result = invoke([*args, "--json"], transport=refused.transport(), config_home=tmp_path)
        assert result.exit_code == 5, result.output
        error = one_document(result)
        assert {key: error.get(key) for key in expected} == expected
        assert "run_id" in expected or "run_id" not in error

    named = answering(404, {"reason": "workflow_not_found", "message": "gone", "workflow_id": "wf-server"})
    result = invoke(
        ["workflow:describe", "wf-7", "--json"], transport=named.transport(), config_home=tmp_path
    )
    assert one_document(result)["workflow_id"] == "wf-server"
