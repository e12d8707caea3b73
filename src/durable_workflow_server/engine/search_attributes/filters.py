"""A parsed visibility query (:mod:`.query`) as one SQL condition on ``workflow_runs``.

Every value is a bound parameter. System attributes compare the run's own columns; a custom
attribute is an ``EXISTS`` over its typed index rows (``search_attribute_values``), probed by
``run_id`` (for keyword-valued types from the index (run_id, name, value_keyword) alone).
Literals are checked against the attribute's type with the same rules as values at start
(:func:`.values.normalize`), so ``Priority >= '3'`` and ``Priority >= 3`` mean the same and
``Priority >= 'high'`` is refused.

Semantics: a comparison holds for runs that have the attribute (``!=`` and ``NOT IN`` too: a
run without it matches neither ``X = 'a'`` nor ``X != 'a'``); ``NOT`` negates a whole condition
and ``IS NULL`` finds runs without the attribute. A ``keyword_list`` matches ``=`` / ``IN`` when
any item does, and ``!=`` / ``NOT IN`` when none does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import RunStatus
from ...store.statuses import SearchAttributeType as T
from .query import And, Compare, InList, IsNull, Literal, Node, Not, Or, QueryError
from .types import SYSTEM_ATTRIBUTES
from .values import BadValue, normalize, parse_datetime

_wr, _vals = t.workflow_runs, t.search_attribute_values
Condition = sa.ColumnElement[bool]

_RANGE_OPS = ("<", "<=", ">", ">=")
_RANGE_TYPES = (T.INT, T.DOUBLE, T.DATETIME)
_SYSTEM_COLUMNS: dict[str, sa.Column[Any]] = {
    "WorkflowType": _wr.c.workflow_type,
    "WorkflowId": _wr.c.workflow_id,
    "RunId": _wr.c.run_id,
    "Status": _wr.c.status,
    "StartTime": _wr.c.started_at,
    "CloseTime": _wr.c.closed_at,
    "TaskQueue": _wr.c.task_queue,
}
_VALUE_COLUMNS: dict[str, sa.Column[Any]] = {
    T.KEYWORD: _vals.c.value_keyword,
    T.TEXT: _vals.c.value_keyword,
    T.KEYWORD_LIST: _vals.c.value_keyword,
    T.INT: _vals.c.value_int,
    T.DOUBLE: _vals.c.value_double,
    T.BOOL: _vals.c.value_bool,
    T.DATETIME: _vals.c.value_datetime,
}
_RUN_STATUSES = frozenset(status.value for status in RunStatus)


def names_in(node: Node) -> set[str]:
    """Every attribute name the query mentions."""
    if isinstance(node, (And, Or)):
        return set().union(*(names_in(part) for part in node.parts))
    if isinstance(node, Not):
        return names_in(node.part)
    return {node.name}


def _compare(column: Any, op: str, value: Any) -> Condition:
    ops: dict[str, Callable[[Any, Any], Condition]] = {
        "=": lambda c, v: c == v,
        "!=": lambda c, v: c != v,
        "<": lambda c, v: c < v,
        "<=": lambda c, v: c <= v,
        ">": lambda c, v: c > v,
        ">=": lambda c, v: c >= v,
    }
    return ops[op](column, value)


class _Compiler:
    def __init__(self, namespace: str, custom: Mapping[str, str]) -> None:
        self.namespace = namespace
        self.custom = custom

    def type_of(self, name: str) -> str:
        if name in SYSTEM_ATTRIBUTES:
            return SYSTEM_ATTRIBUTES[name]
        if name in self.custom:
            return self.custom[name]
        raise QueryError(
            f"Unknown search attribute '{name}' in the query: register it with create_search_attribute "
            f"first, or use a system attribute ({', '.join(SYSTEM_ATTRIBUTES)})."
        )

    def value(self, name: str, kind: str, literal: Literal) -> Any:
        """The literal as the attribute's column holds it."""
        if name == "Status":
            status = str(literal).lower()
            if status not in _RUN_STATUSES:
                raise QueryError(f"Status must be one of: {', '.join(sorted(_RUN_STATUSES))}.")
            return status
        if kind == T.DATETIME:
            moment = parse_datetime(literal) if isinstance(literal, str) else None
            if moment is None:
                raise QueryError(f"'{name}' is a datetime attribute; compare it with an RFC 3339 string.")
            return moment
        # A keyword_list item is one keyword.
        try:
            return normalize(name, T.KEYWORD if kind == T.KEYWORD_LIST else kind, literal)[0]
        except BadValue as exc:
            raise QueryError(f"Invalid query: {exc}") from exc

    # ------------------------------------------------------------------ custom attributes
    def _rows(self, name: str, *conditions: Condition) -> Condition:
        # No namespace term: a run id is one run of one namespace (the outer query's), and its
        # value rows carry that namespace; without it, (run_id, name, value_keyword) answers the
        # probe of a keyword-valued attribute from the index alone.
        # ``SELECT 1``, not ``SELECT *``: SQLite counts every column of ``*`` as needed and would
        # read the value row after the index entry.
        return (
            sa.select(sa.literal_column("1"))
            .select_from(_vals)
            .where(_vals.c.run_id == _wr.c.run_id, _vals.c.name == name, *conditions)
            .exists()
        )

    def _present(self, name: str, kind: str) -> Condition:
        return self._rows(name, _VALUE_COLUMNS[kind].is_not(None))

    # ------------------------------------------------------------------ nodes
    def compile(self, node: Node) -> Condition:
        if isinstance(node, And):
            return sa.and_(*(self.compile(part) for part in node.parts))
        if isinstance(node, Or):
            return sa.or_(*(self.compile(part) for part in node.parts))
        if isinstance(node, Not):
            return sa.not_(self.compile(node.part))
        if isinstance(node, IsNull):
            return self._is_null(node)
        if isinstance(node, InList):
            return self._in(node)
        return self._compare(node)

    def _is_null(self, node: IsNull) -> Condition:
        kind = self.type_of(node.name)
        if node.name in SYSTEM_ATTRIBUTES:
            column = self._system_column(node.name)
            return column.is_not(None) if node.negated else column.is_(None)
        present = self._present(node.name, kind)
        return present if node.negated else sa.not_(present)

    def _system_column(self, name: str) -> sa.Column[Any]:
        column = _SYSTEM_COLUMNS.get(name)
        if column is None:  # BuildId: listed, but no run records one
            raise QueryError(f"'{name}' is not recorded per run, so it cannot be filtered.")
        return column

    def _in(self, node: InList) -> Condition:
        kind = self.type_of(node.name)
        if kind == T.BOOL:
            raise QueryError(f"'{node.name}' is a bool attribute; compare it with = or !=.")
        values = [self.value(node.name, kind, literal) for literal in node.values]
        if node.name in SYSTEM_ATTRIBUTES:
            column = self._system_column(node.name)
            return column.not_in(values) if node.negated else column.in_(values)
        column = _VALUE_COLUMNS[kind]
        if not node.negated:
            return self._rows(node.name, column.in_(values))
        return sa.and_(self._present(node.name, kind), sa.not_(self._rows(node.name, column.in_(values))))

    def _compare(self, node: Compare) -> Condition:
        kind = self.type_of(node.name)
        if node.op in _RANGE_OPS and kind not in _RANGE_TYPES:
            raise QueryError(
                f"Invalid query: '{node.name}' is a {kind} attribute; ranges (<, <=, >, >=, BETWEEN) "
                "apply to int, double and datetime attributes."
            )
        if node.op == "contains" and kind != T.TEXT:
            raise QueryError(f"Invalid query: CONTAINS applies to text attributes; '{node.name}' is {kind}.")
        if kind == T.BOOL and node.op not in ("=", "!="):
            raise QueryError(f"'{node.name}' is a bool attribute; compare it with = or !=.")
        value = self.value(node.name, kind, node.value)
        if node.name in SYSTEM_ATTRIBUTES:
            return _compare(self._system_column(node.name), node.op, value)
        column = _VALUE_COLUMNS[kind]
        if node.op == "contains":
            return self._rows(node.name, column.contains(value, autoescape=True))
        if node.op == "!=":
            # Has the attribute, and no value (no keyword_list item) equal to the literal.
            return sa.and_(self._present(node.name, kind), sa.not_(self._rows(node.name, column == value)))
        return self._rows(node.name, _compare(column, node.op, value))


def compile_query(node: Node, namespace: str, custom: Mapping[str, str]) -> Condition:
    """The SQL condition of ``node`` for runs of ``namespace`` (``custom``: its registered types)."""
    return _Compiler(namespace, custom).compile(node)


def time_window(column: sa.Column[Any], after: datetime | None, before: datetime | None) -> list[Condition]:
    """``after <= column < before`` (either bound optional): windows that tile never overlap."""
    conditions: list[Condition] = []
    if after is not None:
        conditions.append(column >= after)
    if before is not None:
        conditions.append(column < before)
    return conditions
