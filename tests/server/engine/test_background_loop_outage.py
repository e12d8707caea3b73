"""The background loop rides out a database outage: one log line when it starts, one when it ends."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.background_loop import BackgroundLoop


class _Shutdown(Exception):
    sqlstate = "57P01"


async def test_an_outage_is_logged_once_and_sweeping_resumes(caplog: pytest.LogCaptureFixture) -> None:
    outcomes: list[Exception | None] = [
        sa.exc.DBAPIError("SELECT", {}, _Shutdown("terminating connection"), connection_invalidated=True),
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionRefusedError(111, "Connect call failed"),
        None,
        None,
    ]
    swept = asyncio.Event()

    async def sweep() -> datetime | None:
        outcome = outcomes.pop(0) if outcomes else None
        if not outcomes:
            swept.set()
        if outcome is not None:
            raise outcome
        return None

    loop = BackgroundLoop(sweep, interval=0.001, clock=lambda: datetime.now(timezone.utc))
    with caplog.at_level(logging.WARNING, logger="durable_workflow_server.engine.background_loop"):
        loop.start()
        await asyncio.wait_for(swept.wait(), 5)
        await loop.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "database unavailable" in messages[0] and "reachable again" in messages[1]
    assert "Traceback" not in caplog.text and not loop.database_down


async def test_other_sweep_errors_keep_their_traceback(caplog: pytest.LogCaptureFixture) -> None:
    failed = asyncio.Event()

    async def sweep() -> datetime | None:
        failed.set()
        raise RuntimeError("a bug")

    loop = BackgroundLoop(sweep, interval=0.001, clock=lambda: datetime.now(timezone.utc))
    with caplog.at_level(logging.ERROR):
        loop.start()
        await asyncio.wait_for(failed.wait(), 5)
        await loop.stop()
    assert "background loop sweep failed" in caplog.text and "RuntimeError: a bug" in caplog.text
