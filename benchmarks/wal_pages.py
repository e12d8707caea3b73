"""Which pages a workflow writes to a SQLite file's write-ahead log, step by step.

Every committed write transaction appends each page it changed to the WAL (one 24-byte frame
header and one page, two ``pwrite`` calls), and a checkpoint later copies them into the database
file: so pages written per workflow are most of what a file database costs the server beyond an
in-memory one. This drives the benchmark workflow (start, workflow-task poll, completion with the
activity taken eagerly, the activity's completion with the next workflow task taken eagerly, the
closing completion, the result wait) through the server app in process, against a fresh SQLite
file with the background checkpointer off (so the log only grows), and after each step reads the
frames the log gained: how many, in how many commits, and which table or index each page belongs
to (SQLite's ``dbstat`` table, read after the step).

    python benchmarks/wal_pages.py --workflows 50 --prefill 500

``--prefill`` runs that many workflows first (uncounted), so the b-trees have the depth of a
database in use; ``--server-src DIR`` measures another tree's server (``DIR`` is put first on
``sys.path``), so two trees can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import struct
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

STEPS = (
    "start",
    "workflow task poll",
    "complete WT + eager activity",
    "complete activity + eager WT",
    "complete closing WT",
    "result wait",
)
TOKEN = "wal-pages-token"
CONTROL = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
WORKER = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Protocol-Version": "1.1"}
QUEUE, WORKER_ID = "wal-q", "wal-worker"
INPUT = {"codec": "avro", "blob": "AAZbN10C"}
RESULT = {"codec": "avro", "blob": "AAI3Ag=="}
WAL_HEADER, FRAME_HEADER = 32, 24


@dataclass
class StepTally:
    """Frames, commits and pages per b-tree of one step, summed over the counted workflows."""

    frames: int = 0
    commits: int = 0
    pages: Counter[str] = field(default_factory=Counter)


class WalReader:
    """Reads the frames appended to a database's WAL since the last call."""

    def __init__(self, database: str) -> None:
        self.path = database + "-wal"
        self.database = database
        self.offset = WAL_HEADER
        self.page_size = 0

    def new_frames(self) -> list[tuple[int, bool]]:
        """(page number, ends a commit) of each frame appended since the last call."""
        with open(self.path, "rb") as wal:
            if not self.page_size:
                self.page_size = struct.unpack(">I", wal.read(WAL_HEADER)[8:12])[0]
            wal.seek(self.offset)
            data = wal.read()
        frames = []
        size = FRAME_HEADER + self.page_size
        for start in range(0, len(data) - size + 1, size):
            page, commit_size = struct.unpack(">II", data[start : start + 8])
            frames.append((page, commit_size != 0))
        self.offset += len(frames) * size
        return frames

    def owners(self) -> dict[int, str]:
        """The table or index each page of the database belongs to (as of the last commit)."""
        connection = sqlite3.connect(self.database)
        try:
            return {page: name for name, page in connection.execute("SELECT name, pageno FROM dbstat")}
        finally:
            connection.close()


