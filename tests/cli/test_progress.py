"""Progress bars: on stderr, only on a terminal (forced here with ``Runtime(interactive=True)``),
never with ``--json`` and never off a terminal; stdout keeps only the command's own output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from durable_workflow_cli.runtime import Runtime
from tests.helpers.cli import Recorder, invoke, one_document

HEADERS = {"X-Durable-Workflow-Control-Plane-Version": "2"}
CONTROL = {"schema": "durable-workflow.v2.control-plane-response", "version": 1}


def paged_history() -> Recorder:
    """Three pages of two events each, then the export bundle."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/history/export"):
            return httpx.Response(
                200, json={"schema": "durable-workflow.v2.history-export", "history_events": []}
            )
        page = int(request.url.params.get("next_page_token") or 0)
        events = [
            {"sequence": page * 2 + i + 1, "event_type": "ActivityScheduled", "payload": None}
            for i in range(2)
        ]
        body: dict[str, Any] = {
            "workflow_id": "wf-1",
            "run_id": "run-1",
            "events": events,
            "next_page_token": str(page + 1) if page < 2 else None,
            "control_plane": CONTROL,
        }
        return httpx.Response(200, json=body, headers=HEADERS)

    return Recorder(answer)


def run(args: list[str], tmp_path: Path, *, interactive: bool | None) -> Any:
    rec = paged_history()
    result = invoke(
        args,
        transport=rec.transport(),
        runtime=Runtime(interactive=interactive, width=80),
        config_home=tmp_path,
    )
    assert result.exit_code == 0, result.output
    return result, rec


def test_history_paging_shows_a_bar_on_a_terminal(tmp_path: Path) -> None:
    result, rec = run(["workflow:history", "wf-1", "run-1"], tmp_path, interactive=True)
    assert len(rec.requests) == 3
    assert "Reading history" in result.stderr and "6 events" in result.stderr
    assert "Reading history" not in result.stdout  # the table alone on stdout
    assert "ActivityScheduled" in result.stdout


def test_no_bar_off_a_terminal_or_with_json(tmp_path: Path) -> None:
    plain, _ = run(["workflow:history", "wf-1", "run-1"], tmp_path, interactive=None)
    assert plain.stderr == ""
    as_json, _ = run(["workflow:history", "wf-1", "run-1", "--json"], tmp_path, interactive=True)
    assert as_json.stderr == ""
    assert len(one_document(as_json)["events"]) == 6
    lines, _ = run(["workflow:history", "wf-1", "run-1", "--output=jsonl"], tmp_path, interactive=True)
    assert lines.stderr == "" and len(lines.stdout.splitlines()) == 6


def test_history_export_shows_a_bar_but_stdout_stays_json(tmp_path: Path) -> None:
    result, _ = run(["workflow:history-export", "wf-1", "run-1"], tmp_path, interactive=True)
    assert "Exporting the history of wf-1" in result.stderr
    assert one_document(result)["schema"] == "durable-workflow.v2.history-export"
    saved = tmp_path / "bundle.json"
    to_file, _ = run(
        ["workflow:history-export", "wf-1", "run-1", "-o", str(saved)], tmp_path, interactive=None
    )
    assert to_file.stderr.startswith("Exported namespace default workflow wf-1 run run-1 to")
    assert saved.is_file()
