"""The fuzz tier's server: the real app on a real database, reached in process by schemathesis.

schemathesis drives an ASGI app through its own event-loop thread (it enters the app's lifespan
itself), so the tests here are synchronous and read the database between requests with their
own connection. :class:`Ledger` records every request and its answer and checks, request by
request, that a refused one wrote nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from durable_workflow_server import Settings
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store.tables import ALL_TABLES
from tests.helpers.dbmatrix import fresh_postgres_url
from tests.helpers.live_app import snapshot

ADMIN = "fuzz-admin-token"
FROZEN = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
NAMESPACE = "default"


def fuzz_settings(database_url: str, **overrides: Any) -> Settings:
    """An admin token, millisecond polls, and a frozen clock.

    The clock never moves, so nothing falls due on its own (a fuzzed start with a 5 s execution
    timeout would otherwise time out in the background, mid-run): every row change comes from
    the request being answered, which is what the ledger's per-request check needs.
    """
    values: dict[str, Any] = {
        "clock": lambda: FROZEN,
        "database_url": database_url,
        "auth_token": ADMIN,
        "long_poll_timeout": 0.05,
        "poll_reprobe_interval": 0.05,
        "timer_loop_interval": 3600.0,
        "worker_prune_after_seconds": None,
        # Waits a request may ask for end in a blink: an update waiting for a worker that never
        # comes, or a query with nobody to answer it, answers its documented timeout at once.
        "update_wait_timeout_seconds": 0.05,
        "query_task_timeout": 0.05,
        "query_task_poll_timeout": 0.05,
    }
    values.update(overrides)
    return Settings(**values)


def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"
    return fresh_postgres_url(request)


def rows(url: str) -> dict[str, list[str]]:
    """Every row of every table, as text in a stable order."""
    if url.startswith("sqlite"):
        # The test thread has no loop of its own, so asyncio.run is safe (and SQLite is local).
        return asyncio.run(snapshot(url))
    return _postgres_reader(url).rows()


def wipe(url: str) -> None:
    """Delete every row of every table (the schema and its migration mark stay)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1])
        try:
            for table in reversed(ALL_TABLES):
                conn.execute(f'DELETE FROM "{table.name}"')
            conn.commit()
        finally:
            conn.close()
        return
    _postgres_reader(url).wipe()


