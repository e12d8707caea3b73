"""List scale: ``Client.list_workflows`` latency over a namespace of 100,000 stored runs.

Seeds N runs straight into a throwaway database through the store (bulk inserts, no engine): a
realistic mix of statuses, workflow types and task queues, start times spread over 30 days, and
a registered keyword search attribute ``Region`` with a few values of uneven frequency (each
run's JSON ``search_attributes`` and its typed index row, as the engine writes them). Then starts
``dw server:start`` on it and measures typical list queries through the real HTTP API, the kinds
interleaved round by round, and prints p50 / p95 / p99 per kind.

    .venv/bin/python benchmarks/list_scale.py [--runs 100000] [--queries 200]
        [--database postgresql://user@host/db] [--keep DIR_OR_NAME] [--json]

Without ``--database`` the runs go into a SQLite file in a temporary directory. With a
``postgresql://`` URL a fresh database ``dw_list_scale_<tag>`` is created on that server (the
URL's own database is only used to create and drop it) and dropped afterwards. ``--keep NAME``
keeps the seeded database under that name (a SQLite file path, or a PostgreSQL database name)
and reuses it on the next run when it already holds the runs (faster before/after comparisons;
the server's migrations still run on start).

``--baseline-src DIR`` compares against an older source tree (e.g. ``git archive <commit> src |
tar -x -C /tmp/before``, then ``--baseline-src /tmp/before/src``): a copy of the seeded database
is downgraded to that tree's schema head, a second server runs that tree on it, and every round
asks both servers each query in turn, so the two columns share the machine's noise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _counters import proc_cpu_seconds
from _embedded import TOKEN, embedded_server, machine

from durable_workflow import Client
from durable_workflow_server.store import base as store_base
from durable_workflow_server.store import create_store
from durable_workflow_server.store import tables as t

NAMESPACE = "default"
ATTRIBUTE = "Region"
# (value, weight): uneven, so a filter on a rare value must skip many rows to fill a page.
REGIONS = [("eu", 45), ("us", 35), ("apac", 15), ("latam", 5)]
TYPES = [("orders", 40), ("payments", 20), ("shipping", 15), ("emails", 10), ("billing", 6),
         ("reports", 5), ("onboarding", 3), ("cleanup", 1)]  # fmt: skip
STATUSES = [("completed", 70), ("failed", 7), ("cancelled", 2), ("terminated", 1), ("running", 12),
            ("waiting", 6), ("pending", 2)]  # fmt: skip
QUEUES = [("default", 60), ("orders-q", 25), ("bulk", 10), ("priority", 5)]
OPEN = {"running", "waiting", "pending"}
SPAN = timedelta(days=30)
BATCH = 5000
Timings = dict[str, dict[str, list[float]]]  # server label -> query kind -> milliseconds
CpuTotals = dict[str, dict[str, float]]  # server label -> query kind -> server CPU seconds


def server_cpu(pid: int | None) -> float:
    """The server process's user + system CPU seconds so far (``/proc/<pid>/stat``)."""
    if pid is None:
        return 0.0
    return proc_cpu_seconds(Path(f"/proc/{pid}/stat").read_text(), float(os.sysconf("SC_CLK_TCK")))


def _pick(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def seed_rows(count: int, now: datetime, seed: int = 11) -> Any:
    """Yield (instance, run, search-attribute value) rows in batches of ``BATCH``."""
    rng = random.Random(seed)
    batch: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] = ([], [], [])
    for i in range(count):
        started = now - SPAN * rng.random()
        status = _pick(rng, STATUSES)
        closed = None if status in OPEN else started + timedelta(seconds=rng.expovariate(1 / 600))
        region = _pick(rng, REGIONS)
        workflow_type = _pick(rng, TYPES)
        run_id = uuid.UUID(int=rng.getrandbits(128)).hex
        workflow_id = f"{workflow_type}-{i:07d}"
        batch[0].append(
            {"workflow_id": workflow_id, "namespace": NAMESPACE, "workflow_type": workflow_type,
             "current_run_id": run_id, "run_count": 1, "created_at": started}
        )  # fmt: skip
        batch[1].append(
            {"run_id": run_id, "workflow_id": workflow_id, "namespace": NAMESPACE, "run_number": 1,
             "workflow_type": workflow_type, "task_queue": _pick(rng, QUEUES), "status": status,
             "closed_reason": None if closed is None else status, "business_key": f"bk-{i}",
             "memo": None, "search_attributes": {ATTRIBUTE: region}, "payload_codec": "json",
             "input_blob": "[1]", "started_at": started, "closed_at": closed,
             "last_progress_at": closed or started, "last_history_sequence": 6}
        )  # fmt: skip
        batch[2].append(
            {"run_id": run_id, "name": ATTRIBUTE, "ordinal": 0, "namespace": NAMESPACE,
             "value_keyword": region}
        )  # fmt: skip
        if len(batch[1]) >= BATCH:
            yield batch
            batch = ([], [], [])
    if batch[1]:
        yield batch


