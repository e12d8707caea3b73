"""Soak: a steady mixed load for N minutes, sampling memory, descriptors, connections and latency.

Starts a real ``dw server:start`` process and a worker process (this script in ``--worker``
mode), then starts workflows at a fixed rate — a mix of two activities in a row, an activity
and a one-second timer, and a wait for a signal that the load sends — and every few seconds
samples the server's and the worker's RSS and open file descriptors (``/proc/<pid>``), the
database's connections (``pg_stat_activity`` on PostgreSQL) and size, and the start→close
latency of the workflows that closed since the last sample. Closes are read from the database
itself (the runs' ``started_at``/``closed_at``), not by polling each workflow over HTTP: a
measurement whose cost grew with the backlog would itself slow the server it measures.

The server prunes closed runs in the background (``DW_RETENTION_SWEEP_INTERVAL_SECONDS``) with
a short window (``DW_RETENTION_WINDOW_SECONDS``, ``--retention-window``), so the database holds
about a window's worth of runs and its size levels off rather than growing with the run.

    .venv/bin/python benchmarks/soak.py --minutes 3 [--backend sqlite|postgres] [--rate 5]

PostgreSQL: ``--database URL`` or ``$DW_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) names the server; the soak creates a fresh
database there and drops it at the end. The summary compares the first window after warm-up
with the last one: growth in % and latency p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from _embedded import TOKEN, machine

from durable_workflow import Client, Worker, activity, workflow

DW = Path(sys.executable).with_name("dw")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


# ---------------------------------------------------------------------------- the workload


@activity.defn(name="soak-step")
async def soak_step(value: int) -> int:
    return value + 1


@workflow.defn(name="soak-activities")
class TwoActivities:
    def run(self, ctx: Any, value: int) -> Any:
        first = yield ctx.schedule_activity("soak-step", [value])
        return (yield ctx.schedule_activity("soak-step", [first]))


@workflow.defn(name="soak-timer")
class ActivityAndTimer:
    def run(self, ctx: Any, value: int) -> Any:
        first = yield ctx.schedule_activity("soak-step", [value])
        yield ctx.sleep(1)
        return first


@workflow.defn(name="soak-signal")
class WaitsForSignal:
    def __init__(self) -> None:
        self.got: int | None = None

    @workflow.signal("go")
    def go(self, value: int) -> None:
        self.got = value

    def run(self, ctx: Any, value: int) -> Any:
        yield ctx.wait_condition(lambda: self.got is not None, key="go", timeout=60)
        return (yield ctx.schedule_activity("soak-step", [self.got or value]))


TYPES = ("soak-activities", "soak-timer", "soak-signal")


async def run_worker(url: str, queue: str) -> None:
    """``--worker`` mode: serve the soak's queue until terminated."""
    async with Client(url, token=TOKEN) as client:
        worker = Worker(
            client,
            task_queue=queue,
            workflows=[TwoActivities, ActivityAndTimer, WaitsForSignal],
            activities=[soak_step],
            poll_timeout=10.0,
        )
        await worker.run()


# ---------------------------------------------------------------------------- measuring


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Sample:
    at: float
    started: int
    closed: int
    server_rss: float
    worker_rss: float
    server_fds: int
    worker_fds: int
    db_connections: int | None
    db_mib: float
    latencies: list[float] = field(default_factory=list)


class Database:
    """Where the server keeps its data, and how big it is and how many connections it has."""

    def __init__(self, backend: str, url: str | None, workdir: Path) -> None:
        self.backend = backend
        tag = uuid.uuid4().hex[:8]
        if backend == "sqlite":
            self.file = workdir / "soak.sqlite3"
            self.url = f"sqlite:///{self.file}"
            self.admin_url = ""
            self.name = str(self.file)
        else:
            base = url or os.environ.get("DW_TEST_POSTGRES_URL") or DEFAULT_PG
            parts = urlsplit(base)
            self.name = f"dw_soak_{tag}"
            self.admin_url = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
            self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", parts.query, ""))
            self.url_for_asyncpg = urlunsplit(("postgresql", parts.netloc, f"/{self.name}", "", ""))

    async def create(self) -> None:
        if self.backend == "postgres":
            await self._admin(f'CREATE DATABASE "{self.name}"')

    async def drop(self) -> None:
        if self.backend == "postgres":
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def _admin(self, statement: str) -> Any:
        import asyncpg

        conn = await asyncpg.connect(self.admin_url)
        try:
            return (
                await conn.fetchval(statement)
                if statement.startswith("SELECT")
                else await conn.execute(statement)
            )
        finally:
            await conn.close()

    async def closed_runs(self, queue: str) -> list[tuple[str, str, float]]:
        """(run id, status, seconds from start to close) of the closed runs still in the database."""
        if self.backend == "sqlite":
            import sqlite3

            with contextlib.closing(
                sqlite3.connect(f"file:{self.file}?mode=ro", uri=True, timeout=5)
            ) as conn:
                query = (
                    "SELECT run_id, status, (julianday(closed_at) - julianday(started_at)) * 86400.0 "
                    "FROM workflow_runs WHERE closed_at IS NOT NULL AND task_queue = ?"
                )
                return [(str(a), str(b), float(c)) for a, b, c in conn.execute(query, (queue,))]
        import asyncpg

        conn = await asyncpg.connect(self.url_for_asyncpg)
        try:
            found = await conn.fetch(
                "SELECT run_id, status, EXTRACT(EPOCH FROM closed_at - started_at) AS seconds "
                "FROM workflow_runs WHERE closed_at IS NOT NULL AND task_queue = $1",
                queue,
            )
        finally:
            await conn.close()
        return [(str(r["run_id"]), str(r["status"]), float(r["seconds"])) for r in found]

    async def facts(self) -> tuple[int | None, float]:
        """(open connections, size in MiB) now."""
        if self.backend == "sqlite":
            size = sum(p.stat().st_size for p in self.file.parent.glob(self.file.name + "*"))
            return None, size / 2**20
        import asyncpg

        conn = await asyncpg.connect(self.admin_url)
        try:
            count = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", self.name)
            size = await conn.fetchval("SELECT pg_database_size($1)", self.name)
        finally:
            await conn.close()
        return int(count), int(size) / 2**20


