"""Ours: N workflows of one activity each, with our SDK's Worker in this process.

Runs in the repository's venv. With ``--url`` it talks to a server ``run.py`` started
(``dw server:start`` on a SQLite file or PostgreSQL, ``dw server:start-dev --in-memory``); with
``--database`` and no ``--url`` it runs in-process: ``durable_workflow_server.embedded(database)``
puts the engine in this process and hands back a ``Client`` over an in-process transport. The
worker is running before the clock starts; workflows are started one after the other, then their
results are awaited in order with ``handle.result()``, which waits on the server for each run's
close where the server offers it (``poll_interval`` 0.05 s otherwise, as ``benchmarks/throughput.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from _runner_common import check, emit, parse_args, run_tag

import durable_workflow_server
from durable_workflow import Client, Worker, activity, workflow

TOKEN = os.environ.get("DW_AUTH_TOKEN", "bench-token")
NOT_IN_THIS_BUILD = "n/a (not in this build): durable_workflow_server has no embedded()"


@activity.defn(name="peer-echo")
async def echo(value: int) -> int:
    """The one activity: return the input."""
    return value


@workflow.defn(name="peer-one-activity")
class OneActivity:
    """The workflow: one activity, its result returned."""

    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("peer-echo", [value]))


async def batch(client: Client, queue: str, count: int) -> list[Any]:
    """Start ``count`` workflows one after the other, then collect their results in order."""
    tag = run_tag()
    handles = [
        await client.start_workflow(
            workflow_type="peer-one-activity", task_queue=queue, workflow_id=f"peer-{tag}-{i}", input=[i]
        )
        for i in range(count)
    ]
    return [await handle.result(timeout=600.0, poll_interval=0.05) for handle in handles]


@contextlib.asynccontextmanager
async def connected(url: str | None, database: str | None) -> AsyncIterator[Client]:
    """A client of the started server, or of the in-process engine."""
    if url:
        async with Client(url, token=TOKEN) as client:
            yield client
        return
    embedded = getattr(durable_workflow_server, "embedded", None)
    if embedded is None:
        raise SystemExit(NOT_IN_THIS_BUILD)
    async with embedded(database) as client:
        yield client


async def measure(url: str | None, database: str | None, count: int, warmup: int) -> float:
    async with connected(url, database) as client:
        queue = f"peer-{run_tag()}"
        worker = Worker(client, task_queue=queue, workflows=[OneActivity], activities=[echo])
        running = asyncio.create_task(worker.run())
        try:
            check(await batch(client, queue, warmup), warmup)
            started = time.perf_counter()
            results = await batch(client, queue, count)
            elapsed = time.perf_counter() - started
        finally:
            await worker.stop()
            await running
    check(results, count)
    return elapsed


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    emit(args.workflows, asyncio.run(measure(args.url, args.database, args.workflows, args.warmup)))


if __name__ == "__main__":
    main()
