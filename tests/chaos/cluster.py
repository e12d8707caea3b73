"""The processes of a chaos run: servers on one database, worker processes, a fresh database.

Servers are real ``dw server:start --database postgresql://...`` processes (or one
``dw server:start-dev --db-file``) from ``tests.helpers.server_process``; workers are
``python -m tests.chaos.worker_main`` processes. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.helpers.server_process import ServerProcess, free_port

from .workload import EXEC_LOG_ENV

REPO = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

# Short leases so a lost task comes back in seconds. DW_WORKER_LIVENESS_TIMEOUT is the "leases"
# helper's setting (a silent worker's leases released); servers without it ignore it.
SERVER_ENV = {
    "DW_WORKFLOW_TASK_LEASE_SECONDS": "5",
    "DW_ACTIVITY_TASK_LEASE_SECONDS": "10",
    "DW_WORKER_LIVENESS_TIMEOUT": "6",
}


def postgres_base() -> str:
    """The PostgreSQL the run creates its database on (``DW_TEST_POSTGRES_URL`` or the local one)."""
    return os.environ.get("DW_TEST_POSTGRES_URL") or DEFAULT_POSTGRES


async def _admin(admin: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@dataclass
class Database:
    """A run's database; set ``keep`` before the context ends to leave it for a post-mortem."""

    url: str
    keep: bool = False


@asynccontextmanager
async def fresh_database(base: str) -> AsyncIterator[Database]:
    """An empty database ``dw_chaos_<hex>`` for one run, dropped (forcibly) afterwards unless kept."""
    name = f"dw_chaos_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(base)
    admin = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))
    await _admin(admin, f'CREATE DATABASE "{name}"')
    database = Database(urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment)))
    try:
        yield database
    finally:
        if database.keep:
            print(f"chaos: kept the database {database.url}", flush=True)
        else:
            await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class WorkerProcess:
    """One worker process: a slot (its execution file) run under a worker id against one server."""

    slot: int
    worker_id: str
    server_url: str
    run_dir: Path
    token: str = "dev-token"
    process: subprocess.Popen[bytes] | None = None

    @property
    def exec_log(self) -> Path:
        return self.run_dir / f"executions-{self.slot}.jsonl"

    def start(self) -> None:
        args = [sys.executable, "-m", "tests.chaos.worker_main", "--server", self.server_url]
        args += ["--token", self.token, "--worker-id", self.worker_id]
        env = dict(os.environ, **{EXEC_LOG_ENV: str(self.exec_log)})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        with (self.run_dir / f"worker-{self.slot}.log").open("ab") as log:
            self.process = subprocess.Popen(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill_hard(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    """The servers and workers of one run; all restarts go through here."""

    run_dir: Path
    servers: list[ServerProcess] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)

    @classmethod
    def build(
        cls, run_dir: Path, *, servers: int, workers: int, database_url: str | None, db_file: Path | None
    ) -> Cluster:
        cluster = cls(run_dir)
        for index in range(servers):
            port = free_port()
            log = run_dir / f"server-{index}.log"
            cluster.servers.append(
                ServerProcess(port, db_file, database_url=database_url, env=SERVER_ENV, log=log)
            )
        for slot in range(workers):
            url = cluster.servers[slot % servers].url  # spread across the servers
            cluster.workers.append(WorkerProcess(slot, f"chaos-w{slot}", url, run_dir))
        return cluster

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    async def start(self) -> None:
        # The first server migrates the schema; the others start once it is ready.
        await asyncio.to_thread(self.servers[0].start, 60.0)
        await asyncio.gather(*(asyncio.to_thread(s.start, 60.0) for s in self.servers[1:]))
        for worker in self.workers:
            worker.start()

    async def restart_server(self, server: ServerProcess, attempts: int = 3) -> None:
        """Start a killed server again on its port (a start that fails is tried again)."""
        for attempt in range(1, attempts + 1):
            try:
                await asyncio.to_thread(server.start, 60.0)
                return
            except RuntimeError:
                if attempt == attempts:
                    raise
                if server.process is not None and server.process.poll() is None:
                    server.kill_hard()  # started but never ready: the port must be free again
                await asyncio.sleep(1.0)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for server in self.servers:
            server.stop()
