"""The SQL statements of one workflow's life, step by step, against an upper bound per step.

The workflow is the benchmarks' one (start, one activity that returns its input, the result
read), driven through the real app in process with the requests our SDK's worker sends (the
bodies below are what it sent, recorded): a start, the workflow-task poll, the completion that
schedules the activity and takes it eagerly, the activity's completion that takes the next
workflow task eagerly, the completion that closes the run, and the result wait. Each step's
statements are counted (``tests/helpers/statements.py``) and must stay within ``BUDGET``, so a
change that adds a statement to the hot path fails here, with the step's statements listed.
Lower the numbers when a change removes statements; ``DW_STATEMENT_LISTING=1`` (with ``-s``)
prints every statement of the counted life.

The SDK's Worker-first path is counted too: a start whose client runs a worker for the queue in
its process names it (``eager_worker_id``) and gets the first workflow task in the answer. So is
a start while the worker's poll is parked in the server's process: the start hands its task to
that poll, which answers it without a claim of its own.

The background loop's pass is counted the same way: one sweep with the run open and its
activity leased, and one with nothing due.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from durable_workflow.protocol import versions
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app
from tests.helpers.statements import BACKGROUND, StatementLog

CONTROL = {"Authorization": f"Bearer {TOKEN}", versions.CONTROL_PLANE_HEADER: "2"}
WORKER = {"Authorization": f"Bearer {TOKEN}", versions.WORKER_PROTOCOL_HEADER: "1.1"}
QUEUE, WORKER_ID = "budget-q", "budget-worker"
INPUT = {"codec": "avro", "blob": "AAZbN10C"}
RESULT = {"codec": "avro", "blob": "AAI3Ag=="}
# The one worker of the counted life (the round-trip budget registers the same one).
REGISTRATION = {
    "worker_id": WORKER_ID,
    "task_queue": QUEUE,
    "runtime": "python",
    "supported_workflow_types": ["budget-one"],
    "supported_activity_types": ["budget-echo"],
    "capabilities": ["condition_wait_ids", "query_tasks", "update_validation"],
    "task_slots": {"workflow_available": 10, "activity_available": 10},
}

# Statements per step, at most (both databases run the same statements, NOTIFY aside, but
# where POSTGRES_BUDGET says fewer).
BUDGET = {
    "start": 4,
    "workflow task poll": 5,
    "workflow task complete + eager activity": 7,
    "activity complete + eager workflow task": 8,
    "workflow task complete (closes the run)": 4,
    "result wait": 1,
    "start + eager first workflow task": 5,
    # A poll parked in this process (its probe found nothing), then a start handed to it.
    "workflow task poll (parks)": 2,
    "start handed to the parked poll": 5,
}
SWEEP_BUDGET = {"busy": 1, "idle": 1}
# PostgreSQL inserts a new run's history events, its row and its first workflow task in one
# statement (engine/runs/opening.py); SQLite runs them as three.
POSTGRES_BUDGET = {
    **BUDGET,
    "start": 2,
    "start + eager first workflow task": 3,
    "start handed to the parked poll": 3,
}


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    # The loop sweeps only when the test asks: its passes are counted apart.
    settings = e2e_settings(database_url, timer_loop_interval=3600.0)
    async with running_app(settings) as started:
        yield started


async def _post(http: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await http.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_one_workflow_runs_within_its_statement_budget(app: Any) -> None:
    engine = app.state.engine
    transport = httpx.ASGITransport(app=app)  # runs each request in this task: in its step
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await _post(http, "/api/worker/register", REGISTRATION, WORKER)
        # A first workflow warms every path (plans compiled, namespace cached), uncounted.
        await _life(http, engine, "warm-up", None)
        await _eager_start(http, "warm-up-eager", None)
        await _close(http, await _handed_start(http, engine, "warm-up-handed", None))
        with StatementLog(engine.store) as log:
            await _life(http, engine, "counted", log)
            # Before the eager start: the worker holds no lease when it polls (no hand-back read).
            handed_task = await _handed_start(http, engine, "counted-handed", log)
            eager_task = await _eager_start(http, "counted-eager", log)
        await _close(http, eager_task)
        await _close(http, handed_task)
    # PostgreSQL also counts each write's one wake-up NOTIFY (other processes' long polls):
    # budgeted apart, so both databases share the numbers.
    notifies = Counter(e.origin for e in log.entries if e.sql.startswith("SELECT pg_notify"))
    assert all(count <= 1 for count in notifies.values()), notifies
    counts = log.counts() - notifies
    if os.environ.get("DW_STATEMENT_LISTING"):  # the whole life, statement by statement (-s)
        print(f"\n{dict(counts)}\n{log.listing()}")
    budget = POSTGRES_BUDGET if engine.store.dialect == "postgresql" else BUDGET
    over = {step: counts[step] for step, limit in {**budget, **_sweeps()}.items() if counts[step] > limit}
    listing = "\n\n".join(f"{step}: {counts[step]}\n{log.listing(step)}" for step in over)
    assert not over, f"steps over their statement budget: {over}\n{listing}"
    # Every statement was filed under a step, or ran in the loop's own task (woken by a deadline).
    assert set(counts) <= {*BUDGET, *_sweeps(), BACKGROUND}, counts


def _sweeps() -> dict[str, int]:
    return {f"sweep ({kind})": limit for kind, limit in SWEEP_BUDGET.items()}


async def _life(http: httpx.AsyncClient, engine: Any, workflow_id: str, log: StatementLog | None) -> None:
    def step(name: str) -> Any:
        return log.step(name) if log is not None else _nothing()

    with step("start"):
        start = {"workflow_id": workflow_id, "workflow_type": "budget-one", "task_queue": QUEUE}
        start["input"] = INPUT
        run_id = (await _post(http, "/api/workflows", start, CONTROL))["run_id"]
    with step("workflow task poll"):
        poll = {
            "worker_id": WORKER_ID,
            "task_queue": QUEUE,
            "poll_request_id": f"wf-poll-{workflow_id}",
            "held_task_ids": [],
            "hand_back_grace_seconds": 5.0,
        }
        task = (await _post(http, "/api/worker/workflow-tasks/poll", poll, WORKER))["task"]
        assert task is not None and task["run_id"] == run_id
    with step("workflow task complete + eager activity"):
        schedule = {
            "lease_owner": task["lease_owner"],
            "workflow_task_attempt": task["workflow_task_attempt"],
            "commands": [{"type": "schedule_activity", "activity_type": "budget-echo", "arguments": INPUT}],
            "eager_activity_slots": 1,
            "sticky": True,
        }
        path = f"/api/worker/workflow-tasks/{task['task_id']}/complete"
        (activity,) = (await _post(http, path, schedule, WORKER))["eager_activity_tasks"]
    with step("sweep (busy)"):
        await engine.tick()
    with step("activity complete + eager workflow task"):
        done = {
            "activity_attempt_id": activity["activity_attempt_id"],
            "lease_owner": activity["lease_owner"],
            "result": RESULT,
            "eager_workflow_task": True,
        }
        path = f"/api/worker/activity-tasks/{activity['task_id']}/complete"
        task = (await _post(http, path, done, WORKER))["eager_workflow_task"]
        assert task is not None
    with step("workflow task complete (closes the run)"):
        close = {
            "lease_owner": task["lease_owner"],
            "workflow_task_attempt": task["workflow_task_attempt"],
            "commands": [{"type": "complete_workflow", "result": RESULT}],
        }
        path = f"/api/worker/workflow-tasks/{task['task_id']}/complete"
        await _post(http, path, close, WORKER)
    with step("result wait"):
        path = f"/api/workflows/{workflow_id}"
        response = await http.get(path, params={"wait_seconds": 1}, headers=CONTROL)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "completed"
    with step("sweep (idle)"):
        await engine.tick()


async def _eager_start(http: httpx.AsyncClient, workflow_id: str, log: StatementLog | None) -> Any:
    """The start our SDK's client sends when a worker of the queue runs in its process."""
    with log.step("start + eager first workflow task") if log is not None else _nothing():
        start = {"workflow_id": workflow_id, "workflow_type": "budget-one", "task_queue": QUEUE}
        start.update(input=INPUT, eager_worker_id=WORKER_ID)
        answer = await _post(http, "/api/workflows", start, CONTROL)
    task = answer["eager_workflow_task"]
    assert task is not None and task["run_id"] == answer["run_id"] and task["lease_owner"] == WORKER_ID
    if log is None:
        await _close(http, task)
    return task


