"""``dw workflow:*`` against the real server (in process, on its own loop) and the real SDK worker.

The CLI gets the server through its one seam (``Runtime(transport=...)``); the worker runs on
the server's loop with the SDK client. Every ``--json`` document is checked against its
published schema where the contract data is present.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Client, Worker, workflow
from tests.helpers.cli import ServerThread, invoke, one_document, server_thread, validate_output
from tests.helpers.cli import dw_json_on as dw_json
from tests.helpers.cli import dw_on as dw
from tests.helpers.e2e_env import e2e_settings, sdk_client

QUEUE = "cli-e2e"


@workflow.defn(name="cli.approval")
class Approval:
    def __init__(self) -> None:
        self.approved = False
        self.notes: list[str] = []

    @workflow.query("status")
    def status(self) -> dict[str, Any]:
        return {"approved": self.approved, "notes": self.notes}

    @workflow.signal("note")
    def note(self, text: str) -> None:
        self.notes.append(text)

    @workflow.update("approve")
    def approve(self, approved: bool) -> dict[str, Any]:
        self.approved = approved
        return {"approved": approved}

    def run(self, ctx: Any, *args: Any) -> Any:
        yield ctx.wait_condition(lambda: self.approved, key="approved")
        return {"approved": True, "notes": self.notes}


async def _registered(client: Client, worker_id: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    while worker_id not in [
        w["worker_id"] for w in (await client.get_cluster_info())["worker_fleet"]["workers"]
    ]:
        assert loop.time() < deadline, "the worker never registered"
        await asyncio.sleep(0.01)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    settings = e2e_settings(f"sqlite:///{tmp_path / 'cli.sqlite3'}", query_task_timeout=5.0)
    with server_thread(settings) as srv:
        client = srv.run(_make_client(srv))
        worker = Worker(client, task_queue=QUEUE, workflows=[Approval])
        running = srv.spawn(worker.run())
        srv.run(_registered(client, worker.worker_id))
        try:
            yield srv
        finally:
            srv.run(worker.stop())
            running.result(30)
            srv.run(client.aclose())


async def _make_client(srv: ServerThread) -> Client:
    return sdk_client(srv.app)


def test_the_everyday_verbs_end_to_end(server: ServerThread, tmp_path: Path) -> None:
    started = dw_json(server, tmp_path, "workflow:start", "--type=cli.approval", "--workflow-id=cli-1",
                      f"--task-queue={QUEUE}", "--business-key=order-1")  # fmt: skip
    assert (started["workflow_id"], started["namespace"], started["outcome"]) == (
        "cli-1",
        "default",
        "started_new",
    )

    described = dw_json(server, tmp_path, "workflow:describe", "cli-1")
    assert (described["status_bucket"], described["business_key"]) == ("running", "order-1")

    listed = dw_json(server, tmp_path, "workflow:list", "--status=running")
    assert [w["workflow_id"] for w in listed["workflows"]] == ["cli-1"]
    lines = dw(server, tmp_path, "workflow:list", "--output=jsonl").stdout.splitlines()
    assert [json.loads(line)["workflow_id"] for line in lines] == ["cli-1"]
    for line in lines:
        validate_output(json.loads(line), "workflow:list", jsonl=True)

    signalled = dw_json(server, tmp_path, "workflow:signal", "cli-1", "note", '--input="from the cli"')
    assert (signalled["signal_name"], signalled["workflow_id"]) == ("note", "cli-1")

    queried = dw_json(server, tmp_path, "workflow:query", "cli-1", "status")
    assert queried["result"] == {"approved": False, "notes": ["from the cli"]}

    updated = dw_json(
        server, tmp_path, "workflow:update", "cli-1", "approve", "--wait=completed", "--input=[true]"
    )
    assert (updated["outcome"], updated["result"]) == ("update_completed", {"approved": True})

    # --follow long-polls until the closing event is recorded.
    run_id = described["run_id"]
    history = dw_json(server, tmp_path, "workflow:history", "cli-1", run_id, "--follow")
    types = [event["event_type"] for event in history["events"]]
    assert "WorkflowStarted" in types and types[-1] == "WorkflowCompleted"

    human = dw(server, tmp_path, "workflow:describe", "cli-1")
    assert human.exit_code == 0
    assert "Workflow ID:" in human.stdout and "completed" in human.stdout and "Namespace:" in human.stdout
    assert max(len(line) for line in human.stdout.splitlines()) <= 80


def test_cancel_and_terminate(server: ServerThread, tmp_path: Path) -> None:
    for workflow_id in ("cli-c", "cli-t"):
        dw_json(server, tmp_path, "workflow:start", "--type=cli.approval", f"--workflow-id={workflow_id}",
                f"--task-queue={QUEUE}")  # fmt: skip
    cancelled = dw_json(server, tmp_path, "workflow:cancel", "cli-c", "--reason=not needed")
    assert cancelled["workflow_id"] == "cli-c" and cancelled["command_status"] == "accepted"
    terminated = dw(server, tmp_path, "workflow:terminate", "cli-t", "--reason=stuck")
    assert terminated.exit_code == 0 and "Workflow terminated" in terminated.stdout
    assert dw_json(server, tmp_path, "workflow:describe", "cli-c")["status"] == "cancelled"
    assert dw_json(server, tmp_path, "workflow:describe", "cli-t")["status"] == "terminated"


def test_unknown_workflow_is_one_error_block_exit_5(server: ServerThread, tmp_path: Path) -> None:
    result = dw(server, tmp_path, "workflow:describe", "nope")
    assert result.exit_code == 5
    assert result.stdout == ""
    assert result.stderr.startswith("Error: Server error:")
    assert "Namespace: default" in result.stderr and "Try: dw workflow:list" in result.stderr
    assert "Traceback" not in result.stderr

    as_json = dw(server, tmp_path, "workflow:describe", "nope", "--json")
    error = one_document(as_json)
    assert (as_json.exit_code, error["exit_code"], error["status_code"]) == (5, 5, 404)
    assert error["command"] == "workflow:describe" and error["namespace"] == "default"
    assert error["recommendations"][0]["id"] == "resource.not_found"


def test_bad_token_exit_4(server: ServerThread, tmp_path: Path) -> None:
    result = dw(server, tmp_path, "workflow:list", token="wrong")
    assert result.exit_code == 4
    assert "Error: Server error:" in result.stderr and "Traceback" not in result.stderr
    assert "Try:" in result.stderr


def test_bad_input_json_exit_2_before_any_request(tmp_path: Path) -> None:
    result = invoke(
        ["workflow:start", "--type=t", "--input={not json", "--server=http://127.0.0.1:9"],
        config_home=tmp_path,
    )
    assert result.exit_code == 2
    assert "--input must be valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_server_down_exit_3(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there
    result = invoke(["workflow:list", f"--server=http://127.0.0.1:{port}"], config_home=tmp_path)
    assert result.exit_code == 3
    assert f"Cannot reach the server at http://127.0.0.1:{port}" in result.stderr
    assert "Try:" in result.stderr and "Traceback" not in result.stderr
    as_json = invoke(["workflow:list", f"--server=http://127.0.0.1:{port}", "--json"], config_home=tmp_path)
    assert one_document(as_json)["recommendations"][0]["id"] == "server.unreachable"