async def _post(http: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await http.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _life(http: Any, workflow_id: str, mark: Any) -> None:
    """One workflow, ``mark(step)`` called after each step."""
    start = {"workflow_id": workflow_id, "workflow_type": "wal-one", "task_queue": QUEUE, "input": INPUT}
    await _post(http, "/api/workflows", start, CONTROL)
    mark(STEPS[0])
    poll = {"worker_id": WORKER_ID, "task_queue": QUEUE, "poll_request_id": f"poll-{workflow_id}"}
    poll["timeout_seconds"] = 5  # waits (parked) should the task not be claimable at once
    poll.update(held_task_ids=[], hand_back_grace_seconds=5.0)
    task = (await _post(http, "/api/worker/workflow-tasks/poll", poll, WORKER))["task"]
    mark(STEPS[1])
    schedule = {
        "lease_owner": task["lease_owner"],
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": [{"type": "schedule_activity", "activity_type": "wal-echo", "arguments": INPUT}],
        "eager_activity_slots": 1,
        "sticky": True,
    }
    path = f"/api/worker/workflow-tasks/{task['task_id']}/complete"
    (activity,) = (await _post(http, path, schedule, WORKER))["eager_activity_tasks"]
    mark(STEPS[2])
    done = {
        "activity_attempt_id": activity["activity_attempt_id"],
        "lease_owner": activity["lease_owner"],
        "result": RESULT,
        "eager_workflow_task": True,
    }
    path = f"/api/worker/activity-tasks/{activity['task_id']}/complete"
    task = (await _post(http, path, done, WORKER))["eager_workflow_task"]
    mark(STEPS[3])
    close = {
        "lease_owner": task["lease_owner"],
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": [{"type": "complete_workflow", "result": RESULT}],
    }
    await _post(http, f"/api/worker/workflow-tasks/{task['task_id']}/complete", close, WORKER)
    mark(STEPS[4])
    response = await http.get(f"/api/workflows/{workflow_id}", params={"wait_seconds": 1}, headers=CONTROL)
    assert response.status_code == 200 and response.json()["status"] == "completed", response.text
    mark(STEPS[5])


async def measure(database: str, workflows: int, prefill: int) -> tuple[dict[str, StepTally], int]:
    """Per-step tallies over ``workflows`` counted workflows, and the database's pages at the end."""
    import httpx
    from asgi_lifespan import LifespanManager

    from durable_workflow_server import Settings, create_app
    from durable_workflow_server.store import checkpoints, sqlite

    # The log must only grow: no background checkpoint, no automatic one at commit.
    checkpoints.Checkpointer.committed = lambda self: None  # type: ignore[method-assign]
    sqlite.BACKSTOP_PAGES = 1 << 30  # type: ignore[attr-defined]
    # No liveness check: a long prefill must not see its (never heartbeating) worker go stale.
    settings = Settings(
        database_url=f"sqlite:///{database}",
        auth_token=TOKEN,
        timer_loop_interval=3600.0,
        worker_liveness_timeout_seconds=None,
    )
    app = create_app(settings)
    tallies = {step: StepTally() for step in STEPS}
    wal = WalReader(database)
    async with LifespanManager(app, startup_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            registration = {
                "worker_id": WORKER_ID,
                "task_queue": QUEUE,
                "runtime": "python",
                "supported_workflow_types": ["wal-one"],
                "supported_activity_types": ["wal-echo"],
                "task_slots": {"workflow_available": 10, "activity_available": 10},
            }
            await _post(http, "/api/worker/register", registration, WORKER)
            for number in range(prefill):
                await _life(http, f"prefill-{number}", lambda step: None)
            wal.new_frames()

            def mark(step: str) -> None:
                frames = wal.new_frames()
                owners = wal.owners()
                tally = tallies[step]
                tally.frames += len(frames)
                tally.commits += sum(commit for _, commit in frames)
                tally.pages.update(owners.get(page, "(free list)") for page, _ in frames)

            for number in range(workflows):
                await _life(http, f"counted-{number}", mark)
            pages = len(wal.owners())
    return tallies, pages


def report(tallies: dict[str, StepTally], workflows: int, pages: int) -> None:
    total = sum(t.frames for t in tallies.values())
    commits = sum(t.commits for t in tallies.values())
    print(f"{workflows} workflows; database {pages} pages at the end")
    print(f"WAL frames per workflow: {total / workflows:.2f} in {commits / workflows:.2f} commits")
    for step, tally in tallies.items():
        print(f"\n{step}: {tally.frames / workflows:.2f} frames, {tally.commits / workflows:.2f} commits")
        for name, count in tally.pages.most_common():
            print(f"    {count / workflows:6.2f}  {name}")
    overall: Counter[str] = Counter()
    for tally in tallies.values():
        overall.update(tally.pages)
    print("\nper workflow, by table or index:")
    for name, count in overall.most_common():
        print(f"    {count / workflows:6.2f}  {name}")


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--workflows", type=int, default=50, help="workflows counted (default 50)")
    parser.add_argument(
        "--prefill", type=int, default=500, help="workflows run first, uncounted (default 500)"
    )
    parser.add_argument("--server-src", help="import the server from this source tree instead")
    args = parser.parse_args()
    if args.server_src:
        sys.path.insert(0, os.path.abspath(args.server_src))
    with tempfile.TemporaryDirectory(prefix="wal-pages-") as directory:
        database = os.path.join(directory, "wal.db")
        tallies, pages = asyncio.run(measure(database, args.workflows, args.prefill))
    report(tallies, args.workflows, pages)


if __name__ == "__main__":
    main()
