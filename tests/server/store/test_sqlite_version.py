"""The SQLite store refuses, in one message, a SQLite too old for its statements (RETURNING)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from durable_workflow_server.store import sqlite as sqlite_store
from durable_workflow_server.store.sqlite import MIN_SQLITE_VERSION, SQLiteStore


async def test_a_sqlite_older_than_3_35_is_refused_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store.sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite_store.sqlite3, "sqlite_version", "3.31.1")
    store = SQLiteStore(f"sqlite:///{tmp_path / 'old.db'}")
    with pytest.raises(RuntimeError, match=r"SQLite 3\.35\.0 or newer is needed; .* uses SQLite 3\.31\.1"):
        await store.open()
    assert not (tmp_path / "old.db").exists()  # refused before anything was created


def test_this_python_s_sqlite_is_new_enough() -> None:
    assert sqlite3.sqlite_version_info >= MIN_SQLITE_VERSION
