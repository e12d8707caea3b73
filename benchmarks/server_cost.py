"""Server cost per workflow: CPU milliseconds, SQL statements, database round trips and HTTP requests.

Runs N workflows of one activity each (our client and Worker, in this process) against a
`dw server:start --database URL` subprocess and prints, per workflow, the server process's CPU
time (utime + stime from ``/proc/<pid>/stat``, so Linux only), the SQL statements its store ran
(``durable_workflow_server_sql_statements_total`` on ``GET /metrics``) and the HTTP requests it
answered (``durable_workflow_server_requests_total``), each as the delta over the measured
batch (a warm-up batch runs first). On PostgreSQL it also prints the server's round trips to
the database per workflow, counted in the server process by wrapping asyncpg's connection
methods (``_pg_round_trips.py``: every exchange, ``BEGIN``/``COMMIT``/``NOTIFY`` included), so
any tree is counted the same way.

``--server-src DIR`` (repeatable) runs the server from another source tree (e.g. a
``git archive`` of an older commit, with its ``src/`` directory given), alternating the trees
round by round so they are compared side by side on the same noisy machine. A ``{i}`` in the
database URL becomes the tree's position (0, 1, ...), so trees at different migrations each
keep their own database.

    .venv/bin/python benchmarks/server_cost.py --database sqlite:////tmp/cost.db [--workflows 200]
    .venv/bin/python benchmarks/server_cost.py --database postgresql://postgres@127.0.0.1/dw_cost{i} \\
        --server-src /tmp/base/src --server-src src --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from _embedded import TOKEN, machine, run_tag

from durable_workflow import Client, Worker, activity, workflow

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
STATEMENTS = "durable_workflow_server_sql_statements_total"
REQUESTS = "durable_workflow_server_requests_total"


@activity.defn(name="cost-echo")
async def echo(value: int) -> int:
    return value


@workflow.defn(name="cost-one-activity")
class OneActivity:
    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("cost-echo", [value]))


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat(5)


BENCHMARKS = Path(__file__).resolve().parent


@dataclasses.dataclass
class Server:
    url: str
    pid: int
    #: Where the server writes its round-trip count on SIGUSR1 (None: not counted, SQLite).
    round_trip_file: Path | None


async def round_trips(server: Server) -> float:
    """The server's database round trips so far (NaN when not counted)."""
    path = server.round_trip_file
    if path is None:
        return math.nan
    path.unlink(missing_ok=True)
    os.kill(server.pid, signal.SIGUSR1)
    for _ in range(200):
        with contextlib.suppress(FileNotFoundError, ValueError):
            return float(path.read_text())
        await asyncio.sleep(0.01)
    raise SystemExit("the server did not report its round trips")


async def scrape(http: httpx.AsyncClient, url: str) -> tuple[float, float]:
    """(statements, requests) so far, from the server's ``/metrics``."""
    text = (await http.get(f"{url}/metrics")).text
    statements = requests = 0.0
    for line in text.splitlines():
        if line.startswith(STATEMENTS):
            statements += float(line.rsplit(" ", 1)[1])
        elif line.startswith(REQUESTS + "{") and 'route="/metrics"' not in line:
            requests += float(line.rsplit(" ", 1)[1])
    return statements, requests


@contextlib.asynccontextmanager
async def server(database: str, source: str | None) -> AsyncIterator[Server]:
    """A `dw server:start` subprocess (from ``source`` if given)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, DW_AUTH_TOKEN=TOKEN, DW_METRICS_PUBLIC="1")
    if source is not None:
        env["PYTHONPATH"] = str(Path(source).resolve())
    counted: Path | None = None
    prelude = ""
    if database.startswith("postgres"):
        counted = Path(tempfile.gettempdir()) / f"dw-round-trips-{port}"
        prelude = (
            f"sys.path.insert(0, {str(BENCHMARKS)!r}); import _pg_round_trips; "
            f"_pg_round_trips.install_reporting({str(counted)!r}); "
        )
    command = [
        sys.executable,
        "-c",
        f"import sys; {prelude}from durable_workflow_cli.main import main; sys.exit(main())",
    ]
    command += ["server:start", "--host", "127.0.0.1", "--port", str(port), "--database", database]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                if child.poll() is not None:
                    raise SystemExit(f"server from {source or 'this tree'} failed to start")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/api/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        yield Server(url, child.pid, counted)
    finally:
        child.terminate()
        child.wait(timeout=30)
        if counted is not None:
            counted.unlink(missing_ok=True)


async def batch(client: Client, count: int) -> None:
    """``count`` workflows of one activity, started then run by one Worker to completion."""
    tag = run_tag()
    queue = f"cost-{tag}"
    handles = [
        await client.start_workflow(
            workflow_type="cost-one-activity", task_queue=queue, workflow_id=f"cost-{tag}-{i}", input=[i]
        )
        for i in range(count)
    ]
    worker = Worker(client, task_queue=queue, workflows=[OneActivity], activities=[echo])
    running = asyncio.create_task(worker.run())
    results = [await handle.result(timeout=600.0, poll_interval=0.05) for handle in handles]
    await worker.stop()
    await running
    if results != list(range(count)):
        raise SystemExit("wrong results")


Figures = tuple[float, float, float, float]


async def measure(database: str, source: str | None, count: int, warmup: int) -> Figures:
    """(server CPU ms, statements, round trips, requests) per workflow over one measured batch."""
    async with (
        server(database, source) as running,
        httpx.AsyncClient() as http,
        Client(running.url, token=TOKEN) as client,
    ):
        url, pid = running.url, running.pid
        await batch(client, warmup)
        # Let the warm-up's last writes and the background loop settle before the baseline.
        await asyncio.sleep(0.2)
        cpu0, (sql0, req0), trips0 = cpu_seconds(pid), await scrape(http, url), await round_trips(running)
        await batch(client, count)
        cpu1, (sql1, req1), trips1 = cpu_seconds(pid), await scrape(http, url), await round_trips(running)
    per = [(cpu1 - cpu0) * 1000, sql1 - sql0, trips1 - trips0, req1 - req0]
    return per[0] / count, per[1] / count, per[2] / count, per[3] / count


def summary(values: list[float]) -> str:
    if any(math.isnan(value) for value in values):
        return "n/a"
    return f"{statistics.median(values):7.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="sqlite:///path or postgresql://... (reused)")
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--server-src", action="append", default=[], metavar="DIR")
    args = parser.parse_args()
    sources: list[str | None] = list(args.server_src) or [None]
    figures: dict[str | None, list[Figures]] = {s: [] for s in sources}
    started = time.perf_counter()
    for _ in range(args.rounds):
        for i, source in enumerate(sources):
            database = args.database.replace("{i}", str(i))
            figures[source].append(asyncio.run(measure(database, source, args.workflows, args.warmup)))
    print(f"server cost: {args.workflows} workflows (one activity each) x {args.rounds} rounds")
    print(f"  database: {args.database.split('://', 1)[0]}   machine: {machine()}")
    heads = ("CPU ms/wf median (min-max)", "SQL stmts/wf", "DB round trips/wf", "requests/wf")
    print(f"  {'server':40} {heads[0]:>28} {heads[1]:>22} {heads[2]:>22} {heads[3]:>22}")
    for source, rows in figures.items():
        cpu, sql, trips, req = ([row[i] for row in rows] for i in range(4))
        cells = f"{summary(cpu):>28} {summary(sql):>22} {summary(trips):>22} {summary(req):>22}"
        print(f"  {source or 'this tree':40} {cells}")
    print(f"  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
