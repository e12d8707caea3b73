"""``dw debug workflow`` against the real server (in process, on its own loop) and a real worker:
a run on a timer, a run whose activity keeps failing, a completed run; the JSON checked against
the published and the contract schema, the human view within 80 columns, exit 2 on a bad target."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import ActivityRetryPolicy, Client, Worker, activity, workflow
from tests.helpers.cli import ServerThread, server_thread
from tests.helpers.cli import dw_json_on as dw_json
from tests.helpers.cli import dw_on as dw
from tests.helpers.e2e_env import e2e_settings, sdk_client

QUEUE = "cli-debug"


@activity.defn(name="cli.debug.charge")
async def charge(amount: int) -> int:
    raise RuntimeError(f"card declined for {amount}")


@workflow.defn(name="cli.debug.napper")
class Napper:
    def run(self, ctx: Any) -> Any:
        yield ctx.sleep(3600)
        return "rested"


@workflow.defn(name="cli.debug.charger")
class Charger:
    def run(self, ctx: Any) -> Any:
        policy = ActivityRetryPolicy(max_attempts=5, initial_interval_seconds=3600)
        return (yield ctx.schedule_activity("cli.debug.charge", [7], retry_policy=policy))


@workflow.defn(name="cli.debug.quick")
class Quick:
    def run(self, ctx: Any) -> Any:
        return "done"
        yield  # a generator workflow


async def _settled(client: Client) -> None:
    """Each run got where the test looks at it: on its timer, failed once, completed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30.0
    checks = {
        "dbg-nap": lambda v: v.wait_kind == "timer",
        "dbg-charge": lambda v: bool(v.raw["recent_failures"]),
        "dbg-quick": lambda v: v.is_terminal is True,
    }
    for workflow_id, ready in checks.items():
        while not ready(await client.debug_workflow(workflow_id)):
            assert loop.time() < deadline, f"{workflow_id} never settled"
            await asyncio.sleep(0.02)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    settings = e2e_settings(f"sqlite:///{tmp_path / 'cli-debug.sqlite3'}")
    with server_thread(settings) as srv:
        client = srv.run(_client(srv))
        worker = Worker(client, task_queue=QUEUE, workflows=[Napper, Charger, Quick], activities=[charge])
        running = srv.spawn(worker.run())
        try:
            for workflow_type, workflow_id in (
                ("cli.debug.napper", "dbg-nap"),
                ("cli.debug.charger", "dbg-charge"),
                ("cli.debug.quick", "dbg-quick"),
            ):
                srv.run(
                    client.start_workflow(
                        workflow_type=workflow_type, task_queue=QUEUE, workflow_id=workflow_id
                    )
                )
            srv.run(_settled(client))
            yield srv
        finally:
            srv.run(worker.stop())
            running.result(30)
            srv.run(client.aclose())


async def _client(srv: ServerThread) -> Client:
    return sdk_client(srv.app)


def test_debug_workflow_json(server: ServerThread, tmp_path: Path) -> None:
    nap = dw_json(server, tmp_path, "debug", "workflow", "dbg-nap")
    assert (nap["workflow_id"], nap["namespace"], nap["diagnostic_status"]) == (
        "dbg-nap",
        "default",
        "waiting",
    )
    assert nap["execution"]["wait_kind"] == "timer" and nap["control_plane_operation"] == "debug_workflow"

    charging = dw_json(server, tmp_path, "debug", "workflow", "dbg-charge")
    assert charging["diagnostic_status"] == "needs_attention"
    assert [finding["code"] for finding in charging["findings"]] == ["activity_retrying"]

    quick = dw_json(server, tmp_path, "debug", "workflow", "dbg-quick")
    assert quick["diagnostic_status"] == "terminal"
    by_run = dw_json(server, tmp_path, "debug", "workflow", "dbg-quick", "-r", quick["run_id"])
    assert by_run["run_id"] == quick["run_id"] and by_run["execution"]["status"] == "completed"


def test_debug_workflow_human_view(server: ServerThread, tmp_path: Path) -> None:
    human = dw(server, tmp_path, "debug", "workflow", "dbg-charge")
    assert human.exit_code == 0, human.output
    out = human.stdout
    assert "Debug: dbg-charge" in out and "Namespace: default" in out
    assert "needs_attention" in out and "[WARNING] activity_retrying:" in out
    assert "cli.debug.charge" in out and "card declined for 7" in out
    assert "No pending workflow tasks." in out
    assert max(len(line) for line in out.splitlines()) <= 80

    waiting = dw(server, tmp_path, "debug", "workflow", "dbg-nap")
    assert waiting.exit_code == 0 and "timer" in waiting.stdout and "No recent failures." in waiting.stdout
    assert max(len(line) for line in waiting.stdout.splitlines()) <= 80


def test_debug_needs_the_workflow_target_and_a_known_workflow(server: ServerThread, tmp_path: Path) -> None:
    wrong = dw(server, tmp_path, "debug", "schedule", "dbg-nap")
    assert wrong.exit_code == 2 and "debug takes 'workflow <workflow-id>'" in wrong.stderr
    unknown = dw(server, tmp_path, "debug", "workflow", "nope")
    assert unknown.exit_code == 5 and unknown.stdout == ""
