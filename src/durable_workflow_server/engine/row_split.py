"""Splitting a joined row into its tables' rows by column-label prefix, planned once per shape.

A fence reads a task, its run, its attempt and execution, perhaps the worker, in one statement
whose columns are labelled ``<prefix><column>`` per table (``runs.rows.RUN_PREFIX`` and the
like). Testing every key of every such row against every prefix, and slicing it, cost more
than the rest of the fence's Python. A :class:`PrefixSplit` does that once per row *shape*
(the tuple of its keys: one per statement) and then builds each part with C-level calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

#: Distinct row shapes one splitter keeps plans for (statements are few; this only bounds it).
MAX_SHAPES = 64

_Getter = Callable[[Sequence[Any]], Sequence[Any]]
_Plan = tuple[tuple[tuple[str, ...], _Getter], ...]


def _getter(indices: list[int]) -> _Getter:
    if not indices:
        return lambda values: ()
    if indices == list(range(indices[0], indices[-1] + 1)):
        window = slice(indices[0], indices[-1] + 1)
        return lambda values: values[window]
    if len(indices) == 1:
        (only,) = indices
        return lambda values: (values[only],)
    return itemgetter(*indices)


class PrefixSplit:
    """Splits a row into ``[the unprefixed columns, the columns of each prefix (unprefixed)]``.

    A key belongs to the first prefix it starts with, in the order given.
    """

    __slots__ = ("_plans", "prefixes")

    def __init__(self, *prefixes: str) -> None:
        self.prefixes = prefixes
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def _plan(self, keys: tuple[str, ...]) -> _Plan:
        groups: list[tuple[list[str], list[int]]] = [([], []) for _ in range(len(self.prefixes) + 1)]
        for index, key in enumerate(keys):
            for number, prefix in enumerate(self.prefixes, start=1):
                if key.startswith(prefix):
                    groups[number][0].append(key[len(prefix) :])
                    groups[number][1].append(index)
                    break
            else:
                groups[0][0].append(key)
                groups[0][1].append(index)
        return tuple((tuple(names), _getter(indices)) for names, indices in groups)

    def __call__(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        keys = tuple(row)
        plan = self._plans.get(keys)
        if plan is None:
            plan = self._plan(keys)
            if len(self._plans) < MAX_SHAPES:
                self._plans[keys] = plan
        values = tuple(row.values())
        return [dict(zip(names, get(values), strict=True)) for names, get in plan]
