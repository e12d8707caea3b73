"""The CI-sized chaos run, once per backend (see tests/chaos/__init__.py and run.py).

PostgreSQL: 3 ``dw server:start`` processes on one fresh database, 4 worker processes. SQLite:
one ``dw server:start-dev --db-file`` process, 4 workers. Servers and workers are killed with
``kill -9`` throughout the load; the checker's violations must be none. The seed is random
unless ``DW_CHAOS_SEED`` is set, and is printed with the report (``pytest -rP`` shows it; a
failure shows it in the assertion) so a failing run can be repeated with
``python -m tests.chaos --seed N``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.helpers.dbmatrix import DATABASES

from .run import ChaosConfig, run_chaos

pytestmark = [pytest.mark.chaos, pytest.mark.smoke, pytest.mark.timeout(400)]


def _seed() -> int:
    configured = os.environ.get("DW_CHAOS_SEED")
    return int(configured) if configured else random.SystemRandom().randrange(1, 2**31)


async def _run(backend: str, tmp_path: Path) -> None:
    seed = _seed()
    keep = os.environ.get("DW_CHAOS_KEEP_DB") == "1"  # for a post-mortem of a failure
    report = await run_chaos(ChaosConfig(backend, seed, tmp_path / backend, keep_failed_database=keep))
    text = report.format()
    print(text)
    assert not report.violations, f"chaos run failed (repeat: python -m tests.chaos --seed {seed})\n{text}"
    # The run must have exercised what it claims to: kills on both sides, every feature.
    assert report.fault_log.server_kills >= 1 and report.fault_log.worker_kills >= 1, text
    assert report.completed == report.workflows > 0, text
    assert report.signals > 0 and report.updates > 0 and report.child_workflows > 0, text


@pytest.mark.skipif("postgres" not in DATABASES, reason="needs DW_TEST_POSTGRES_URL (PostgreSQL)")
async def test_three_servers_on_one_postgres_under_kill_9(tmp_path: Path) -> None:
    await _run("postgres", tmp_path)


async def test_one_sqlite_server_under_kill_9(tmp_path: Path) -> None:
    await _run("sqlite", tmp_path)
