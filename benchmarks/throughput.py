"""Throughput: N workflows of one activity each through a real server and our Worker.

Starts N workflows, runs one Worker (default concurrency) until all of them completed, and
prints workflows per second, over a real socket to `dw server:start-dev --in-memory` (or to
`dw server:start --database URL` with ``--database``), and beside it what each workflow cost,
from counters (see _counters.py): requests (client and server side), SQL statements, server and
client CPU.

    .venv/bin/python benchmarks/throughput.py [--workflows 200] [--database URL | --url URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from _counters import Costs, Probe, as_json, cost_lines, costs, open_window, take_snapshot
from _embedded import TOKEN, add_server_options, describe, embedded_server, machine, run_tag
from _workload import OneActivity, echo

from durable_workflow import Client, Worker
from durable_workflow.metrics import InMemoryMetrics


async def measure(count: int, args: argparse.Namespace) -> tuple[float, float, Costs]:
    tag = run_tag()
    queue = f"bench-{tag}"
    recorder = InMemoryMetrics()
    async with (
        embedded_server(args) as server,
        Client(server.url, token=TOKEN, metrics=recorder) as client,
        httpx.AsyncClient() as http,
    ):
        probe = Probe(http, server.url, TOKEN, recorder, server.pid)
        before, scrape_sql = await open_window(probe)
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
        # Closed before the worker stops: its shutdown requests are not work for the workflows.
        after = await take_snapshot(probe, opening=False)
        await worker.stop()
        await running
    if results != list(range(count)):
        raise SystemExit("wrong results")
    return elapsed, start_phase, costs(before, after, count, scrape_sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=200)
    add_server_options(parser)
    args = parser.parse_args()
    elapsed, start_phase, cost = asyncio.run(measure(args.workflows, args))
    if args.json:
        figures: dict[str, object] = {
            "benchmark": "throughput",
            "elapsed_s": round(elapsed, 3),
            "start_phase_s": round(start_phase, 3),
            "workflows_per_s": round(args.workflows / elapsed, 2),
            "database": describe(args),
            "machine": machine(),
        }
        print(as_json(figures, cost))
        return
    print(f"throughput: {args.workflows} workflows (one activity each) in {elapsed:.2f} s")
    print(f"  {args.workflows / elapsed:.1f} workflows/s   (of which starting them: {start_phase:.2f} s)")
    print(*cost_lines(cost), sep="\n")
    print(f"  database: {describe(args)}")
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
