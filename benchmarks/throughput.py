"""Throughput: N workflows of one activity each through a real server and our Worker.

Starts N workflows, runs one Worker (default concurrency) until all of them completed, and
prints workflows per second, over a real socket to `dw server:start-dev --in-memory` (or to
`dw server:start --database URL` with ``--database``).

    .venv/bin/python benchmarks/throughput.py [--workflows 200] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _embedded import TOKEN, add_server_options, describe, embedded_server, machine, run_tag

from durable_workflow import Client, Worker, activity, workflow


@activity.defn(name="bench-echo")
async def echo(value: int) -> int:
    return value


@workflow.defn(name="bench-one-activity")
class OneActivity:
    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("bench-echo", [value]))


async def measure(count: int, args: argparse.Namespace) -> tuple[float, float]:
    tag = run_tag()
    queue = f"bench-{tag}"
    async with embedded_server(args) as url, Client(url, token=TOKEN) as client:
        started = time.perf_counter()
        handles = [
            await client.start_workflow(
                workflow_type="bench-one-activity",
                task_queue=queue,
                workflow_id=f"bench-{tag}-{i}",
                input=[i],
            )
            for i in range(count)
        ]
        start_phase = time.perf_counter() - started
        worker = Worker(client, task_queue=queue, workflows=[OneActivity], activities=[echo])
        running = asyncio.create_task(worker.run())
        results = [await handle.result(timeout=600.0, poll_interval=0.05) for handle in handles]
        elapsed = time.perf_counter() - started
        await worker.stop()
        await running
    if results != list(range(count)):
        raise SystemExit("wrong results")
    return elapsed, start_phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=200)
    add_server_options(parser)
    args = parser.parse_args()
    elapsed, start_phase = asyncio.run(measure(args.workflows, args))
    print(f"throughput: {args.workflows} workflows (one activity each) in {elapsed:.2f} s")
    print(f"  {args.workflows / elapsed:.1f} workflows/s   (of which starting them: {start_phase:.2f} s)")
    print(f"  database: {describe(args)}")
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
