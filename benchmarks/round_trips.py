"""Requests per workflow: N one-activity workflows, counted on the server's ``/metrics`` counter.

Two orders, each on a fresh server: ``worker-first`` (a Worker on the client is running when the
workflows start, so a start can bring the first workflow task with it) and ``start-first``
(throughput.py's order: every workflow started, then the worker). Prints the requests per
workflow by route (long polls answered empty included, shown apart) and the wall time.

Run it with another tree's interpreter to measure that tree's SDK and server side by side:

    .venv/bin/python benchmarks/round_trips.py [--workflows 200]
    /path/to/other/.venv/bin/python benchmarks/round_trips.py
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

import httpx
from _counters import SERVER_REQUESTS, parse_prometheus
from _embedded import TOKEN, add_server_options, describe, embedded_server, machine, run_tag
from _workload import OneActivity, echo

from durable_workflow import Client, Worker


async def requests_by_route(url: str) -> Counter[str]:
    """``METHOD route`` → requests so far, from the server's Prometheus text."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    counts: Counter[str] = Counter()
    for sample in parse_prometheus(text):
        if sample.name == SERVER_REQUESTS:
            counts[f"{sample.labels['method']} {sample.labels['route']}"] += int(sample.value)
    return counts


async def measure(count: int, order: str, args: argparse.Namespace) -> tuple[Counter[str], float]:
    tag = run_tag()
    queue = f"bench-{tag}"
    async with embedded_server(args) as server, Client(server.url, token=TOKEN) as client:
        url = server.url
        worker = Worker(client, task_queue=queue, workflows=[OneActivity], activities=[echo])
        before = await requests_by_route(url)
        started = time.perf_counter()
        running = asyncio.create_task(worker.run()) if order == "worker-first" else None
        if running is not None:
            await asyncio.sleep(0.2)  # registered and polling (its first polls are counted too)
        handles = [
            await client.start_workflow(
                workflow_type="bench-one-activity",
                task_queue=queue,
                workflow_id=f"bench-{tag}-{i}",
                input=[i],
            )
            for i in range(count)
        ]
        if running is None:
            running = asyncio.create_task(worker.run())
        results = [await handle.result(timeout=600.0, poll_interval=0.05) for handle in handles]
        elapsed = time.perf_counter() - started
        await worker.stop()
        await running
        after = await requests_by_route(url)
    if results != list(range(count)):
        raise SystemExit("wrong results")
    delta = after - before
    delta.pop("GET /metrics", None)
    return delta, elapsed


def report(order: str, count: int, delta: Counter[str], elapsed: float) -> None:
    polls = {route: n for route, n in delta.items() if route.endswith("/poll")}
    total = sum(delta.values())
    print(f"{order}: {total / count:.2f} requests/workflow ({total} for {count}), {count / elapsed:.1f} wf/s")
    polled = sum(polls.values())
    print(f"  without polls: {(total - polled) / count:.2f}   polls: {polled / count:.2f}")
    for route, n in sorted(delta.items(), key=lambda item: -item[1]):
        print(f"    {n / count:6.2f}  {route}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--order", choices=("worker-first", "start-first", "both"), default="both")
    add_server_options(parser)
    args = parser.parse_args()
    orders = ("worker-first", "start-first") if args.order == "both" else (args.order,)
    for order in orders:
        delta, elapsed = asyncio.run(measure(args.workflows, order, args))
        report(order, args.workflows, delta, elapsed)
    print(f"  database: {describe(args)}")
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
