"""``engine.row_split.PrefixSplit``: the same parts as a per-key prefix test, planned per shape."""

from __future__ import annotations

from typing import Any

from durable_workflow_server.engine.row_split import PrefixSplit


def _by_prefix(row: dict[str, Any], prefixes: tuple[str, ...]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{} for _ in range(len(prefixes) + 1)]
    for key, value in row.items():
        for number, prefix in enumerate(prefixes, start=1):
            if key.startswith(prefix):
                parts[number][key[len(prefix) :]] = value
                break
        else:
            parts[0][key] = value
    return parts


def test_parts_match_a_prefix_test_for_contiguous_scattered_single_and_empty_groups() -> None:
    split = PrefixSplit("a__", "r__", "w__")
    rows: list[dict[str, Any]] = [
        {"id": 1, "r__id": 2, "r__status": "open", "a__id": None, "name": "x", "a__n": 3},
        {"id": 1, "name": "x"},  # no prefixed columns at all
        {"r__only": 5},  # nothing unprefixed
    ]
    for row in rows:
        for _ in range(2):  # planned, then from the plan
            assert split(row) == _by_prefix(row, split.prefixes)


def test_a_key_belongs_to_the_first_prefix_it_starts_with() -> None:
    assert PrefixSplit("r__", "r__x")({"r__x1": 1}) == [{}, {"x1": 1}, {}]