async def seed(url: str, count: int, now: datetime) -> float:
    """Migrate the database and bulk-insert ``count`` runs; returns the seconds it took."""
    started = time.perf_counter()
    store = create_store(url)
    await store.open()
    try:
        await store.migrate()
        async with store.read() as conn:
            have = (await conn.execute(sa.select(sa.func.count()).select_from(t.workflow_runs))).scalar()
        if have and have >= count:
            return 0.0
        async with store.write() as conn:
            await conn.execute(
                t.search_attribute_definitions.insert(),
                [{"namespace": NAMESPACE, "name": ATTRIBUTE, "attribute_type": "keyword", "created_at": now}],
            )
        for instances, runs, values in seed_rows(count, now):
            async with store.write() as conn:
                await conn.execute(t.workflow_instances.insert(), instances)
                await conn.execute(t.workflow_runs.insert(), runs)
                await conn.execute(t.search_attribute_values.insert(), values)
        if url.startswith("postgres"):
            # Statistics and the visibility map, as autovacuum leaves an insert-only table (the
            # index-only probes of search-attribute values need the latter).
            async with store.read() as conn:
                for table in ("workflow_runs", "search_attribute_values", "workflow_instances"):
                    await conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
        else:
            async with store.write() as conn:
                await conn.execute(sa.text("ANALYZE"))
    finally:
        await store.close()
    return time.perf_counter() - started


@asynccontextmanager
async def database(args: argparse.Namespace) -> AsyncIterator[str]:
    """The URL of the benchmark's own database (created here; dropped after unless ``--keep``)."""
    tag = uuid.uuid4().hex[:8]
    if not args.database or args.database.startswith("sqlite"):
        if args.keep:
            yield f"sqlite:///{Path(args.keep).resolve()}"
            return
        with tempfile.TemporaryDirectory(prefix="dw-list-scale-") as directory:
            yield f"sqlite:///{directory}/list_scale.db"
        return
    admin = sa.make_url(args.database)
    name = args.keep or f"dw_list_scale_{tag}"
    created = await _admin(args.database, f'CREATE DATABASE "{name}"', allow_exists=bool(args.keep))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        if created and not args.keep:
            await _admin(args.database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(url: str, statement: str, *, allow_exists: bool = False) -> bool:
    """Run one statement outside a transaction on the admin database; ``False``: it existed."""
    import asyncpg

    from durable_workflow_server.store.postgres import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(statement)
    except asyncpg.DuplicateDatabaseError:
        if not allow_exists:
            raise
        return False
    finally:
        await conn.close()
    return True


def query_kinds(client: Client, now: datetime, rng: random.Random) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The list queries measured, by name (values vary per call, like a UI's users)."""
    regions = [r for r, _ in REGIONS]
    types = [ty for ty, _ in TYPES]

    def in_window() -> Awaitable[Any]:
        end = now - SPAN * rng.random()
        return client.list_workflows(
            status=rng.choice(["failed", "completed"]),
            started_after=end - timedelta(days=1),
            started_before=end,
        )

    return {
        "status + search attribute": lambda: client.list_workflows(
            status=rng.choice(["failed", "running", "completed"]),
            search_attributes={ATTRIBUTE: rng.choice(regions)},
        ),
        "query: type AND attribute": lambda: client.list_workflows(
            query=f"WorkflowType = '{rng.choice(types)}' AND {ATTRIBUTE} = '{rng.choice(regions)}'"
        ),
        "by type": lambda: client.list_workflows(workflow_type=rng.choice(types)),
        "by status": lambda: client.list_workflows(status=rng.choice(["failed", "running", "completed"])),
        "status + 1-day start window": in_window,
        "unfiltered (newest first)": lambda: client.list_workflows(),
    }


def _percentile(sorted_ms: list[float], fraction: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, max(0, int(len(sorted_ms) * fraction + 0.5) - 1))]


async def measure(
    urls: dict[str, tuple[str, dict[str, str]]], queries: int, now: datetime
) -> tuple[Timings, CpuTotals]:
    """``queries`` rounds; each asks every server (label -> database URL, env) every query kind.

    Both servers get the same query (one random draw per kind and round), in alternating order.
    Besides the wall time of each call, the server's CPU time across it is summed per kind: on a
    loaded machine the wall time mostly measures the wait for a core, the CPU time does not.
    """
    timings: Timings = {}
    cpu: CpuTotals = {}
    pids: dict[str, int | None] = {}
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, Client] = {}
        for label, (url, env) in urls.items():
            server = await stack.enter_async_context(
                embedded_server(argparse.Namespace(database=url, url=None), env=env)
            )
            clients[label] = await stack.enter_async_context(Client(server.url, token=TOKEN))
            pids[label] = server.pid
        for warm_up in range(3):  # connections, statement caches, the planner
            for client in clients.values():
                for run in query_kinds(client, now, random.Random(warm_up)).values():
                    await run()
        for round_no in range(queries):
            order = list(clients.items())
            if round_no % 2:
                order.reverse()
            for name in query_kinds(clients[order[0][0]], now, random.Random(0)):
                for label, client in order:
                    run = query_kinds(client, now, random.Random(round_no * 1000 + len(name)))[name]
                    cpu_before, started = server_cpu(pids[label]), time.perf_counter()
                    page = await run()
                    timings.setdefault(label, {}).setdefault(name, []).append(
                        (time.perf_counter() - started) * 1000
                    )
                    spent = server_cpu(pids[label]) - cpu_before
                    cpu.setdefault(label, {})[name] = cpu.get(label, {}).get(name, 0.0) + spent
                    if not page.workflows:
                        raise SystemExit(f"{name}: an empty page; the seeded data does not match the query")
    return timings, cpu


