"""Without the shared contract data the conformance tier is skipped in one line, except in CI.

Runs pytest in a subprocess with ``DW_CONTRACT_DIR`` pointing nowhere, for the whole tier and
for one of its files (which must find its stand-in, not fail with "no collectors").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pytest(*args: str, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["DW_CONTRACT_DIR"] = "/nonexistent/contract"
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("target", ["tests/conformance", "tests/conformance/test_codec_vectors.py"])
def test_absent_contract_data_skips_the_tier_in_one_line(target: str) -> None:
    done = _pytest(target, ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, done.stdout
    assert "conformance tier skipped: no contract data at /nonexistent/contract" in skipped[0]


def test_absent_contract_data_is_an_error_under_ci() -> None:
    done = _pytest("tests/conformance/test_codec_vectors.py", ci=True)
    assert done.returncode not in (0, 5), done.stdout
    assert "conformance tier cannot run under CI=true" in done.stdout