async def _handed_start(
    http: httpx.AsyncClient, engine: Any, workflow_id: str, log: StatementLog | None
) -> Any:
    """A start while the worker's poll is parked in this process: the start's task is handed to it."""
    poll = {
        "worker_id": WORKER_ID,
        "task_queue": QUEUE,
        "poll_request_id": f"wf-poll-{workflow_id}",
        "held_task_ids": [],
        "hand_back_grace_seconds": 5.0,
        "timeout_seconds": 30,  # parks even when a loaded machine makes its first probe slow
    }
    with log.step("workflow task poll (parks)") if log is not None else _nothing():
        polling = asyncio.create_task(_post(http, "/api/worker/workflow-tasks/poll", poll, WORKER))

    async def parked() -> None:
        while not engine.waiters.parked.offers("default", QUEUE):  # probed, found nothing, parked
            assert not polling.done(), polling.result()
            await asyncio.sleep(0)

    await asyncio.wait_for(parked(), 10)
    with log.step("start handed to the parked poll") if log is not None else _nothing():
        start = {"workflow_id": workflow_id, "workflow_type": "budget-one", "task_queue": QUEUE}
        start["input"] = INPUT
        answer = await _post(http, "/api/workflows", start, CONTROL)
    task = (await polling)["task"]
    assert task is not None and task["run_id"] == answer["run_id"] and answer["status"] == "running"
    return task


async def _close(http: httpx.AsyncClient, task: Any) -> None:
    close = {
        "lease_owner": task["lease_owner"],
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": [{"type": "complete_workflow", "result": RESULT}],
    }
    await _post(http, f"/api/worker/workflow-tasks/{task['task_id']}/complete", close, WORKER)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
