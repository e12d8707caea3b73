"""Dispatch latency: how long a worker's waiting long-poll takes to receive a new workflow's task.

A worker parks a poll on an empty queue, then a client starts a workflow. We measure from the
moment the start request is sent until the parked poll returns the task, over a real socket to
the embedded server (`dw server:start-dev --in-memory`, or `dw server:start --database URL`).

    .venv/bin/python benchmarks/dispatch_latency.py [--runs 100] [--database URL [--cross-process]]

``--cross-process`` (PostgreSQL) runs two server processes on the database: the poll parks on one
and the workflow is started through the other, so the wake-up crosses processes (LISTEN/NOTIFY).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time

from _embedded import TOKEN, add_server_options, describe, embedded_server, machine, run_tag

from durable_workflow import Client


async def measure(runs: int, args: argparse.Namespace) -> list[float]:
    tag = run_tag()
    queue = f"latency-{tag}"
    latencies: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(embedded_server(args))
        client = starter = await stack.enter_async_context(Client(url, token=TOKEN))
        if args.cross_process:
            other = await stack.enter_async_context(embedded_server(args))
            starter = await stack.enter_async_context(Client(other, token=TOKEN))
        await client.register_worker(
            worker_id=f"latency-bench-{tag}", task_queue=queue, supported_workflow_types=["noop"]
        )
        for i in range(runs):
            poll = asyncio.create_task(
                client.poll_workflow_task(worker_id=f"latency-bench-{tag}", task_queue=queue, timeout=40.0)
            )
            await asyncio.sleep(0.05)  # let the poll reach the server and park
            sent = time.perf_counter()
            await starter.start_workflow(
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
    parser.add_argument(
        "--cross-process",
        action="store_true",
        help="with --database: park the poll on one server process, start through a second one",
    )
    args = parser.parse_args()
    if args.cross_process and not args.database:
        parser.error("--cross-process needs --database (two processes sharing one database)")
    latencies = sorted(asyncio.run(measure(args.runs, args)))
    ms = [value * 1000 for value in latencies]
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    print(f"dispatch latency over {len(ms)} starts (start request sent -> parked poll returns the task)")
    print(f"  median {statistics.median(ms):.1f} ms   p95 {p95:.1f} ms   max {ms[-1]:.1f} ms")
    print(
        f"  database: {describe(args)}"
        + ("  (poll and start on two processes)" if args.cross_process else "")
    )
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
