"""Every benchmark script runs end to end at a tiny size and prints its figures.

The figures themselves are never asserted (timings stay out of tests); what is checked is that
each script still works against the current server and SDK, as `make bench` and the README use
them, and that it prints the lines its readers look for.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.smoke

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

CASES = {
    "throughput": (["throughput.py", "--workflows", "5"], "workflows/s"),
    "dispatch_latency": (["dispatch_latency.py", "--runs", "3"], "p99"),
    "round_trips": (["round_trips.py", "--workflows", "5", "--order", "both"], "requests"),
    "replay_cost_replay": (["replay_cost.py", "replay", "--events", "200", "--rounds", "1"], "µs/event"),
    "replay_cost_worker": (
        ["replay_cost.py", "worker", "--activities", "3", "--rounds", "1", "--compare-cache"],
        "ms/event",
    ),
    "embedded_mode": (
        ["embedded_mode.py", "--workflows", "3", "--rounds", "1", "--one-at-a-time", "1"],
        "requests",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_benchmark_script_runs(case: str) -> None:
    argv, expected = CASES[case]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / argv[0]), *argv[1:]],
        cwd=BENCHMARKS.parent,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout, done.stdout[-2000:]
