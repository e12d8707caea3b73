"""The fault injector: ``kill -9`` a random server and a random worker at random moments.

Two loops share one seeded ``random.Random`` (the seed is printed with the report, so a run can
be repeated): one kills a server and restarts it on the same port after a short outage, the
other kills a worker and restarts its slot under the same worker id or a new one, against a
randomly chosen server. Both stop at the end of the fault window; every process is running again
when :meth:`FaultInjector.run` returns.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from .cluster import Cluster


@dataclass(frozen=True)
class FaultTiming:
    """Seconds between kills (uniform in ``gap``) and how long a killed process stays down."""

    server_gap: tuple[float, float] = (6.0, 14.0)
    worker_gap: tuple[float, float] = (5.0, 12.0)
    server_down: tuple[float, float] = (0.2, 3.0)
    worker_down: tuple[float, float] = (0.1, 2.0)


@dataclass
class FaultLog:
    """What the injector did, for the report."""

    server_kills: int = 0
    worker_kills: int = 0
    new_worker_ids: int = 0
    events: list[str] = field(default_factory=list)


class FaultInjector:
    """Runs the two kill loops over ``cluster`` for ``window`` seconds."""

    def __init__(self, cluster: Cluster, rng: random.Random, timing: FaultTiming | None = None) -> None:
        self.cluster = cluster
        self.rng = rng
        self.timing = timing or FaultTiming()
        self.log = FaultLog()
        self._started = time.monotonic()
        self._generation = 0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """End the fault window early (the load is done); restarts in progress still finish."""
        self._stop.set()

    def _note(self, text: str) -> None:
        self.log.events.append(f"{time.monotonic() - self._started:7.1f}s {text}")

    async def run(self, window: float) -> FaultLog:
        self._started = time.monotonic()
        deadline = self._started + window
        await asyncio.gather(self._servers(deadline), self._workers(deadline))
        return self.log

    async def _pause(self, bounds: tuple[float, float], deadline: float) -> bool:
        """Sleep a random gap; False when the window ends first."""
        gap = self.rng.uniform(*bounds)
        if time.monotonic() + gap >= deadline:
            gap, last = max(0.0, deadline - time.monotonic()), True
        else:
            last = False
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=gap)
            return False
        except asyncio.TimeoutError:
            return not last

    async def _servers(self, deadline: float) -> None:
        while await self._pause(self.timing.server_gap, deadline):
            server = self.rng.choice(self.cluster.servers)
            down = self.rng.uniform(*self.timing.server_down)
            server.kill_hard()
            self.log.server_kills += 1
            self._note(f"kill -9 server :{server.port}, down {down:.1f}s")
            await asyncio.sleep(down)
            await self.cluster.restart_server(server)
            self._note(f"server :{server.port} ready again")

    async def _workers(self, deadline: float) -> None:
        while await self._pause(self.timing.worker_gap, deadline):
            worker = self.rng.choice(self.cluster.workers)
            down = self.rng.uniform(*self.timing.worker_down)
            same_id = self.rng.random() < 0.5
            url = self.rng.choice(self.cluster.urls)
            worker.kill_hard()
            self.log.worker_kills += 1
            await asyncio.sleep(down)
            if not same_id:
                self._generation += 1
                worker.worker_id = f"chaos-w{worker.slot}-g{self._generation}"
                self.log.new_worker_ids += 1
            worker.server_url = url
            worker.start()
            self._note(f"kill -9 worker slot {worker.slot}; back as {worker.worker_id} on {url}")
