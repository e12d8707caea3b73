"""``dw task-queue:*``, ``worker:*``, ``system:*`` and ``bridge:webhook`` against the real server
(in process, on its own loop) with the real SDK worker serving the queue.

Every ``--json`` document (and ``--output=jsonl`` line) is checked against its published schema;
human views must fit 80 columns.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Client, Worker, workflow
from tests.helpers.cli import ServerThread, one_document, server_thread, validate_output
from tests.helpers.cli import dw_json_on as dw_json
from tests.helpers.cli import dw_on as dw
from tests.helpers.e2e_env import e2e_settings, sdk_client

QUEUE = "cli-ops"
BUILD = "build-2026.04.22"


@workflow.defn(name="cli.echo")
class Echo:
    def run(self, ctx: Any, *args: Any) -> Any:
        return {"args": list(args)}
        yield  # pragma: no cover - makes run a generator, as workflows are


async def _registered(client: Client, worker_id: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    while worker_id not in [w.worker_id for w in await client.list_workers(task_queue=QUEUE)]:
        assert loop.time() < deadline, "the worker never registered"
        await asyncio.sleep(0.01)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerThread, Worker]]:
    with server_thread(e2e_settings(f"sqlite:///{tmp_path / 'ops.sqlite3'}")) as srv:
        client = srv.run(_client(srv))
        worker = Worker(client, task_queue=QUEUE, workflows=[Echo], build_id=BUILD)
        running = srv.spawn(worker.run())
        srv.run(_registered(client, worker.worker_id))
        try:
            yield srv, worker
        finally:
            srv.run(worker.stop())
            running.result(30)
            srv.run(client.aclose())


async def _client(srv: ServerThread) -> Client:
    return sdk_client(srv.app)


def human(srv: ServerThread, tmp_path: Path, *args: str, exit_code: int = 0) -> str:
    result = dw(srv, tmp_path, *args)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.stderr
    assert max((len(line) for line in result.stdout.splitlines()), default=0) <= 80, result.stdout
    return str(result.stdout)


def test_task_queues_and_build_id_rollout(server: tuple[ServerThread, Worker], tmp_path: Path) -> None:
    srv, worker = server
    listed = dw_json(srv, tmp_path, "task-queue:list")
    assert QUEUE in [queue["name"] for queue in listed["task_queues"]]
    assert listed["namespace"] == "default"
    lines = dw(srv, tmp_path, "task-queue:list", "--output=jsonl").stdout.splitlines()
    for line in lines:
        validate_output(json.loads(line), "task-queue:list", jsonl=True)
    assert QUEUE in [json.loads(line)["name"] for line in lines]

    described = dw_json(srv, tmp_path, "task-queue:describe", QUEUE)
    assert [poller["worker_id"] for poller in described["pollers"]] == [worker.worker_id]
    assert "Task Queue: cli-ops" in human(srv, tmp_path, "task-queue:describe", QUEUE)

    cohorts = dw_json(srv, tmp_path, "task-queue:build-ids", QUEUE)
    assert [(c["build_id"], c["rollout_status"]) for c in cohorts["build_ids"]] == [(BUILD, "active")]
    assert f"Build ID:        {BUILD}" in human(srv, tmp_path, "task-queue:build-ids", QUEUE)

    drained = dw_json(srv, tmp_path, "task-queue:drain", QUEUE, f"--build-id={BUILD}")
    assert (drained["build_id"], drained["drain_intent"]) == (BUILD, "draining")
    assert drained["drained_at"] is not None
    assert dw_json(srv, tmp_path, "worker:describe", worker.worker_id)["status"] == "draining"
    resumed = dw_json(srv, tmp_path, "task-queue:resume", QUEUE, f"--build-id={BUILD}")
    assert (resumed["drain_intent"], resumed["drained_at"]) == ("active", None)
    promoted = human(srv, tmp_path, "task-queue:promote", QUEUE, f"--build-id={BUILD}")
    assert "Build ID promoted" in promoted and "New Starts:" in promoted
    unversioned = dw_json(srv, tmp_path, "task-queue:drain", QUEUE, "--unversioned")
    assert (unversioned["build_id"], unversioned["drain_intent"]) == (None, "draining")

    both = dw(srv, tmp_path, "task-queue:drain", QUEUE, "--unversioned", f"--build-id={BUILD}")
    assert both.exit_code == 2 and "exactly one of --build-id" in both.stderr


def test_workers(server: tuple[ServerThread, Worker], tmp_path: Path) -> None:
    srv, worker = server
    listed = dw_json(srv, tmp_path, "worker:list", f"--task-queue={QUEUE}", "--status=active")
    assert [(w["worker_id"], w["build_id"]) for w in listed["workers"]] == [(worker.worker_id, BUILD)]
    line = dw(srv, tmp_path, "worker:list", "--output=jsonl").stdout.strip()
    validate_output(json.loads(line), "worker:list", jsonl=True)
    table = human(srv, tmp_path, "worker:list")
    assert worker.worker_id in table and "Namespace:  default" in table

    described = dw_json(srv, tmp_path, "worker:describe", worker.worker_id)
    assert (described["worker_id"], described["task_queue"], described["namespace"]) == (
        worker.worker_id,
        QUEUE,
        "default",
    )
    view = human(srv, tmp_path, "worker:describe", worker.worker_id)
    assert "Workflow Types:" in view and "cli.echo" in view

    missing = dw(srv, tmp_path, "worker:describe", "nobody")
    assert missing.exit_code == 5 and missing.stderr.startswith("Error: Server error:")

    gone = dw_json(srv, tmp_path, "worker:deregister", "cli-made")
    assert gone["outcome"] == "already_absent"
    registered = dw_json(srv, tmp_path, "worker:register", "cli-made", f"--task-queue={QUEUE}")
    assert registered["registered"] is True
    assert human(srv, tmp_path, "worker:deregister", "cli-made").strip() == "Worker cli-made: deregistered"


def test_system_maintenance(server: tuple[ServerThread, Worker], tmp_path: Path) -> None:
    srv, _ = server
    waited = dw(srv, tmp_path, "workflow:start", "--type=cli.echo", "--workflow-id=ops-1",
                f"--task-queue={QUEUE}", "--input=[1]", "--wait", "--json")  # fmt: skip
    started = json.loads(waited.stdout)  # --wait --json is pretty-printed (cli.md §2.7)
    assert (waited.exit_code, started["status"]) == (0, "completed")

    repair = dw_json(srv, tmp_path, "system:repair-status")
    assert repair["candidates"]["total_candidates"] == 0 and "policy" in repair
    assert "Repair status" in human(srv, tmp_path, "system:repair-status")
    swept = dw_json(srv, tmp_path, "system:repair-pass", "--instance-id=ops-1")
    assert swept["repaired_existing_tasks"] == 0 and "namespace" in swept
    assert "Repair pass" in human(srv, tmp_path, "system:repair-pass", "--run-id=nope")

    retention = dw_json(srv, tmp_path, "system:retention-status")
    assert (retention["namespace"], retention["expired_run_count"]) == ("default", 0)
    pruned = dw_json(srv, tmp_path, "system:retention-pass", f"--run-id={started['run_id']}", "--limit=5")
    # Closed just now: inside the retention window, so skipped.
    assert [r["outcome"] for r in pruned["results"]] == ["skipped"]
    assert "Retention pass" in human(srv, tmp_path, "system:retention-pass", "--limit=5")

    timeouts = dw_json(srv, tmp_path, "system:activity-timeout-status")
    assert timeouts["expired_count"] == 0
    enforced = dw_json(srv, tmp_path, "system:activity-timeout-pass", "--limit=10")
    assert enforced["processed"] == 0
    assert "Activity timeout pass" in human(srv, tmp_path, "system:activity-timeout-pass")

    metrics = dw_json(srv, tmp_path, "system:operator-metrics")
    assert metrics["operator_metrics"]["runs"]["total"] >= 1
    assert "Operator metrics" in human(srv, tmp_path, "system:operator-metrics")


def test_bridge_webhook(server: tuple[ServerThread, Worker], tmp_path: Path) -> None:
    srv, _ = server
    event = ["bridge:webhook", "stripe", "--action=start_workflow", "--idempotency-key=evt-1",
             f'--target={{"workflow_type":"cli.echo","task_queue":"{QUEUE}"}}', '--input={"order":7}',
             '--correlation={"provider":"stripe"}']  # fmt: skip
    accepted = dw_json(srv, tmp_path, *event)
    assert (accepted["accepted"], accepted["outcome"], accepted["control_plane_outcome"]) == (
        True,
        "accepted",
        "started_new",
    )
    assert "namespace" not in accepted  # the outcome passes through untouched
    workflow_id = accepted["workflow_id"]
    final = dw_json(srv, tmp_path, "workflow:describe", workflow_id)
    assert final["input"] == {"order": 7} or final["input"] == [{"order": 7}]

    repeat = human(srv, tmp_path, *event)
    assert "Bridge adapter outcome" in repeat and "duplicate" in repeat

    bad = ["bridge:webhook", "stripe", "--action=signal_workflow", "--idempotency-key=evt-2",
           '--target={"workflow_id":"nope"}']  # fmt: skip
    rejected = dw(srv, tmp_path, *bad, "--json")
    assert rejected.exit_code == 2
    outcome = one_document(rejected)
    validate_output(outcome, "bridge:webhook")
    assert (outcome["accepted"], outcome["outcome"]) == (False, "rejected")
    view = human(srv, tmp_path, *bad, exit_code=2)
    assert "Validation: target.signal_name:" in view

    not_json = dw(srv, tmp_path, "bridge:webhook", "stripe", "--action=start_workflow",
                  "--idempotency-key=e", "--target=[1]")  # fmt: skip
    assert not_json.exit_code == 2 and "--target must be a JSON object" in not_json.stderr
