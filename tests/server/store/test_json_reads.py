"""Planned reads of SQLite ``JSON`` columns answer SQLAlchemy's values and raise its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from durable_workflow_server.store.json_reads import fast_json_reader
from durable_workflow_server.store.sqlite import SQLiteStore

DIALECT = sqlite.dialect()
STOCK = sa.JSON().dialect_impl(DIALECT).result_processor(DIALECT, None)
FAST = fast_json_reader(sa.JSON(), DIALECT, STOCK)
DOCS = sa.Table(
    "docs", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("doc", sa.JSON)
)
INSERT = sa.text("INSERT INTO docs (id, doc) VALUES (:i, :d)")


def test_the_fast_reader_answers_the_stock_reader() -> None:
    assert FAST is not STOCK
    values: list[Any] = [
        '{"a":1,"b":[1,2.5,"x"],"c":null}',
        '{"a": 1}',
        "[]",
        '"text"',
        "null",
        "true",
        "1e3",
        ' {"a":1}',  # whitespace around: the stock reader's way
        '{"a":1} ',
        '"caf\\u00e9"',
        5,  # a number SQLite's NUMERIC affinity stored as one
        2.5,
        b'{"a":1}',
    ]
    for value in values:
        assert FAST(value) == STOCK(value), value
        assert type(FAST(value)) is type(STOCK(value))
    for bad in ["", "{", '{"a":1}x', "\ufeff{}", "NaNx"]:
        with pytest.raises(json.JSONDecodeError) as stock:
            STOCK(bad)
        with pytest.raises(json.JSONDecodeError) as fast:
            FAST(bad)
        assert str(fast.value) == str(stock.value)


def test_only_plain_json_on_sqlite_is_read_faster() -> None:
    class Other(sa.JSON):
        pass

    assert fast_json_reader(Other(), DIALECT, STOCK) is STOCK
    assert fast_json_reader(sa.Integer(), DIALECT, None) is None


async def test_planned_json_reads_match_sqlalchemys(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/json.db")
    await store.open()
    try:
        async with store.write() as conn:
            await conn.run_sync(lambda sync: DOCS.create(sync))
            for doc_id, text in enumerate(['{"a": [1, 2]}', "7", '"s"', " [1] ", '{"n":null}']):
                await conn.execute(INSERT, {"i": doc_id, "d": text})
        query = sa.select(DOCS.c.id, DOCS.c.doc).order_by(DOCS.c.id)
        async with store.read() as conn:
            planned = await conn.fetch(query)
            through_sqlalchemy = (await conn.run_sync(lambda sync: sync.execute(query))).mappings().all()
        assert planned == [dict(row) for row in through_sqlalchemy]
        assert [row["doc"] for row in planned] == [{"a": [1, 2]}, 7, "s", [1], {"n": None}]
    finally:
        await store.close()
