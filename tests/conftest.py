"""Shared test helpers: where the read-only contract data lives, and the database matrix."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
CONTRACT = SHARED / "contract"


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    """The contract fixtures folder (``../shared/contract``); read-only."""
    if not CONTRACT.is_dir():
        pytest.fail(f"contract data not found at {CONTRACT}")
    return CONTRACT
