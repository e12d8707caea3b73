"""PostgreSQL round trips of one workflow's life, step by step, against an upper bound per step.

The same life as test_statement_budget.py (start, workflow task poll, the completions with
their eager tasks, the result wait, the background loop's sweeps, and a start handed to a
parked poll), counted at the driver
(``benchmarks/_pg_round_trips.py`` wraps asyncpg's connection methods): every exchange with the
server, so ``BEGIN``, ``COMMIT`` and ``NOTIFY`` count, which the statement budget leaves out.
A closed run's result wait is one autocommit read (no ``BEGIN``/``COMMIT``). Wake-ups for other
processes go out after commit as ``pg_notify`` from one sender task per process, which merges the
wake-ups of every transaction committed meanwhile: they are deliberately *not* sent inside the
data transaction's ``COMMIT``, because a transaction that notifies holds PostgreSQL's one
notification lock through its commit (WAL flush included), which would serialise the commits of
every server process sharing the database. And they go out only while another process listens:
this test's server is alone on its database, so its life sends none.
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

from tests.e2e.test_statement_budget import REGISTRATION, WORKER, _close, _handed_start, _life, _post
from tests.helpers.dbmatrix import POSTGRES_ENV, fresh_postgres_url
from tests.helpers.e2e_env import e2e_settings, running_app
from tests.helpers.statements import ORIGIN, StatementLog

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import _pg_round_trips

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="PostgreSQL only (round trips)")

# Round trips per step, at most. Each write transaction is its statements + ``COMMIT; BEGIN``
# (the next write's transaction opens in the round trip that commits this one, so a write on a
# pooled connection sends no ``BEGIN``); the result wait of a closed run is one autocommit read.
BUDGET = {
    # The new run's events, its row and its first task in one statement (engine/runs/opening.py).
    "start": 3,
    "workflow task poll": 6,
    "workflow task complete + eager activity": 8,
    "activity complete + eager workflow task": 9,
    "workflow task complete (closes the run)": 5,
    "result wait": 1,
    # A poll parked in the server's process (one probe), then a start handed to it.
    "workflow task poll (parks)": 3,
    "start handed to the parked poll": 4,
}
SWEEP_BUDGET = {"sweep (busy)": 1, "sweep (idle)": 1}


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
        await _post(http, "/api/worker/register", REGISTRATION, WORKER)
        await _life(http, engine, "warm-up", None)  # statements prepared, namespace cached
        await _close(http, await _handed_start(http, engine, "warm-up-handed", None))
        with StatementLog(engine.store) as log:
            round_trips.clear()
            await _life(http, engine, "counted", log)
            handed = await _handed_start(http, engine, "counted-handed", log)
        await _close(http, handed)
    counted = [(origin, what) for origin, what in round_trips if origin in {*BUDGET, *SWEEP_BUDGET}]
    # The sender's pg_notify calls, wherever they are attributed: none, nobody else listens.
    notifies = [what for _, what in round_trips if "NOTIFY" in what or "pg_notify" in what]
    assert notifies == [], notifies
    counted = [(origin, what) for origin, what in counted if "pg_notify" not in what]
    counts = Counter(origin for origin, _ in counted)
    if os.environ.get("DW_ROUND_TRIP_LISTING"):
        print(f"\n{dict(counts)} total {sum(counts.values())} (+{len(notifies)} pg_notify)")
        for origin, what in counted:
            print(f"  {origin}: {what}")
    over = {step: counts[step] for step, limit in {**BUDGET, **SWEEP_BUDGET}.items() if counts[step] > limit}
    listing = "\n".join(f"  {origin}: {_short(what)}" for origin, what in counted if origin in over)
    assert not over, f"steps over their round-trip budget: {over}\n{listing}"


def _short(what: str) -> str:
    text = " ".join(what.split())
    return text if len(text) <= 100 else f"{text[:60]} ... {text[-30:]}"
