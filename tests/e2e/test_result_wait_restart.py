"""A result wait across a server restart, over a real socket: the client asks the new server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import Client, Worker, activity, workflow
from tests.helpers.server_process import ServerProcess, free_port

pytestmark = pytest.mark.smoke
WITHIN = 60.0


@activity.defn(name="restart_wait_shout")
async def shout(word: str) -> str:
    return word.upper()


@workflow.defn(name="restart_wait_flow")
class ShoutFlow:
    def run(self, ctx: Any, word: str) -> Any:
        return (yield ctx.schedule_activity("restart_wait_shout", [word]))


async def _parked_waits(server: ServerProcess) -> int:
    async with httpx.AsyncClient() as http:
        page = await http.get(
            f"{server.url}/metrics", headers={"Authorization": f"Bearer {server.token}"}, timeout=5.0
        )
    for line in page.text.splitlines():
        if line.startswith("durable_workflow_server_long_polls_waiting "):
            return int(float(line.split()[-1]))
    return 0


async def test_a_result_wait_survives_a_server_restart(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "restart.sqlite3"
    first = await asyncio.to_thread(ServerProcess(port, db).start)
    second: ServerProcess | None = None
    try:
        async with Client(first.url, token=first.token) as client:
            handle = await client.start_workflow(
                workflow_type="restart_wait_flow",
                task_queue="rw-restart",
                workflow_id="rw-restart",
                input=["up"],
            )
            result = asyncio.create_task(handle.result(timeout=WITHIN, poll_interval=0.05))

            async def parked() -> None:
                while await _parked_waits(first) < 1:
                    await asyncio.sleep(0.02)

            await asyncio.wait_for(parked(), WITHIN)
            # SIGTERM: the graceful shutdown answers the parked wait; the client asks again
            # (refused while no server listens), and then the new server on the same port.
            await asyncio.to_thread(first.stop)
            assert not result.done()
            second = await asyncio.to_thread(ServerProcess(port, db).start)
            async with Client(second.url, token=second.token) as worker_client:
                worker = Worker(
                    worker_client, task_queue="rw-restart", workflows=[ShoutFlow], activities=[shout]
                )
                running = asyncio.create_task(worker.run())
                try:
                    assert await asyncio.wait_for(result, WITHIN) == "UP"
                finally:
                    await worker.stop()
                    await running
    finally:
        first.stop()
        if second is not None:
            second.stop()
