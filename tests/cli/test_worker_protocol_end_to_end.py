"""``dw workflow-task:*``, ``query-task:*`` and ``activity:complete/fail`` against the real server.

The CLI plays the worker by hand: ``worker:register``, then poll, complete or fail each task,
as an SDK author would while debugging. No SDK worker serves the queue; the SDK client (on the
server's loop) only polls activity tasks, which have no ``dw`` verb, and asks the queries the
CLI answers. Every ``--json`` document is checked against its published schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Client
from tests.helpers.cli import ServerThread, one_document, server_thread, validate_output
from tests.helpers.cli import dw_on as dw
from tests.helpers.e2e_env import e2e_settings, sdk_client

QUEUE = "cli-diag"
WORKER = "cli-diag-worker"
POLLS = 40  # each poll long-polls (0.5 s here), so this bounds a wait, it does not pace one


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerThread, Client]]:
    settings = e2e_settings(f"sqlite:///{tmp_path / 'diag.sqlite3'}", query_task_timeout=10.0)
    with server_thread(settings) as srv:
        client = srv.run(_client(srv))
        try:
            yield srv, client
        finally:
            srv.run(client.aclose())


async def _client(srv: ServerThread) -> Client:
    return sdk_client(srv.app)


def dw_json(srv: ServerThread, tmp_path: Path, command: str, *args: str) -> Any:
    result = dw(srv, tmp_path, command, *args, "--json")
    assert result.exit_code == 0, result.output
    document = one_document(result)
    validate_output(document, command)
    assert "namespace" not in document  # worker-plane answers pass through untouched
    return document


def register(srv: ServerThread, tmp_path: Path) -> None:
    # --capability is ours (the reference CLI has none): the server routes queries only to a
    # worker that promised query_tasks.
    registered = dw_json(srv, tmp_path, "worker:register", WORKER, f"--task-queue={QUEUE}",
                         "--workflow-type=diag.flow", "--activity-type=diag.act",
                         "--capability=query_tasks")  # fmt: skip
    assert registered["registered"] is True and registered["worker_id"] == WORKER


def start(srv: ServerThread, tmp_path: Path, workflow_id: str) -> None:
    result = dw(srv, tmp_path, "workflow:start", "--type=diag.flow", f"--workflow-id={workflow_id}",
                f"--task-queue={QUEUE}", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output


def poll(srv: ServerThread, tmp_path: Path, command: str, *args: str) -> dict[str, Any]:
    for _ in range(POLLS):
        document = dw_json(srv, tmp_path, command, WORKER, f"--task-queue={QUEUE}", *args)
        if document["task"] is not None:
            return dict(document["task"])
    raise AssertionError(f"{command} found no task")


def test_a_workflow_driven_by_hand_through_its_activity(
    server: tuple[ServerThread, Client], tmp_path: Path
) -> None:
    srv, client = server
    register(srv, tmp_path)
    start(srv, tmp_path, "diag-1")

    # A one-event first page leaves a token for workflow-task:history.
    task = poll(srv, tmp_path, "workflow-task:poll", "--history-page-size=1")
    assert (task["workflow_id"], task["lease_owner"], len(task["history_events"])) == ("diag-1", WORKER, 1)
    attempt = str(task["workflow_task_attempt"])
    page = dw_json(srv, tmp_path, "workflow-task:history", task["task_id"], task["next_history_page_token"],
                   f"--lease-owner={WORKER}", f"--attempt={attempt}")  # fmt: skip
    assert page["history_events"][0]["event_type"] == "WorkflowStarted"
    assert page["total_history_events"] == 2 and page["next_history_page_token"] is None

    from durable_workflow.protocol import codec

    schedule = {"type": "schedule_activity", "activity_type": "diag.act", "queue": QUEUE,
                "arguments": codec.envelope([7])}  # fmt: skip
    completed = dw_json(srv, tmp_path, "workflow-task:complete", task["task_id"], attempt,
                        f"--lease-owner={WORKER}", f"--command={json.dumps(schedule)}")  # fmt: skip
    assert (completed["task_id"], completed["outcome"]) == (task["task_id"], "completed")

    activity = srv.run(client.poll_activity_task(worker_id=WORKER, task_queue=QUEUE))
    assert activity is not None and activity["activity_type"] == "diag.act"
    done = dw_json(srv, tmp_path, "activity:complete", activity["task_id"], activity["activity_attempt_id"],
                   f"--lease-owner={WORKER}", '--input={"items":3}')  # fmt: skip
    assert (done["outcome"], done.get("recorded", True)) == ("completed", True)
    # The same attempt again is settled: this server refuses it (409 stale_attempt), one block.
    again = dw(srv, tmp_path, "activity:complete", activity["task_id"], activity["activity_attempt_id"],
               f"--lease-owner={WORKER}", "--input=1")  # fmt: skip
    assert again.exit_code == 2 and "Reason: stale_attempt" in again.stderr, again.output
    assert "Traceback" not in again.stderr

    task = poll(srv, tmp_path, "workflow-task:poll")
    types = [event["event_type"] for event in task["history_events"]]
    assert "ActivityCompleted" in types
    human = dw(srv, tmp_path, "workflow-task:complete", task["task_id"], str(task["workflow_task_attempt"]),
               f"--lease-owner={WORKER}", '--complete-result={"done":true}')  # fmt: skip
    assert human.exit_code == 0 and "Workflow task completed" in human.stdout, human.output
    assert max(len(line) for line in human.stdout.splitlines()) <= 80

    described = one_document(dw(srv, tmp_path, "workflow:describe", "diag-1", "--json"))
    assert (described["status"], described["output"]) == ("completed", {"done": True})


def test_failing_a_workflow_task_and_an_activity(server: tuple[ServerThread, Client], tmp_path: Path) -> None:
    srv, client = server
    register(srv, tmp_path)
    start(srv, tmp_path, "diag-2")
    task = poll(srv, tmp_path, "workflow-task:poll")
    failed = dw_json(srv, tmp_path, "workflow-task:fail", task["task_id"], str(task["workflow_task_attempt"]),
                     f"--lease-owner={WORKER}", "--message=replay mismatch",
                     "--type=NonDeterminism")  # fmt: skip
    assert failed["outcome"] == "failed"

    # The workflow is offered again, in a fresh task (or the next attempt of the same one).
    retry = poll(srv, tmp_path, "workflow-task:poll")
    assert retry["workflow_id"] == "diag-2"
    assert (retry["task_id"], retry["workflow_task_attempt"]) != (
        task["task_id"],
        task["workflow_task_attempt"],
    )

    from durable_workflow.protocol import codec

    schedule = {"type": "schedule_activity", "activity_type": "diag.act", "queue": QUEUE,
                "arguments": codec.envelope([]), "retry_policy": {"max_attempts": 3}}  # fmt: skip
    dw_json(srv, tmp_path, "workflow-task:complete", retry["task_id"], str(retry["workflow_task_attempt"]),
            f"--lease-owner={WORKER}", f"--command={json.dumps(schedule)}")  # fmt: skip
    activity = srv.run(client.poll_activity_task(worker_id=WORKER, task_queue=QUEUE))
    assert activity is not None
    both = dw(srv, tmp_path, "activity:fail", activity["task_id"], activity["activity_attempt_id"],
              "-m", "x", "--retryable", "--non-retryable")  # fmt: skip
    assert both.exit_code == 2 and "cannot be used together" in both.stderr
    gone = dw_json(srv, tmp_path, "activity:fail", activity["task_id"], activity["activity_attempt_id"],
                   f"--lease-owner={WORKER}", "--message=card declined", "--type=CardDeclined",
                   "--non-retryable")  # fmt: skip
    assert gone["outcome"] == "failed"

    # Non-retryable despite max_attempts=3: the workflow hears of the failure at once.
    task = poll(srv, tmp_path, "workflow-task:poll")
    assert "ActivityFailed" in [event["event_type"] for event in task["history_events"]]


def test_answering_and_refusing_queries(server: tuple[ServerThread, Client], tmp_path: Path) -> None:
    srv, client = server
    register(srv, tmp_path)
    start(srv, tmp_path, "diag-3")
    task = poll(srv, tmp_path, "workflow-task:poll")
    wait = {"type": "open_condition_wait", "condition_key": "never"}
    dw_json(srv, tmp_path, "workflow-task:complete", task["task_id"], str(task["workflow_task_attempt"]),
            f"--lease-owner={WORKER}", f"--command={json.dumps(wait)}")  # fmt: skip

    asked = srv.spawn(client.query_workflow("diag-3", "status", [1]))
    query = poll(srv, tmp_path, "query-task:poll")
    assert (query["workflow_id"], query["query_name"]) == ("diag-3", "status")
    answered = dw_json(srv, tmp_path, "query-task:complete", query["query_task_id"],
                       str(query["query_task_attempt"]), f"--lease-owner={WORKER}",
                       '--result={"open_items":3}')  # fmt: skip
    assert answered["outcome"] == "completed"
    assert asked.result(30) == {"open_items": 3}

    from durable_workflow.errors import ServerError

    refused = srv.spawn(client.query_workflow("diag-3", "nope"))
    query = poll(srv, tmp_path, "query-task:poll")
    human = dw(srv, tmp_path, "query-task:fail", query["query_task_id"], str(query["query_task_attempt"]),
               f"--lease-owner={WORKER}", "--message=unknown query nope",
               "--reason=rejected_unknown_query")  # fmt: skip
    assert human.exit_code == 0 and "Query task failed" in human.stdout, human.output
    with pytest.raises(ServerError) as caught:
        refused.result(30)
    assert "unknown query nope" in str(caught.value)

    empty = dw(srv, tmp_path, "query-task:poll", WORKER, f"--task-queue={QUEUE}")
    assert empty.exit_code == 0 and empty.stdout.strip() == "No query task available."


def test_a_stale_lease_is_one_error_block(server: tuple[ServerThread, Client], tmp_path: Path) -> None:
    srv, _ = server
    register(srv, tmp_path)
    result = dw(srv, tmp_path, "workflow-task:complete", "no-such-task", "1", f"--lease-owner={WORKER}")
    assert result.exit_code in (2, 5), result.output
    assert result.stderr.startswith("Error: Server error:") and "Traceback" not in result.stderr
    bad = dw(srv, tmp_path, "workflow-task:complete", "t", "0")
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr
