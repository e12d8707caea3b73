"""The whole-transaction retry: conflicts run the body again, announcements wait for the last commit.

The cases drive :class:`TxScope` with scripted attempts; ``test_engine_lock_order.py`` provokes a
real deadlock on PostgreSQL and sees it retried.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine import transaction
from durable_workflow_server.engine.transaction import Tx, TxScope, retry_reason
from durable_workflow_server.store.errors import conflict_kind, is_unavailable


class _SqlState(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _dbapi_error(sqlstate: str, *, invalidated: bool = False) -> sa.exc.DBAPIError:
    return sa.exc.DBAPIError("UPDATE x", {}, _SqlState(sqlstate), connection_invalidated=invalidated)


DEADLOCK = _dbapi_error("40P01")


class _Script:
    """Attempts that fail as scripted (``body`` or ``commit`` phase) and record what happened."""

    def __init__(self, failures: list[tuple[str, BaseException]]) -> None:
        self.failures = failures
        self.opened = 0
        self.announced = 0
        self.rolled_back = 0

    @asynccontextmanager
    async def attempt(self) -> AsyncIterator[Tx]:
        self.opened += 1
        try:
            yield Tx(conn=None, store=None, now=None)  # type: ignore[arg-type]
        except BaseException:
            self.rolled_back += 1
            raise
        if self.failures and self.failures[0][0] == "commit":
            raise self.failures.pop(0)[1]
        self.announced += 1  # after the commit, like EngineCore._attempt


def _scope(script: _Script, retried: list[str] | None = None) -> TxScope:
    async def no_sleep(_seconds: float) -> None:
        return None

    return TxScope(
        script.attempt,
        on_retry=retried.append if retried is not None else None,
        sleep=no_sleep,
        rand=lambda: 0.5,
    )


async def _run(script: _Script, scope: TxScope, body_runs: list[int]) -> str:
    async for txn in scope:
        async with txn:
            body_runs.append(1)
            if script.failures and script.failures[0][0] == "body":
                raise script.failures.pop(0)[1]
            return "done"
    raise AssertionError("unreachable")


def test_errors_are_classified_by_sqlstate_and_driver() -> None:
    assert conflict_kind(_dbapi_error("40001")) == "serialization_failure"
    assert conflict_kind(DEADLOCK) == "deadlock"
    assert conflict_kind(sqlite3.OperationalError("database is locked")) == "database_locked"
    assert conflict_kind(_dbapi_error("23505")) is None  # a unique violation is an answer, not a conflict
    assert is_unavailable(_dbapi_error("08003", invalidated=True))
    assert is_unavailable(_dbapi_error("57P01"))  # admin shutdown
    assert is_unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert not is_unavailable(DEADLOCK)
    assert not is_unavailable(ValueError("bad input"))
    assert not is_unavailable(sqlite3.OperationalError("no such table: x"))
    assert retry_reason(_dbapi_error("08006", invalidated=True), committing=False) == "disconnected"
    assert retry_reason(_dbapi_error("08006", invalidated=True), committing=True) is None


async def test_a_deadlocked_body_runs_again_and_announces_once() -> None:
    script = _Script([("body", DEADLOCK), ("body", DEADLOCK)])
    retried: list[str] = []
    runs: list[int] = []
    assert await _run(script, _scope(script, retried), runs) == "done"
    assert len(runs) == 3 and script.opened == 3
    assert script.rolled_back == 2 and script.announced == 1
    assert retried == ["deadlock", "deadlock"]


async def test_a_conflict_at_commit_is_raised_not_retried() -> None:
    """A body that returned cannot be run again: the return would go on as if it had committed."""
    script = _Script([("commit", _dbapi_error("40001"))])
    runs: list[int] = []
    with pytest.raises(sa.exc.DBAPIError):
        await _run(script, _scope(script), runs)
    assert len(runs) == 1 and script.announced == 0


async def test_a_connection_lost_during_commit_is_not_retried() -> None:
    lost = _dbapi_error("08006", invalidated=True)
    script = _Script([("commit", lost)])
    runs: list[int] = []
    with pytest.raises(sa.exc.DBAPIError):
        await _run(script, _scope(script), runs)
    assert len(runs) == 1 and script.announced == 0


async def test_a_connection_lost_in_the_body_is_retried_once() -> None:
    lost = _dbapi_error("08006", invalidated=True)
    script = _Script([("body", lost), ("body", lost)])
    runs: list[int] = []
    with pytest.raises(sa.exc.DBAPIError):
        await _run(script, _scope(script), runs)
    assert len(runs) == transaction.MAX_ATTEMPTS["disconnected"] and script.announced == 0


async def test_other_errors_and_exhausted_retries_propagate() -> None:
    script = _Script([("body", ValueError("refused"))])
    runs: list[int] = []
    with pytest.raises(ValueError):
        await _run(script, _scope(script), runs)
    assert len(runs) == 1

    limit = transaction.MAX_ATTEMPTS["deadlock"]
    script = _Script([("body", DEADLOCK)] * limit)
    runs = []
    with pytest.raises(sa.exc.DBAPIError):
        await _run(script, _scope(script), runs)
    assert len(runs) == limit and script.announced == 0


async def test_backoff_is_jittered_and_bounded() -> None:
    script = _Script([("body", DEADLOCK)] * 4)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    scope = TxScope(script.attempt, sleep=sleep, rand=lambda: 1.0)
    await _run(script, scope, [])
    base = transaction.BACKOFF_BASE_SECONDS
    assert slept == [min(transaction.BACKOFF_CAP_SECONDS, base * 2**n) for n in range(4)]


async def test_entering_the_scope_is_one_attempt_without_retry() -> None:
    script = _Script([])
    async with _scope(script) as tx:
        assert isinstance(tx, Tx)
    assert script.opened == 1 and script.announced == 1
