"""Smoke test over a real socket: a worker process that gets SIGTERM mid-activity drains it.

The worker runs in its own process (as under systemd or Kubernetes); SIGTERM arrives while its
activity runs. The worker finishes the activity, reports it, and exits 0 — the server records
the completion, so nothing waits for a lease to expire.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from durable_workflow import Client
from tests.helpers.server_process import ServerProcess, free_port

pytestmark = pytest.mark.smoke

WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from durable_workflow import Client, Worker, activity, workflow

    url, token, marks = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    @activity.defn(name="slow-step")
    async def slow_step(name: str) -> str:
        (marks / "started").write_text("1")
        # Long enough that SIGTERM lands while it runs; the worker must wait for it.
        await asyncio.sleep(1.5)
        (marks / "finished").write_text("1")
        return f"done {name}"

    @workflow.defn(name="one-step")
    class OneStep:
        def run(self, ctx, name):
            return (yield ctx.schedule_activity("slow-step", [name]))

    async def main() -> None:
        async with Client(url, token=token) as client:
            worker = Worker(client, task_queue="sigterm", workflows=[OneStep], activities=[slow_step],
                            shutdown_timeout=20.0)
            await worker.run()
            (marks / "stopped").write_text("1")

    asyncio.run(main())
    """
)


async def _wait_for(condition_path: Path, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Another process writes the file: poll for it (an observable condition) until a deadline."""
    deadline = time.monotonic() + timeout
    while not condition_path.exists():
        assert process.poll() is None, f"worker exited early with {process.returncode}"
        assert time.monotonic() < deadline, f"{condition_path.name} not written within {timeout}s"
        await asyncio.sleep(0.05)


async def test_sigterm_mid_activity_drains_it_and_exits_zero(tmp_path: Path) -> None:
    server = ServerProcess(free_port(), tmp_path / "sigterm.sqlite3").start()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, str(script), server.url, server.token, str(tmp_path)], stdout=log, stderr=log
    )
    try:
        async with Client(server.url, token=server.token) as client:
            handle = await client.start_workflow(
                workflow_type="one-step", task_queue="sigterm", workflow_id="sigterm-1", input=["ada"]
            )
            await _wait_for(tmp_path / "started", worker)
            worker.send_signal(signal.SIGTERM)
            returncode = await asyncio.to_thread(worker.wait, 60)
            history = await client.get_history("sigterm-1", handle.run_id)
    finally:
        if worker.poll() is None:
            worker.kill()
        log.close()
        server.stop()

    output = (tmp_path / "worker.log").read_text()
    assert returncode == 0, output
    assert (tmp_path / "finished").exists() and (tmp_path / "stopped").exists(), output
    assert "Traceback" not in output
    completed = [e for e in history["events"] if e["event_type"] == "ActivityCompleted"]
    assert len(completed) == 1, [e["event_type"] for e in history["events"]]
