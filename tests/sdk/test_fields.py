"""The tolerant field readers every SDK parser shares: an ill-typed value reads as nothing."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow import _fields


@pytest.mark.parametrize(
    ("sent", "read"), [(True, True), (False, False), (1, None), ("true", None), (None, None)]
)
def test_a_bool_is_only_a_bool(sent: Any, read: bool | None) -> None:
    assert _fields.opt_bool({"b": sent}, "b") is read


@pytest.mark.parametrize(("sent", "read"), [(1, 1.0), (2.5, 2.5), ("2.5", None), (True, None), (None, None)])
def test_a_float_is_a_number_not_text(sent: Any, read: float | None) -> None:
    assert _fields.opt_float({"f": sent}, "f") == read


def test_text_reads_none_as_the_default_and_anything_else_as_its_text() -> None:
    assert _fields.text({"t": None}, "t", "d") == "d"
    assert _fields.text({"t": 3}, "t") == "3"
    assert _fields.opt_text({}, "t") is None


def test_a_map_that_is_not_one_reads_as_empty_or_none() -> None:
    # PHP servers send an empty map as [].
    assert _fields.mapping({"m": []}, "m") == {}
    assert _fields.opt_mapping({"m": []}, "m") is None
    sent = {"a": 1}
    read = _fields.mapping({"m": sent}, "m")
    assert read == sent and read is not sent


def test_lists_keep_only_items_of_their_kind() -> None:
    assert _fields.texts({"l": ["a", 1, None, "b"]}, "l") == ["a", "b"]
    assert _fields.mappings({"l": [{"a": 1}, "x", 2]}, "l") == [{"a": 1}]
    assert _fields.texts({"l": "ab"}, "l") == []
    assert _fields.mappings({}, "l") == []
