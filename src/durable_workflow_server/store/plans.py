"""Statements compiled once into plans the driver runs directly (SQLite's hot path).

SQLAlchemy's execution machinery costs several times what SQLite spends on one of the engine's
small statements: every ``execute`` looks the statement up in the compiled cache, builds an
execution context, constructs the parameter dictionary and wraps the cursor in a result. The
engine's statements are built once at import time, so all of that is the same work each time.
A :class:`Plan` keeps what it produces (the SQL text, where each positional parameter comes
from and its bind processor, the result columns and their processors) per statement and
parameter keys, and :func:`plan` returns ``None`` for what it does not cover (expanding ``IN``
lists, executemany, statements SQLAlchemy must post-process), which then runs through
SQLAlchemy as before. SQLAlchemy still compiles every statement: the SQL and the types'
processors are its own.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None
# One positional parameter: (the caller's key, or None for a constant; the constant; processor).
Bind = tuple[str | None, Any, Processor]


class Plan:
    """One statement compiled for one set of parameter keys."""

    __slots__ = ("binds", "keys", "processors", "returns_rows", "sql")

    def __init__(
        self,
        sql: str,
        binds: Sequence[Bind],
        keys: Sequence[str],
        processors: Sequence[Processor],
        returns_rows: bool,
    ) -> None:
        self.sql = sql
        self.binds = tuple(binds)
        self.keys = tuple(keys)
        self.processors = tuple(processors)
        self.returns_rows = returns_rows

    def parameters(self, params: Mapping[str, Any] | None) -> list[Any]:
        """The positional parameters for the caller's ``params``."""
        values: list[Any] = []
        for key, constant, processor in self.binds:
            value = constant if key is None else params[key]  # type: ignore[index]
            values.append(value if processor is None or key is None else processor(value))
        return values

    def rows(self, raw: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        """The driver's rows as dictionaries keyed like ``result.mappings()``, values processed."""
        keys, processors = self.keys, self.processors
        if not any(processors):
            return [dict(zip(keys, row, strict=True)) for row in raw]
        return [
            {
                key: value if processor is None or value is None else processor(value)
                for key, value, processor in zip(keys, row, processors, strict=True)
            }
            for row in raw
        ]


_UNPLANNED = object()


class Plans:
    """The plans of one dialect, per statement (held weakly) and parameter keys."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._plans: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], Any]] = weakref.WeakKeyDictionary()

    def get(self, statement: Any, params: Mapping[str, Any] | None) -> Plan | None:
        if not isinstance(statement, (sa.Select, sa.Insert, sa.Update, sa.Delete)):
            return None
        if params is not None and not isinstance(params, dict):
            return None  # executemany (a list of parameter sets) and other shapes
        keys = tuple(params) if params else ()
        try:
            by_keys = self._plans.get(statement)
        except TypeError:  # not weak-referenceable
            return None
        if by_keys is None:
            by_keys = self._plans[statement] = {}
        found = by_keys.get(keys, _UNPLANNED)
        if found is _UNPLANNED:
            found = by_keys[keys] = _compile(statement, keys, self.dialect)
        return found  # type: ignore[no-any-return]


def _compile(statement: Any, keys: tuple[str, ...], dialect: Dialect) -> Plan | None:
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        return None
    if "__[POSTCOMPILE" in compiled.string or compiled.literal_execute_params or compiled.post_compile_params:
        return None
    if compiled.returning or getattr(compiled, "_result_columns", None) is None:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None  # column defaults SQLAlchemy computes in Python: leave them to it
    # Sequences are processors of tuple-valued (composite) binds, which the engine never uses.
    processors = cast(Mapping[str, Processor], compiled._bind_processors)
    if not all(callable(p) for p in processors.values()):
        return None
    names = set(keys)
    binds: list[Bind] = []
    for name in compiled.positiontup:
        processor = processors.get(name)
        if name in names:
            binds.append((name, None, processor))
            continue
        parameter = compiled.binds.get(name)
        if parameter is None or parameter.required or parameter.callable is not None:
            return None
        value = parameter.value
        binds.append((None, processor(value) if processor is not None else value, None))
    returns_rows = isinstance(statement, sa.Select)
    result_keys: list[str] = []
    result_processors: list[Processor] = []
    if returns_rows:
        for column in compiled._result_columns:
            result_keys.append(column.keyname)
            result_processors.append(column.type._cached_result_processor(dialect, None))
        if len(set(result_keys)) != len(result_keys):
            return None  # duplicate labels: SQLAlchemy's mapping rules, not ours
    return Plan(compiled.string, binds, result_keys, result_processors, returns_rows)
