"""Dispatch latency: how long a worker's waiting long-poll takes to receive a new workflow's task.

A worker parks a poll on an empty queue, then a client starts a workflow. We measure from the
moment the start request is sent until the parked poll returns the task (whether or not the
start's own response came back first), over a real socket to the embedded server
(`dw server:start-dev --in-memory`, or `dw server:start --database URL`), and beside it what
each start-and-dispatch cost, from counters (see _counters.py): requests, SQL statements,
server and client CPU (server figures summed over both processes with ``--cross-process``).

    .venv/bin/python benchmarks/dispatch_latency.py [--runs 100] [--database URL [--cross-process]]
        [--url URL] [--json] [--server-src DIR ... --rounds N]

``--cross-process`` (PostgreSQL) runs two server processes on the database: the poll parks on one
and the workflow is started through the other, so the wake-up crosses processes (LISTEN/NOTIFY).

``--server-src DIR`` (repeatable) runs the server from that source tree (its ``src/`` directory,
e.g. a ``git archive`` of an older commit), alternating the trees round by round (``--rounds``)
so they are compared side by side on the same noisy machine; each tree's percentiles are over
all its rounds' starts. A ``{i}`` in ``--database`` becomes the tree's position (0, 1, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import time
from pathlib import Path

import httpx
from _counters import Costs, Probe, Snapshot, as_json, cost_lines, costs, open_window, take_snapshot
from _embedded import TOKEN, add_server_options, describe, embedded_server, machine, run_tag

from durable_workflow import Client
from durable_workflow.metrics import InMemoryMetrics
from durable_workflow.protocol.wire import WorkflowTask


def _sum(left: float | None, right: float | None) -> float | None:
    return None if left is None or right is None else left + right


def _combined(first: Snapshot, second: Snapshot) -> Snapshot:
    """Both server processes' counters as one (the client side is the same process in both)."""
    return Snapshot(
        client_cpu_s=first.client_cpu_s,
        client_requests=first.client_requests,
        server_requests=_sum(first.server_requests, second.server_requests),
        server_sql_statements=_sum(first.server_sql_statements, second.server_sql_statements),
        server_cpu_s=_sum(first.server_cpu_s, second.server_cpu_s),
    )


