"""One chaos run: build the cluster, drive the load under the fault injector, check, report."""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .checker import check
from .cluster import Cluster, Database, fresh_database, postgres_base
from .driver import Driver, Planned, plan
from .faults import FaultInjector, FaultTiming
from .report import ChaosReport

TOKEN = "dev-token"


@dataclass(frozen=True)
class ChaosConfig:
    """The size of a run. ``workflows=None`` keeps starting workflows until the fault window ends."""

    backend: str  # "postgres" (3 servers on one database) or "sqlite" (one server)
    seed: int
    run_dir: Path
    workflows: int | None = 24
    fault_window: float = 75.0
    servers: int = 3
    workers: int = 4
    in_flight: int = 12
    start_gap: tuple[float, float] = (0.3, 2.0)
    settle_timeout: float = 120.0
    timing: FaultTiming = field(default_factory=FaultTiming)
    keep_failed_database: bool = False  # post-mortem of a failed run (DW_CHAOS_KEEP_DB=1, --keep-db)


async def _drive_one(driver: Driver, planned: Planned, slots: asyncio.Semaphore, timeout: float) -> None:
    """Drive one workflow, then hold its slot until it closes (bounds the load in flight)."""
    try:
        began = time.monotonic()
        await driver.drive(planned)
        deadline = time.monotonic() + timeout
        while not planned.errors and time.monotonic() < deadline:
            if await driver.closed(planned.spec["id"]):
                planned.seconds = time.monotonic() - began
                return
            await asyncio.sleep(1.0)
    except Exception as exc:
        planned.errors.append(f"{type(exc).__name__}: {exc}"[:500])
    finally:
        slots.release()


async def _load(config: ChaosConfig, driver: Driver, rng: random.Random) -> list[Planned]:
    planned: list[Planned] = []
    tasks: list[asyncio.Task[None]] = []
    slots = asyncio.Semaphore(config.in_flight)
    load_end = time.monotonic() + config.fault_window
    while time.monotonic() < load_end and (config.workflows is None or len(planned) < config.workflows):
        await slots.acquire()
        item = Planned(plan(rng, len(planned), f"chaos-{config.seed}"))
        planned.append(item)
        tasks.append(asyncio.create_task(_drive_one(driver, item, slots, config.settle_timeout)))
        await asyncio.sleep(rng.uniform(*config.start_gap))
    await asyncio.gather(*tasks)
    return planned


async def run_chaos(config: ChaosConfig) -> ChaosReport:
    """Run the whole test once and return its report (``report.violations`` must be empty)."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(config.seed)
    fault_rng, load_rng = random.Random(rng.getrandbits(64)), random.Random(rng.getrandbits(64))
    started = time.monotonic()
    async with AsyncExitStack() as stack:
        database: Database | None = None
        if config.backend == "postgres":
            database = await stack.enter_async_context(fresh_database(postgres_base()))
            database_url: str | None = database.url
            db_file = None
            servers = config.servers
        else:
            database_url, db_file, servers = None, config.run_dir / "chaos.sqlite3", 1
        cluster = Cluster.build(
            config.run_dir,
            servers=servers,
            workers=config.workers,
            database_url=database_url,
            db_file=db_file,
        )
        stack.callback(cluster.stop)
        await cluster.start()
        driver = await stack.enter_async_context(Driver(cluster.urls, TOKEN, load_rng))
        injector = FaultInjector(cluster, fault_rng, config.timing)
        faults = asyncio.create_task(injector.run(config.fault_window))
        try:
            planned = await _load(config, driver, load_rng)
        finally:
            injector.stop()  # the load is done (or broke): no kills while the checker reads
            fault_log = await faults  # every process is running again once it returns
        report = await check(cluster, TOKEN, planned, driver.stats)
        report.seed = config.seed
        report.backend = config.backend
        report.servers = servers
        report.workers = config.workers
        report.fault_log = fault_log
        timed = [(p.seconds, p.spec["id"]) for p in planned if p.seconds is not None]
        if timed:
            report.slowest = max(timed)
        if database is not None and report.violations and config.keep_failed_database:
            database.keep = True
        report.seconds = time.monotonic() - started
    return report
