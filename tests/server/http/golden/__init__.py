"""A recorded conversation with the real server: every route of today, success and every 4xx class.

``run_scenario`` drives a real app (real engine, real database file, an injected clock) through
a fixed list of requests and returns one normalised record per response: status, the headers
that matter, and the body text exactly as sent. Only values that are truly random are
normalised: generated ULIDs (run, task, attempt and worker ids) become ``<id:N>`` in order of
first appearance, so identity between responses is still checked, and the export checksum,
which covers those ids, becomes ``<sha256>``.

The golden file (tests/fixtures/golden/http_responses.json) was recorded against the HTTP layer
before it was rewritten; the rewrite must answer byte-equal. Re-record only for an intended
change: ``DW_RECORD_GOLDEN=1 .venv/bin/pytest tests/server/http/test_golden_responses.py``.
"""

from __future__ import annotations

from typing import Any

from .recorder import GOLDEN_FILE, golden_client, load_golden, write_golden
from .refusals import (
    query_field_errors,
    routing_errors,
    start_field_errors,
    transport_errors,
    worker_field_errors,
)
from .run_commands import run_commands
from .successes import control_plane_successes, reads_after_progress, system, worker_plane

__all__ = ["GOLDEN_FILE", "load_golden", "run_scenario", "write_golden"]


async def run_scenario(database_url: str) -> list[dict[str, Any]]:
    """Drive the whole conversation and return the normalised records."""
    async with golden_client(database_url) as rec:
        await system(rec)
        await control_plane_successes(rec)
        await worker_plane(rec)
        await reads_after_progress(rec)
        await transport_errors(rec)
        await routing_errors(rec)
        await start_field_errors(rec)
        await query_field_errors(rec)
        await worker_field_errors(rec)
        await run_commands(rec)
        return rec.records


# ---------------------------------------------------------------------- system routes