class FreshEngine:
    """The app's engine, replaced at every :meth:`restart` by a new one on an emptied database.

    schemathesis's stateful run replays a scenario's choices (to explore around it, to shrink)
    and expects the same answers each time: an answer decides whether a bundle gets a value, so
    it decides what is drawn next. With one server state for the whole run, a start that was
    201 the first time is a 409 on its replay (the id it chose has an open run now), a describe
    of an id some earlier scenario created is 200 where it was 404, and hypothesis stops with
    FlakyStrategyDefinition. Restarting the engine (its background loop, caches and waiters)
    on an emptied database makes every scenario begin from the same state: the ``default``
    namespace that ``open`` ensures, stamped by the frozen clock.

    Serves as the app's engine (``create_app(settings, engine=...)``): every attribute is the
    current engine's. The app's lifespan opens it on schemathesis's event-loop thread, where the
    restarts run too (the test thread waits for them).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine = Engine(settings)
        self._loop: asyncio.AbstractEventLoop | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._engine.open()

    async def close(self) -> None:
        await self._engine.close()

    def restart(self, wipe: Callable[[], None]) -> None:
        """Close the engine, run ``wipe`` (no engine is open meanwhile), open a new engine."""
        assert self._loop is not None, "the app's lifespan has not started"
        asyncio.run_coroutine_threadsafe(self._engine.close(), self._loop).result()
        wipe()
        engine = Engine(self._settings)
        asyncio.run_coroutine_threadsafe(engine.open(), self._loop).result()
        self._engine = engine


class _PostgresReader:
    """One asyncpg connection on a private loop thread, reused for every snapshot of a run: a
    connection per snapshot would cost more than the fuzzed requests themselves."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._conn: Any = self._run(self._connect(url))

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    @staticmethod
    async def _connect(url: str) -> Any:
        import asyncpg

        return await asyncpg.connect(url)

    async def _rows(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for table in ALL_TABLES:
            records = await self._conn.fetch(f'SELECT * FROM "{table.name}"')
            found[table.name] = sorted(repr(tuple(record.values())) for record in records)
        return found

    def rows(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = self._run(self._rows())
        return result

    def wipe(self) -> None:
        # DELETE, children first, in one statement batch: on a few rows it is much cheaper than
        # TRUNCATE, which rewrites every table's files.
        deletes = "; ".join(f'DELETE FROM "{table.name}"' for table in reversed(ALL_TABLES))
        self._run(self._conn.execute(f"BEGIN; {deletes}; COMMIT"))

    def close(self) -> None:
        self._run(self._conn.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


_READERS: dict[str, _PostgresReader] = {}


def _postgres_reader(url: str) -> _PostgresReader:
    if url not in _READERS:
        _READERS[url] = _PostgresReader(url)
    return _READERS[url]


def close_readers() -> None:
    """Close the snapshot connections (before a test database is dropped)."""
    while _READERS:
        _READERS.popitem()[1].close()


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    changed: dict[str, tuple[list[str], list[str]]]  # table -> (rows gone, rows new)

    @property
    def wrote(self) -> bool:
        return bool(self.changed)


@dataclass
class Ledger:
    """Every request the fuzzer sent, and whether it changed the database."""

    url: str
    exchanges: list[Exchange] = field(default_factory=list)
    # rows that changed while no request was being answered (must stay empty)
    unattributed: list[dict[str, list[str]]] = field(default_factory=list)
    _last: dict[str, list[str]] | None = None

    def begin(self) -> None:
        now = rows(self.url)
        if self._last is not None and now != self._last:
            self.unattributed.append({t: v for t, v in now.items() if v != self._last.get(t)})
        self._last = now

    def restart(self, restart: Callable[[], None]) -> None:
        """Between scenarios: check nothing changed since the last answer, run ``restart`` (which
        resets the server's state), and take the state it leaves as the new baseline."""
        self.begin()
        restart()
        self._last = rows(self.url)

    def end(self, method: str, path: str, status: int) -> Exchange:
        now = rows(self.url)
        last = self._last or {}
        changed = {
            table: (
                sorted(set(last.get(table, [])) - set(found)),
                sorted(set(found) - set(last.get(table, []))),
            )
            for table, found in now.items()
            if found != last.get(table)
        }
        exchange = Exchange(method, path, status, changed)
        self._last = now
        self.exchanges.append(exchange)
        return exchange

    def refused_writes(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.wrote and not 200 <= e.status < 300]

    def reads_that_wrote(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.wrote and e.method == "GET"]

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for exchange in self.exchanges:
            counts[exchange.status] = counts.get(exchange.status, 0) + 1
        return dict(sorted(counts.items()))


CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2", "Authorization": f"Bearer {ADMIN}"}
WORKER = {"X-Durable-Workflow-Protocol-Version": "1.1", "Authorization": f"Bearer {ADMIN}"}


def seed(app: Any) -> dict[str, str]:
    """Real rows for the fuzzer to aim at: a run with a leased workflow task, a worker, a schedule.

    Returns the path-parameter values that name them, so cases with fuzzed bodies reach the
    handlers behind the 404s that random ids get.
    """
    from schemathesis.python import asgi

    with asgi.get_client(app) as http:

        def ok(response: Any) -> dict[str, Any]:
            assert response.status_code < 300, response.text
            body: dict[str, Any] = response.json()
            return body

        start = {"workflow_id": "wf-seed", "workflow_type": "greeter", "task_queue": "q", "input": ["x"]}
        run = ok(http.post("/api/workflows", json=start, headers=CONTROL))
        ok(
            http.post(
                "/api/worker/register",
                json={"worker_id": "w-seed", "task_queue": "q", "runtime": "python"},
                headers=WORKER,
            )
        )
        poll = {"worker_id": "w-seed", "task_queue": "q", "timeout_seconds": 1}
        task = ok(http.post("/api/worker/workflow-tasks/poll", json=poll, headers=WORKER))["task"]
        schedule = {
            "schedule_id": "sched-seed",
            "spec": {"cron_expressions": ["0 * * * *"]},
            "action": {"workflow_type": "greeter", "task_queue": "q"},
        }
        ok(http.post("/api/schedules", json=schedule, headers=CONTROL))
        ok(http.post("/api/namespaces", json={"name": "ns-seed"}, headers=CONTROL))
    return {
        "workflow_id": "wf-seed",
        "run_id": run["run_id"],
        "task_id": task["task_id"],
        "worker_id": "w-seed",
        "schedule_id": "sched-seed",
        "task_queue": "q",
        "namespace": "ns-seed",
        "name": "probe",
        "query_task_id": "qt-seed",
        "adapter": "webhook",
    }
