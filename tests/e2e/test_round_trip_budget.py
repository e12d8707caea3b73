"""PostgreSQL round trips of one workflow's life, step by step, against an upper bound per step.

The same life as test_statement_budget.py (start, workflow task poll, the completions with
their eager tasks, the result wait, the background loop's sweeps), counted at the driver
(``benchmarks/_pg_round_trips.py`` wraps asyncpg's connection methods): every exchange with the
server, so ``BEGIN``, ``COMMIT`` and ``NOTIFY`` count, which the statement budget leaves out.
A write's wake-up ``NOTIFY`` goes out with its ``COMMIT``, and a read runs without
``BEGIN``/``COMMIT``: a change that brings either round trip back fails here.
``DW_ROUND_TRIP_LISTING=1`` (with ``-s``) prints every round trip of the counted life.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_statement_budget import QUEUE, WORKER, WORKER_ID, _life, _post
from tests.helpers.dbmatrix import POSTGRES_ENV, fresh_postgres_url
from tests.helpers.e2e_env import e2e_settings, running_app
from tests.helpers.statements import ORIGIN, StatementLog

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import _pg_round_trips

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="PostgreSQL only (round trips)")

# Round trips per step, at most. Each write transaction is BEGIN + its statements + COMMIT
# (its NOTIFY inside the COMMIT's string); the result wait of a closed run is one autocommit read.
BUDGET = {
    "start": 9,
    "workflow task poll": 12,
    "workflow task complete + eager activity": 16,
    "activity complete + eager workflow task": 18,
    "workflow task complete (closes the run)": 8,
    "result wait": 1,
}
SWEEP_BUDGET = {"sweep (busy)": 13, "sweep (idle)": 13}


@pytest.fixture
async def app(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    settings = e2e_settings(fresh_postgres_url(request), timer_loop_interval=3600.0)
    async with running_app(settings) as started:
        yield started


@pytest.fixture
def round_trips() -> Iterator[list[tuple[str, str]]]:
    """(origin, what) of every round trip while the test runs."""
    seen: list[tuple[str, str]] = []
    counter = _pg_round_trips.install()
    counter.on_call = lambda what: seen.append((ORIGIN.get(), what))
    try:
        yield seen
    finally:
        _pg_round_trips.uninstall()


async def test_postgres_one_workflow_runs_within_its_round_trip_budget(
    app: Any, round_trips: list[tuple[str, str]]
) -> None:
    engine = app.state.engine
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        registration = {
            "worker_id": WORKER_ID,
            "task_queue": QUEUE,
            "runtime": "python",
            "supported_workflow_types": ["budget-one"],
            "supported_activity_types": ["budget-echo"],
            "capabilities": ["condition_wait_ids", "query_tasks", "update_validation"],
            "task_slots": {"workflow_available": 10, "activity_available": 10},
        }
        await _post(http, "/api/worker/register", registration, WORKER)
        await _life(http, engine, "warm-up", None)  # statements prepared, namespace cached
        with StatementLog(engine.store) as log:
            round_trips.clear()
            await _life(http, engine, "counted", log)
    counted = [(origin, what) for origin, what in round_trips if origin in {*BUDGET, *SWEEP_BUDGET}]
    counts = Counter(origin for origin, _ in counted)
    if os.environ.get("DW_ROUND_TRIP_LISTING"):
        print(f"\n{dict(counts)} total {sum(counts.values())}")
        for origin, what in counted:
            print(f"  {origin}: {what}")
    # No NOTIFY of its own, no BEGIN/COMMIT around a read: every NOTIFY rides on a COMMIT.
    notifies = [what for _, what in counted if "NOTIFY" in what or "pg_notify" in what]
    riding = [w for w in notifies if w.startswith("execute NOTIFY") and w.endswith("; COMMIT")]
    assert notifies and riding == notifies, notifies
    over = {step: counts[step] for step, limit in {**BUDGET, **SWEEP_BUDGET}.items() if counts[step] > limit}
    listing = "\n".join(f"  {origin}: {_short(what)}" for origin, what in counted if origin in over)
    assert not over, f"steps over their round-trip budget: {over}\n{listing}"


def _short(what: str) -> str:
    text = " ".join(what.split())
    return text if len(text) <= 100 else f"{text[:60]} ... {text[-30:]}"
