"""Dispatch latency: how long a worker's waiting long-poll takes to receive a new workflow's task.

A worker parks a poll on an empty queue, then a client starts a workflow. We measure from the
moment the start request is sent until the parked poll returns the task, over a real socket to
the embedded server (`dw server:start-dev --in-memory`).

    .venv/bin/python benchmarks/dispatch_latency.py [--runs 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from _embedded import TOKEN, embedded_server, machine

from durable_workflow import Client


async def measure(runs: int) -> list[float]:
    latencies: list[float] = []
    async with embedded_server() as url, Client(url, token=TOKEN) as client:
        await client.register_worker(
            worker_id="latency-bench", task_queue="latency", supported_workflow_types=["noop"]
        )
        for i in range(runs):
            poll = asyncio.create_task(
                client.poll_workflow_task(worker_id="latency-bench", task_queue="latency", timeout=40.0)
            )
            await asyncio.sleep(0.05)  # let the poll reach the server and park
            sent = time.perf_counter()
            await client.start_workflow(
                workflow_type="noop", task_queue="latency", workflow_id=f"latency-{i}"
            )
            task = await poll
            latencies.append(time.perf_counter() - sent)
            if task is None:
                raise SystemExit("the parked poll timed out instead of receiving the task")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    latencies = sorted(asyncio.run(measure(args.runs)))
    ms = [value * 1000 for value in latencies]
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    print(f"dispatch latency over {len(ms)} starts (start request sent -> parked poll returns the task)")
    print(f"  median {statistics.median(ms):.1f} ms   p95 {p95:.1f} ms   max {ms[-1]:.1f} ms")
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
