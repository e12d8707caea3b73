"""Dispatch latency: how long a worker's waiting long-poll takes to receive a new workflow's task.

A worker parks a poll on an empty queue, then a client starts a workflow. We measure from the
moment the start request is sent until the parked poll returns the task, over a real socket to
the embedded server (`dw server:start-dev --in-memory`, or `dw server:start --database URL`).

    .venv/bin/python benchmarks/dispatch_latency.py [--runs 100] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from _embedded import TOKEN, add_server_options, describe, embedded_server, machine, run_tag

from durable_workflow import Client


async def measure(runs: int, args: argparse.Namespace) -> list[float]:
    tag = run_tag()
    queue = f"latency-{tag}"
    latencies: list[float] = []
    async with embedded_server(args) as url, Client(url, token=TOKEN) as client:
        await client.register_worker(
            worker_id=f"latency-bench-{tag}", task_queue=queue, supported_workflow_types=["noop"]
        )
        for i in range(runs):
            poll = asyncio.create_task(
                client.poll_workflow_task(worker_id=f"latency-bench-{tag}", task_queue=queue, timeout=40.0)
            )
            await asyncio.sleep(0.05)  # let the poll reach the server and park
            sent = time.perf_counter()
            await client.start_workflow(
                workflow_type="noop", task_queue=queue, workflow_id=f"latency-{tag}-{i}"
            )
            task = await poll
            latencies.append(time.perf_counter() - sent)
            if task is None:
                raise SystemExit("the parked poll timed out instead of receiving the task")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    add_server_options(parser)
    args = parser.parse_args()
    latencies = sorted(asyncio.run(measure(args.runs, args)))
    ms = [value * 1000 for value in latencies]
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    print(f"dispatch latency over {len(ms)} starts (start request sent -> parked poll returns the task)")
    print(f"  median {statistics.median(ms):.1f} ms   p95 {p95:.1f} ms   max {ms[-1]:.1f} ms")
    print(f"  database: {describe(args)}")
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