def baseline_head(src: str) -> str:
    """The schema head of the source tree ``src`` (its newest migration)."""
    out = subprocess.run(
        [sys.executable, "-c", "import durable_workflow_server.store as s; print(s.head_revision())"],
        env=dict(os.environ, PYTHONPATH=src),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


async def downgrade(url: str, revision: str) -> None:
    """Take the database back to ``revision`` with this tree's migrations (drops later indexes)."""
    store = create_store(url)
    await store.open()
    try:
        async with store.write() as conn:
            await conn.run_sync(
                lambda sync: store_base.command.downgrade(store_base.alembic_config(sync), revision)
            )
    finally:
        await store.close()


@asynccontextmanager
async def baseline_copy(url: str, revision: str) -> AsyncIterator[str]:
    """A copy of the seeded database at ``revision``, removed afterwards."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        copy = f"{path}.baseline"
        shutil.copyfile(path, copy)
        copy_url = f"sqlite:///{copy}"
    else:
        target = sa.make_url(url)
        name = f"{target.database}_baseline"
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{target.database}"')
        copy_url = target.set(database=name).render_as_string(hide_password=False)
    try:
        await downgrade(copy_url, revision)
        yield copy_url
    finally:
        if url.startswith("sqlite"):
            os.unlink(copy)
        else:
            await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _figures(ms: list[float], cpu_s: float) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(_percentile(ordered, 0.95), 2),
        "p99_ms": round(_percentile(ordered, 0.99), 2),
        "server_cpu_ms_per_query": round(cpu_s * 1000 / len(ms), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    parser.add_argument("--database", metavar="URL", help="a postgresql:// server to create the database on")
    parser.add_argument("--keep", metavar="NAME", help="keep (and reuse) the seeded database under this name")
    parser.add_argument("--baseline-src", metavar="DIR", help="also run an older tree's server")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    args = parser.parse_args()
    now = datetime.now(timezone.utc).replace(microsecond=0)

    async def run() -> tuple[float, tuple[Timings, CpuTotals]]:
        async with database(args) as url:
            seeded = await seed(url, args.runs, now)
            if not args.baseline_src:
                return seeded, await measure({"current": (url, {})}, args.queries, now)
            src = str(Path(args.baseline_src).resolve())
            async with baseline_copy(url, baseline_head(src)) as old:
                servers = {"baseline": (old, {"PYTHONPATH": src}), "current": (url, {})}
                return seeded, await measure(servers, args.queries, now)

    seeded, (timings, cpu) = asyncio.run(run())
    kind = "postgresql" if args.database and args.database.startswith("postgres") else "sqlite file"
    figures = {
        label: {name: _figures(ms, cpu[label][name]) for name, ms in kinds.items()}
        for label, kinds in timings.items()
    }
    if args.json:
        print(json.dumps({"benchmark": "list_scale", "runs": args.runs, "queries_per_kind": args.queries,
                          "database": kind, "seed_s": round(seeded, 1), "machine": machine(),
                          "servers": figures}))  # fmt: skip
        return
    print(f"list scale: {args.runs} runs, {args.queries} list_workflows calls of each kind (page 50)")
    print(f"  database: {kind} (seeded in {seeded:.1f} s{', reused' if not seeded else ''})")
    names = list(figures["current"])
    width = max(len(name) for name in names)
    labels = list(figures)
    head = "".join(f"  {label + ' p50 / p95 / p99 ms (server CPU/query)':>44}" for label in labels)
    print(f"  {'query':<{width}}{head}")
    cell = "{p50_ms:.1f} / {p95_ms:.1f} / {p99_ms:.1f} ({server_cpu_ms_per_query:.1f})"
    for name in names:
        cells = "".join(f"  {cell.format(**figures[label][name]):>44}" for label in labels)
        print(f"  {name:<{width}}{cells}")
    print(f"  machine: {machine()}")


if __name__ == "__main__":
    main()
