"""What every runner shares (standard library only: each runner runs in its own peer's venv).

A runner is started by ``run.py`` with ``--workflows N --warmup W`` and where its server is
(``--url`` / ``--admin-url`` / ``--database``); it runs a warm-up batch (not timed), then the timed
batch, checks every result, and prints one JSON line: ``{"workflows": N, "elapsed": seconds}``.
Anything else it prints goes to stderr, so the JSON line is the whole of stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence


def parse_args(description: str) -> argparse.Namespace:
    """The options every runner takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workflows", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--url", help="the server (client endpoint / ingress) to use")
    parser.add_argument("--admin-url", help="the server's admin endpoint (Restate)")
    parser.add_argument("--database", help="the database URL (DBOS, ours in-process)")
    parser.add_argument("--service-port", type=int, help="the port of the runner's own service (Restate)")
    parser.add_argument("--api", choices=("sync", "async"), default="sync", help="DBOS: which API")
    return parser.parse_args()


def run_tag() -> str:
    """A short unique tag for the ids of this runner's workflows."""
    return uuid.uuid4().hex[:10]


def check(results: Sequence[object], count: int) -> None:
    """Every workflow ``i`` must have returned ``i``; anything else fails the run."""
    expected = list(range(count))
    if list(results) != expected:
        wrong = sum(1 for got, want in zip(results, expected, strict=False) if got != want)
        raise SystemExit(f"wrong results: {wrong} of {count} differ (got {len(results)} results)")


def emit(workflows: int, elapsed: float) -> None:
    """Print the runner's one JSON line."""
    sys.stdout.write(json.dumps({"workflows": workflows, "elapsed": elapsed}) + "\n")
    sys.stdout.flush()