def percentile(ms: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q <= 1) of the sorted ``ms``."""
    return ms[max(0, math.ceil(q * len(ms)) - 1)]


async def measure(
    runs: int, args: argparse.Namespace, source: str | None = None
) -> tuple[list[float], Costs]:
    tag = run_tag()
    # No task is completed: a lease running out mid-run would redeliver an earlier start's task to
    # a later poll (before its own start was even sent), so the leases outlast the run. So does
    # the worker's liveness: it registers once and never heartbeats, and a liveness timeout would
    # release its leases for redelivery in the same way on a run longer than 15 s.
    env = {"DW_WORKFLOW_TASK_LEASE_SECONDS": "3600", "DW_WORKER_LIVENESS_TIMEOUT": "3600"}
    if source is not None:
        env["PYTHONPATH"] = str(Path(source).resolve())
    queue = f"latency-{tag}"
    latencies: list[float] = []
    recorder = InMemoryMetrics()
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient())
        server = await stack.enter_async_context(embedded_server(args, env=env))
        client = starter = await stack.enter_async_context(Client(server.url, token=TOKEN, metrics=recorder))
        probes = [Probe(http, server.url, TOKEN, recorder, server.pid)]
        if args.cross_process:
            other = await stack.enter_async_context(embedded_server(args, env=env))
            starter = await stack.enter_async_context(Client(other.url, token=TOKEN, metrics=recorder))
            probes.append(Probe(http, other.url, TOKEN, recorder, other.pid))
        await client.register_worker(
            worker_id=f"latency-bench-{tag}", task_queue=queue, supported_workflow_types=["noop"]
        )
        opened = [await open_window(probe) for probe in probes]

        async def timed_poll() -> tuple[WorkflowTask | None, float]:
            # The moment the poll returns, not the moment this loop gets to look at it: the
            # start's own response may come later (or first) and must not count.
            task = await client.poll_workflow_task(
                worker_id=f"latency-bench-{tag}", task_queue=queue, timeout=40.0
            )
            return task, time.perf_counter()

        for i in range(runs):
            poll = asyncio.create_task(timed_poll())
            await asyncio.sleep(0.05)  # let the poll reach the server and park
            sent = time.perf_counter()
            await starter.start_workflow(
                workflow_type="noop", task_queue=queue, workflow_id=f"latency-{tag}-{i}"
            )
            task, received = await poll
            if task is None:
                raise SystemExit("the parked poll timed out instead of receiving the task")
            if task.get("workflow_id") != f"latency-{tag}-{i}":
                # An earlier start's task, redelivered (a --url server's leases ran out).
                raise SystemExit(f"the parked poll received another start's task: {task!r:.200}")
            latencies.append(received - sent)
        closed = [await take_snapshot(probe, opening=False) for probe in probes]
    before, after = opened[0][0], closed[0]
    scrape_sql = sum(per_scrape for _, per_scrape in opened)
    if len(probes) == 2:
        before, after = _combined(before, opened[1][0]), _combined(after, closed[1])
    return latencies, costs(before, after, runs, scrape_sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="starts per round")
    add_server_options(parser)
    parser.add_argument(
        "--cross-process",
        action="store_true",
        help="with --database: park the poll on one server process, start through a second one",
    )
    parser.add_argument("--server-src", action="append", default=[], metavar="DIR")
    parser.add_argument("--rounds", type=int, default=1, help="rounds (alternating the trees)")
    args = parser.parse_args()
    if args.cross_process and not args.database:
        parser.error("--cross-process needs --database (two processes sharing one database)")
    if args.server_src and args.url:
        parser.error("--server-src starts its own servers: not with --url")
    sources: list[str | None] = list(args.server_src) or [None]
    latencies: dict[str | None, list[float]] = {source: [] for source in sources}
    cost: dict[str | None, Costs] = {}
    database = args.database
    for _ in range(args.rounds):
        for i, source in enumerate(sources):
            if database:
                args.database = database.replace("{i}", str(i))
            measured, cost[source] = asyncio.run(measure(args.runs, args, source))
            latencies[source] += measured
    args.database = database
    if args.json:
        results = []
        for source, values in latencies.items():
            ms = sorted(value * 1000 for value in values)
            figures: dict[str, object] = {
                "benchmark": "dispatch_latency",
                "server_src": source,
                "median_ms": round(percentile(ms, 0.5), 2),
                "p95_ms": round(percentile(ms, 0.95), 2),
                "p99_ms": round(percentile(ms, 0.99), 2),
                "max_ms": round(ms[-1], 2),
                "cross_process": bool(args.cross_process),
                "database": describe(args),
                "machine": machine(),
            }
            results.append(as_json(figures, cost[source]))
        print(*results, sep="\n")
        return
    starts = args.runs * args.rounds
    print(
        f"dispatch latency over {starts} starts per tree (start request sent -> parked poll returns the task)"
    )
    for source, values in latencies.items():
        ms = sorted(value * 1000 for value in values)
        if len(sources) > 1 or source is not None:
            print(f"  server: {os.path.normpath(source) if source else 'this tree'}")
        print(
            f"  p50 {percentile(ms, 0.5):.2f} ms   p95 {percentile(ms, 0.95):.2f} ms   "
            f"p99 {percentile(ms, 0.99):.2f} ms   max {ms[-1]:.2f} ms"
        )
        print(*cost_lines(cost[source], unit="start"), sep="\n")
    print(
        f"  database: {describe(args)}"
        + ("  (poll and start on two processes)" if args.cross_process else "")
    )
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
