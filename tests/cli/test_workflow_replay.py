"""``dw workflow:replay`` against a real run: recorded on the in-process server by the real SDK
worker, then replayed against the same code (exit 0) and against changed code (exit 1 with the
replayer's non-determinism report), from the server and from a saved history export."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from durable_workflow import Client, Worker
from tests.cli import replay_workflows
from tests.cli.replay_workflows import ChargeFirst, Order, charge, reserve
from tests.helpers.cli import ServerThread, invoke, one_document, server_thread
from tests.helpers.cli import dw_on as dw
from tests.helpers.e2e_env import e2e_settings, sdk_client

QUEUE = "cli-replay"
SAME = "tests.cli.replay_workflows:Order"
CHANGED = "tests.cli.replay_workflows:ChargeFirst"


async def _registered(client: Client, worker_id: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    while worker_id not in [
        w["worker_id"] for w in (await client.get_cluster_info())["worker_fleet"]["workers"]
    ]:
        assert loop.time() < deadline, "the worker never registered"
        await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, str]]:
    """The server, with one completed run of ``Order`` (its run id)."""
    folder = tmp_path_factory.mktemp("replay")
    settings = e2e_settings(f"sqlite:///{folder / 'replay.sqlite3'}")
    with server_thread(settings) as srv:

        async def make() -> Client:
            return sdk_client(srv.app)

        client = srv.run(make())
        worker = Worker(client, task_queue=QUEUE, workflows=[Order], activities=[reserve, charge])
        running = srv.spawn(worker.run())
        srv.run(_registered(client, worker.worker_id))
        try:
            started = dw(srv, folder, "workflow:start", f"--type={replay_workflows.TYPE}",
                         "--workflow-id=order-1", f"--task-queue={QUEUE}", '--input=["book"]',
                         "--wait", "--json")  # fmt: skip
            assert started.exit_code == 0, started.output
            final = json.loads(started.stdout)  # --wait prints the final describe, pretty
            assert final["output"] == {"reserved": "reserved book", "charged": "charged book"}
            yield srv, final["run_id"]
        finally:
            srv.run(worker.stop())
            running.result(30)
            srv.run(client.aclose())


def moved_line() -> int:
    lines, first = inspect.getsourcelines(ChargeFirst.run)
    return first + next(i for i, text in enumerate(lines) if "MOVED-UP" in text)


def test_same_code_replays_from_the_server(recorded: tuple[ServerThread, str], tmp_path: Path) -> None:
    srv, run_id = recorded
    result = dw(srv, tmp_path, "workflow:replay", "order-1", f"--workflow={SAME}")
    assert result.exit_code == 0, result.output
    assert "Replay passed" in result.stdout
    assert f"Run ID:       {run_id}" in result.stdout
    assert "Ends With:    complete_workflow" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80

    as_json = dw(
        srv, tmp_path, "workflow:replay", "order-1", f"--run-id={run_id}", f"--workflow={SAME}", "--json"
    )
    document = one_document(as_json)
    assert as_json.exit_code == 0
    assert document["deterministic"] is True and document["finished"] is True
    assert (document["workflow_type"], document["run_id"], document["source"]) == (
        replay_workflows.TYPE,
        run_id,
        "server",
    )
    assert document["event_count"] > 4 and document["namespace"] == "default"


def test_changed_code_exits_1_with_the_report(recorded: tuple[ServerThread, str], tmp_path: Path) -> None:
    srv, run_id = recorded
    result = dw(srv, tmp_path, "workflow:replay", "order-1", f"--workflow={CHANGED}")
    assert result.exit_code == 1
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: Replay diverged from the recorded history."
    assert lines[1] == f"workflow {replay_workflows.TYPE!r} (run {run_id}) is not deterministic at step #1:"
    assert lines[2].startswith("  history recorded: ActivityScheduled 'cli.reserve'")
    assert lines[3] == "  the code now yields: schedule_activity 'cli.charge'"
    assert f"replay_workflows.py:{moved_line()}" in result.stderr
    assert f"Try: dw workflow:replay order-1 --run-id={run_id} --workflow={CHANGED}" in result.stderr

    as_json = one_document(dw(srv, tmp_path, "workflow:replay", "order-1", f"--workflow={CHANGED}", "--json"))
    assert as_json["exit_code"] == 1 and as_json["reason"] == "non_deterministic_replay"
    assert (as_json["deterministic"], as_json["step"], as_json["run_id"]) == (False, 1, run_id)
    assert as_json["location"].endswith(f"replay_workflows.py:{moved_line()}")
    assert as_json["recorded"].startswith("ActivityScheduled 'cli.reserve'")


def test_a_saved_export_replays_without_the_server(
    recorded: tuple[ServerThread, str], tmp_path: Path
) -> None:
    srv, run_id = recorded
    saved = tmp_path / "order-1.json"
    exported = dw(srv, tmp_path, "workflow:history-export", "order-1", run_id, f"--output-file={saved}")
    assert exported.exit_code == 0, exported.output

    # No server at all: the file is the whole history.
    offline = ["--server=http://127.0.0.1:9", "workflow:replay", f"--history-file={saved}"]
    same = invoke([*offline, f"--workflow={SAME}", "--json"], config_home=tmp_path)
    assert same.exit_code == 0, same.output
    document = one_document(same)
    assert (document["source"], document["workflow_id"], document["run_id"]) == ("file", "order-1", run_id)

    changed = invoke([*offline, f"--workflow={CHANGED}"], config_home=tmp_path)
    assert changed.exit_code == 1
    assert "is not deterministic at step #1" in changed.stderr

    # The file form of --workflow: code that is not an importable module.
    script = tmp_path / "orders_v1.py"
    script.write_text(Path(replay_workflows.__file__).read_text())
    assert invoke([*offline, f"--workflow={script}:Order"], config_home=tmp_path).exit_code == 0


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("tests.cli.replay_workflows", "--workflow must be module:Class"),
        ("tests.cli.no_such_module:Order", "Cannot import tests.cli.no_such_module: ModuleNotFoundError"),
        ("tests.cli.replay_workflows:Missing", "has no attribute 'Missing'"),
        ("tests.cli.replay_workflows:NOT_A_WORKFLOW", "is not a workflow"),
    ],
)
def test_bad_workflow_references_exit_2(tmp_path: Path, reference: str, message: str) -> None:
    result = invoke(["workflow:replay", "wf-1", f"--workflow={reference}"], config_home=tmp_path)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_history_of_another_type_exits_2(recorded: tuple[ServerThread, str], tmp_path: Path) -> None:
    srv, _ = recorded
    other = tmp_path / "other.py"
    other.write_text(
        "from durable_workflow import workflow\n\n"
        "@workflow.defn(name='something.else')\n"
        "class Other:\n"
        "    def run(self, ctx, *args):\n"
        "        return None\n"
        "        yield\n"
    )
    result = dw(srv, tmp_path, "workflow:replay", "order-1", f"--workflow={other}:Other")
    assert result.exit_code == 2
    assert "Cannot replay this history" in result.stderr and "something.else" in result.stderr
