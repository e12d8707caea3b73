"""In-process mode beside a socket server, and requests per workflow with and without the result wait.

Two comparisons on one SQLite file, alternated over several rounds (the machine is shared, so
the figures are medians with their min-max):

* throughput and CPU per workflow (every process involved: this one, and the server's from
  ``/proc``, Linux only): the workload of ``throughput.py`` (N workflows of one activity: start them all,
  run one Worker, read every result) through ``durable_workflow_server.embedded(url)`` and
  through ``dw server:start --database url`` on a socket;
* requests per workflow on the socket server, counted by the client's transport: the same
  workload with the result wait (the server offers it) and with describe polling (the offer
  hidden from the client, as an older server), and a one-at-a-time workload (start, then
  ``result()``, N times), where the wait replaces a describe every ``poll_interval``.

    .venv/bin/python benchmarks/embedded_mode.py [--workflows 200] [--rounds 3] [--poll-interval 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from _embedded import TOKEN, embedded_server, machine, run_tag
from _workload import OneActivity, echo

import durable_workflow_server
from durable_workflow import Client, Worker
from durable_workflow.protocol.capabilities import RESULT_WAIT_HEADER


class Counting(httpx.AsyncBaseTransport):
    """Counts the client's requests; ``hide_wait`` strips the result-wait offer (polling then)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, hide_wait: bool) -> None:
        self.inner = inner
        self.hide_wait = hide_wait
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        response = await self.inner.handle_async_request(request)
        if self.hide_wait and RESULT_WAIT_HEADER in response.headers:
            del response.headers[RESULT_WAIT_HEADER]
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def batch(client: Client, count: int, poll_interval: float) -> float:
    """throughput.py's workload: start ``count``, then one Worker, then every result; seconds."""
    tag = run_tag()
    queue = f"bench-{tag}"
    started = time.perf_counter()
    handles = [
        await client.start_workflow(
            workflow_type="bench-one-activity", task_queue=queue, workflow_id=f"bench-{tag}-{i}", input=[i]
        )
        for i in range(count)
    ]
    worker = Worker(client, task_queue=queue, workflows=[OneActivity], activities=[echo])
    running = asyncio.create_task(worker.run())
    results = [await h.result(timeout=600.0, poll_interval=poll_interval) for h in handles]
    elapsed = time.perf_counter() - started
    await worker.stop()
    await running
    if results != list(range(count)):
        raise SystemExit("wrong results")
    return elapsed


async def one_at_a_time(client: Client, count: int, poll_interval: float) -> float:
    """Start one workflow and wait for its result, ``count`` times, with a Worker running."""
    tag = run_tag()
    queue = f"bench-{tag}"
    worker = Worker(client, task_queue=queue, workflows=[OneActivity], activities=[echo])
    running = asyncio.create_task(worker.run())
    started = time.perf_counter()
    for i in range(count):
        handle = await client.start_workflow(
            workflow_type="bench-one-activity", task_queue=queue, workflow_id=f"one-{tag}-{i}", input=[i]
        )
        if await handle.result(timeout=600.0, poll_interval=poll_interval) != i:
            raise SystemExit("wrong result")
    elapsed = time.perf_counter() - started
    await worker.stop()
    await running
    return elapsed


def _cpu(pid: int | None = None) -> float:
    """CPU seconds (user + system) of ``pid``, or of this process."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spread(values: list[float], unit: str, digits: int = 1) -> str:
    return (
        f"median {statistics.median(values):.{digits}f} {unit} "
        f"(min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})"
    )


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        server_args = argparse.Namespace(url=None, database=url)
        rate: dict[str, list[float]] = {"embedded": [], "socket": []}
        cpu: dict[str, list[float]] = {"embedded": [], "socket": []}  # ms per workflow, all processes
        modes = ("batch wait", "batch poll", "one wait", "one poll")
        per_wf: dict[str, list[float]] = {key: [] for key in modes}
        latency: dict[str, list[float]] = {"one wait": [], "one poll": []}
        n, one_n = args.workflows, args.one_at_a_time

        async def embedded_round() -> None:
            async with durable_workflow_server.embedded(url) as client:
                before = _cpu()
                rate["embedded"].append(n / await batch(client, n, args.poll_interval))
                cpu["embedded"].append((_cpu() - before) / n * 1000)

        async def socket_round() -> None:
            async with embedded_server(server_args) as started:
                base, server = started.url, started.pid
                assert server is not None  # started here, so its pid is known
                for hide in (False, True):
                    mode = "poll" if hide else "wait"
                    counting = Counting(httpx.AsyncHTTPTransport(), hide_wait=hide)
                    async with Client(base, token=TOKEN, transport=counting) as client:
                        before = _cpu() + _cpu(server)
                        seconds = await batch(client, n, args.poll_interval)
                        if not hide:
                            rate["socket"].append(n / seconds)
                            cpu["socket"].append((_cpu() + _cpu(server) - before) / n * 1000)
                        per_wf[f"batch {mode}"].append(counting.requests / n)
                    counting = Counting(httpx.AsyncHTTPTransport(), hide_wait=hide)
                    async with Client(base, token=TOKEN, transport=counting) as client:
                        seconds = await one_at_a_time(client, one_n, args.poll_interval)
                        per_wf[f"one {mode}"].append(counting.requests / one_n)
                        latency[f"one {mode}"].append(seconds / one_n * 1000)

        rounds: list[Callable[[], Awaitable[None]]] = [embedded_round, socket_round]
        await embedded_round()  # warm-up: creates and migrates the file, imports, caches
        rate["embedded"].clear()
        cpu["embedded"].clear()
        for i in range(args.rounds):
            for run in rounds if i % 2 == 0 else rounds[::-1]:
                await run()

    print(f"embedded mode vs socket server, one SQLite file, {n} workflows of one activity per round")
    print(f"  embedded (in-process)   : {_spread(rate['embedded'], 'wf/s')}")
    print(f"  dw server:start (socket): {_spread(rate['socket'], 'wf/s')}")
    print(f"  CPU per workflow, in process      : {_spread(cpu['embedded'], 'ms')}")
    print(f"  CPU per workflow, client + server : {_spread(cpu['socket'], 'ms')}")
    print(f"requests per workflow (socket server, client-side count, poll_interval {args.poll_interval}s)")
    print(f"  batch, result wait      : {_spread(per_wf['batch wait'], 'req/wf', 2)}")
    print(f"  batch, describe polling : {_spread(per_wf['batch poll'], 'req/wf', 2)}")
    print(f"  one at a time ({one_n}), wait : {_spread(per_wf['one wait'], 'req/wf', 2)}")
    print(f"  one at a time ({one_n}), poll : {_spread(per_wf['one poll'], 'req/wf', 2)}")
    print(f"  one at a time latency, wait: {_spread(latency['one wait'], 'ms/wf')}")
    print(f"  one at a time latency, poll: {_spread(latency['one poll'], 'ms/wf')}")
    print(f"  machine: {machine()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--one-at-a-time", type=int, default=30, help="workflows run one at a time")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