# ---------------------------------------------------------------------------- the run


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(url: str, child: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if child.poll() is not None:
                raise SystemExit(f"server exited early:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/api/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise SystemExit("server not ready after 30 s")


class Load:
    """Starts workflows at ``rate`` per second; a signal workflow gets its signal 0.3 s later."""

    def __init__(self, client: Client, queue: str, rate: float) -> None:
        self.client, self.queue, self.rate = client, queue, rate
        self.started = 0
        self.signal_failures = 0
        self._signals: set[asyncio.Task[None]] = set()

    async def run(self, until: float) -> None:
        tag = uuid.uuid4().hex[:6]
        next_at = time.monotonic()
        while time.monotonic() < until:
            kind = TYPES[self.started % len(TYPES)]
            handle = await self.client.start_workflow(
                workflow_type=kind,
                task_queue=self.queue,
                workflow_id=f"soak-{tag}-{self.started}",
                input=[self.started],
            )
            self.started += 1
            if kind == "soak-signal":
                signalling = asyncio.create_task(self._signal(handle))
                self._signals.add(signalling)
                signalling.add_done_callback(self._signals.discard)
            # A fixed schedule, but no burst to catch up after a stall: the rate stays the rate.
            next_at = max(next_at + 1 / self.rate, time.monotonic())
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _signal(self, handle: Any) -> None:
        await asyncio.sleep(0.3)
        try:
            await handle.signal("go", [1])
        except Exception as exc:  # counted and shown: a soak must not stop on one failure
            self.signal_failures += 1
            print(f"signal to {handle.workflow_id} failed: {type(exc).__name__}: {exc}", file=sys.stderr)


class Closes:
    """The soak's runs that closed since the last look, read from the database: (latency, status)."""

    def __init__(self, database: Database, queue: str) -> None:
        self.database, self.queue = database, queue
        self.seen: set[str] = set()
        self.closed = 0
        self.failed = 0

    async def new(self) -> list[float]:
        rows = await self.database.closed_runs(self.queue)
        latencies: list[float] = []
        present = {run_id for run_id, _, _ in rows}
        self.seen &= present  # pruned by retention: forgotten here too, so this stays bounded
        for run_id, status, seconds in rows:
            if run_id in self.seen:
                continue
            self.seen.add(run_id)
            self.closed += 1
            if status != "completed":
                self.failed += 1
            latencies.append(float(seconds))
        return latencies


async def soak(args: argparse.Namespace) -> list[Sample]:
    workdir = Path(tempfile.mkdtemp(prefix="dw-soak-"))
    database = Database(args.backend, args.database, workdir)
    await database.create()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    queue = f"soak-{uuid.uuid4().hex[:6]}"
    env = dict(
        os.environ,
        DW_AUTH_TOKEN=TOKEN,
        DW_RETENTION_SWEEP_INTERVAL_SECONDS=str(args.retention_sweep),
        DW_RETENTION_WINDOW_SECONDS=str(args.retention_window),
    )
    server_log, worker_log = workdir / "server.log", workdir / "worker.log"
    server_cmd = [str(DW), "server:start", "--host", "127.0.0.1", "--port", str(port)]
    server = spawn([*server_cmd, "--database", database.url], env, server_log)
    worker: subprocess.Popen[bytes] | None = None
    samples: list[Sample] = []
    try:
        await wait_ready(url, server, server_log)
        worker_cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", url, queue]
        worker = spawn(worker_cmd, env, worker_log)
        print(f"soak: {args.minutes} min at {args.rate} starts/s on {args.backend} ({machine()})")
        print(f"logs in {workdir}")
        print(_header())
        async with Client(url, token=TOKEN) as client:
            load = Load(client, queue, args.rate)
            closes = Closes(database, queue)
            began = time.monotonic()
            until = began + args.minutes * 60
            loading = asyncio.create_task(load.run(until))
            while time.monotonic() < until:
                await asyncio.sleep(min(args.sample_every, max(0.0, until - time.monotonic())))
                if loading.done():
                    loading.result()  # a failed start ends the soak with its error
                connections, size = await database.facts()
                latencies = await closes.new()
                sample = Sample(
                    at=time.monotonic() - began,
                    started=load.started,
                    closed=closes.closed,
                    server_rss=rss_mib(server.pid),
                    worker_rss=rss_mib(worker.pid),
                    server_fds=open_fds(server.pid),
                    worker_fds=open_fds(worker.pid),
                    db_connections=connections,
                    db_mib=size,
                    latencies=latencies,
                )
                samples.append(sample)
                print(_row(sample), flush=True)
            await loading
            backlog = load.started - closes.closed
            # The last workflows close after the load stops: wait (bounded) and count them.
            deadline = time.monotonic() + 60
            while closes.closed < load.started and time.monotonic() < deadline:
                await closes.new()
                await asyncio.sleep(0.5)
            print(
                f"started {load.started}, closed {closes.closed} ({closes.failed} not completed), "
                f"signal failures {load.signal_failures}; open when the load stopped: {backlog}"
            )
            if backlog > args.rate * 15:
                print(
                    f"note: a backlog of {backlog} built up: {args.rate}/s is more than this machine sustains"
                )
    finally:
        for child in (worker, server):
            if child is not None and child.poll() is None:
                child.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=15)
        await database.drop()
    return samples


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _header() -> str:
    return (
        f"{'t(s)':>6} {'started':>7} {'closed':>6} {'srv MiB':>8} {'wrk MiB':>8} {'srv fd':>6} "
        f"{'wrk fd':>6} {'db conn':>7} {'db MiB':>7} {'p50 s':>6} {'p95 s':>6}"
    )


def _row(s: Sample) -> str:
    conns = "-" if s.db_connections is None else str(s.db_connections)
    return (
        f"{s.at:6.0f} {s.started:7d} {s.closed:6d} {s.server_rss:8.1f} {s.worker_rss:8.1f} "
        f"{s.server_fds:6d} {s.worker_fds:6d} {conns:>7} {s.db_mib:7.2f} "
        f"{percentile(s.latencies, 0.5):6.3f} {percentile(s.latencies, 0.95):6.3f}"
    )


def summarize(samples: list[Sample], warmup: float) -> str:
    """Growth after warm-up (first vs last window, in %) and latency first vs last window."""
    steady = [s for s in samples if s.at >= warmup]
    if len(steady) < 2:
        return "too few samples after warm-up for a summary (run longer or lower --warmup)"
    width = max(1, len(steady) // 4)
    first, last = steady[:width], steady[-width:]

    def mean(window: list[Sample], attr: str) -> float:
        values = [float(getattr(s, attr)) for s in window if getattr(s, attr) is not None]
        return statistics.fmean(values) if values else float("nan")

    lines = [f"summary: warm-up {warmup:.0f} s, windows of {width} sample(s) after it, first vs last"]
    for attr, label in (
        ("server_rss", "server RSS MiB"),
        ("worker_rss", "worker RSS MiB"),
        ("server_fds", "server open fds"),
        ("worker_fds", "worker open fds"),
        ("db_connections", "database connections"),
        ("db_mib", "database MiB"),
    ):
        a, b = mean(first, attr), mean(last, attr)
        if a != a:  # NaN: not measured on this backend
            continue
        growth = (b - a) / a * 100 if a else float("nan")
        lines.append(f"  {label:<22} {a:9.2f} -> {b:9.2f}   growth {growth:+6.1f} %")
    for window, name in ((first, "first"), (last, "last")):
        values = [v for s in window for v in s.latencies]
        lines.append(
            f"  latency {name:<5} window      p50 {percentile(values, 0.5):.3f} s   "
            f"p95 {percentile(values, 0.95):.3f} s   ({len(values)} workflows)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database", metavar="URL", help="PostgreSQL server to create the soak database on")
    parser.add_argument(
        "--rate",
        type=float,
        default=3.0,
        help="workflow starts per second; keep it under what the machine sustains (a backlog "
        "shows as latency rising from sample to sample, and the summary says so)",
    )
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds (default: 20%% of the run or a retention window, at most half the run)",
    )
    parser.add_argument("--retention-window", type=float, default=60.0, help="seconds a closed run is kept")
    parser.add_argument(
        "--retention-sweep", type=float, default=10.0, help="seconds between retention sweeps"
    )
    parser.add_argument("--worker", nargs=2, metavar=("URL", "QUEUE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_worker(*args.worker))
        return
    # Warm-up covers the first retention window: until runs start being pruned the database grows.
    run_seconds = args.minutes * 60
    default_warmup = min(
        max(run_seconds * 0.2, args.retention_window + args.retention_sweep), run_seconds * 0.5
    )
    warmup = args.warmup if args.warmup is not None else default_warmup
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # cleanup runs on SIGTERM too
    samples = asyncio.run(soak(args))
    print(summarize(samples, warmup))


if __name__ == "__main__":
    main()
