"""A planned statement writes a SQLite JSON column's text exactly as SQLAlchemy's processor does."""

from __future__ import annotations

import math
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.store import json_writes
from durable_workflow_server.store.json_writes import fast_json_writer
from durable_workflow_server.store.plans import Plans

DIALECT = sa.create_engine("sqlite://").dialect
JSON = sa.JSON()
SQLALCHEMY = JSON.bind_processor(DIALECT)
FAST = fast_json_writer(JSON, DIALECT, SQLALCHEMY)

VALUES: list[Any] = [
    {},
    [],
    {"a": 1, "b": [1, 2.5, None, True], "c": {"d": "é ☃ \U0001f600"}},
    [{"x": 'line\nbreak "quoted" \\ back'}, 1e300, -0.0, 10**30],
    {"nan": math.nan, "inf": math.inf, "ninf": -math.inf},
    {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
    {"lone surrogate": "\udcff"},
    None,
    JSON.NULL,
    sa.null(),
    "text",
    3,
    4.5,
    True,
]


def test_the_faster_writer_is_used_for_a_plain_json_column() -> None:
    assert FAST is not SQLALCHEMY


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_is_written_as_sqlalchemy_writes_it(value: Any) -> None:
    assert FAST(value) == SQLALCHEMY(value)


@pytest.mark.parametrize("value", [{"k": object()}, [{1, 2}], {(1, 2): "tuple key"}], ids=repr)
def test_an_unserializable_value_raises_what_sqlalchemy_raises(value: Any) -> None:
    with pytest.raises(TypeError) as expected:
        SQLALCHEMY(value)
    with pytest.raises(TypeError) as got:
        FAST(value)
    assert str(got.value) == str(expected.value)


def test_a_circular_value_is_refused_as_sqlalchemy_refuses_it() -> None:
    value: dict[str, Any] = {}
    value["self"] = value
    with pytest.raises(ValueError, match="Circular reference detected"):
        SQLALCHEMY(value)
    with pytest.raises(ValueError, match="Circular reference detected"):
        FAST(value)
    assert FAST({"after": [1]}) == '{"after": [1]}'  # nothing of the failed write is left over


@pytest.mark.parametrize(
    "column_type",
    [sa.JSON(none_as_null=True), sa.Text(), sa.JSON().with_variant(sa.Text(), "sqlite")],
    ids=["none_as_null", "text", "variant"],
)
def test_other_types_keep_their_processor(column_type: Any) -> None:
    processor = column_type.bind_processor(DIALECT)
    assert fast_json_writer(column_type, DIALECT, processor) is processor


def test_without_the_c_encoder_sqlalchemy_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_writes, "_make_encoder", None)
    assert fast_json_writer(JSON, DIALECT, SQLALCHEMY) is SQLALCHEMY


def test_a_planned_insert_binds_the_json_text() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("doc", sa.JSON))
    plan = Plans(DIALECT).get(sa.insert(table), {"id": 1, "doc": {"a": [1, "é"]}})
    assert plan is not None
    assert plan.parameters({"id": 1, "doc": {"a": [1, "é"]}}) == [1, SQLALCHEMY({"a": [1, "é"]})]
