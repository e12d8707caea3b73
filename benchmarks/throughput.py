"""Throughput: N workflows of one activity each through the embedded server and our Worker.

Starts N workflows, runs one Worker (default concurrency) until all of them completed, and
prints workflows per second, over a real socket to `dw server:start-dev --in-memory`.

    .venv/bin/python benchmarks/throughput.py [--workflows 200]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _embedded import TOKEN, embedded_server, machine

from durable_workflow import Client, Worker, activity, workflow


@activity.defn(name="bench-echo")
async def echo(value: int) -> int:
    return value


@workflow.defn(name="bench-one-activity")
class OneActivity:
    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("bench-echo", [value]))


async def measure(count: int) -> float:
    async with embedded_server() as url, Client(url, token=TOKEN) as client:
        started = time.perf_counter()
        handles = [
            await client.start_workflow(
                workflow_type="bench-one-activity", task_queue="bench", workflow_id=f"bench-{i}", input=[i]
            )
            for i in range(count)
        ]
        worker = Worker(client, task_queue="bench", workflows=[OneActivity], activities=[echo])
        running = asyncio.create_task(worker.run())
        results = [await handle.result(timeout=600.0, poll_interval=0.05) for handle in handles]
        elapsed = time.perf_counter() - started
        await worker.stop()
        await running
    if results != list(range(count)):
        raise SystemExit("wrong results")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=200)
    args = parser.parse_args()
    elapsed = asyncio.run(measure(args.workflows))
    print(f"throughput: {args.workflows} workflows (one activity each) in {elapsed:.2f} s")
    print(f"  {args.workflows / elapsed:.1f} workflows/s")
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
