"""Every route answers byte-equal to the recorded golden conversation (status, headers, body).

The conversation runs on each database of the matrix: SQLite and PostgreSQL must answer alike.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.server.http.golden import GOLDEN_FILE, load_golden, run_scenario, write_golden

RECORD = os.environ.get("DW_RECORD_GOLDEN") == "1"


async def test_every_route_answers_as_recorded(db_url: str) -> None:
    records = await run_scenario(db_url)
    if RECORD and db_url.startswith("sqlite"):
        write_golden(records)
        pytest.fail(f"recorded {len(records)} responses to {GOLDEN_FILE}; run again without DW_RECORD_GOLDEN")
    golden = load_golden()
    assert [r["label"] for r in records] == [g["label"] for g in golden]
    for record, expected in zip(records, golden, strict=True):
        assert record == expected, record["label"]


async def test_the_recording_is_repeatable(tmp_path: Path) -> None:
    # Two fresh servers answer the same conversation identically: nothing random leaks through.
    first = await run_scenario(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    second = await run_scenario(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    assert first == second
