"""Statements compiled once into plans the driver runs directly (SQLite's hot path).

SQLAlchemy's execution machinery costs several times what SQLite spends on one of the engine's
small statements: every ``execute`` looks the statement up in the compiled cache, builds an
execution context, constructs the parameter dictionary and wraps the cursor in a result. The
engine's statements are built once at import time, so all of that is the same work each time.
A :class:`Plan` keeps what it produces (the SQL text, where each positional parameter comes
from and its bind processor, the result columns and their processors) per statement and
parameter keys, and :meth:`Plans.get` returns ``None`` for what it does not cover (statements
SQLAlchemy must post-process: Python-side column defaults, literal-execute parameters,
callables), which then runs through SQLAlchemy as before. Expanding ``IN`` lists get one plan
per list lengths; ``RETURNING`` and textual statements (``sa.text``) are planned too (a textual
statement's result keys are the driver's column names); :meth:`Plans.get_many` plans an
executemany. SQLAlchemy still compiles every statement: the SQL and the types' processors are
its own.

Statements built per request (a ``list_workflows`` page with the filters it was given) are new
objects each time, so a plan kept per statement would be compiled again for every request. A
plan is therefore also kept per statement *shape* (SQLAlchemy's cache key: the statement's
structure without its literal values), in a bounded LRU (:data:`SHAPE_CACHE_SIZE`): a new
statement of a known shape gets that shape's SQL with its own literal values filled in, read
from its cache key's extracted parameters as SQLAlchemy's compiled cache does.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql.compiler import SQLCompiler

from .json_reads import fast_json_reader
from .json_writes import fast_json_writer

Processor = Callable[[Any], Any] | None
# One positional parameter: (the caller's key, or None for a constant; the constant; processor).
Bind = tuple[str | None, Any, Processor]
# One literal of a statement shape: (its position among the binds, its index among the cache
# key's extracted parameters, its bind processor).
Slot = tuple[int, int, Processor]

#: How many statement shapes :class:`Plans` keeps (least recently used dropped first).
SHAPE_CACHE_SIZE = 256


class Plan:
    """One statement compiled for one set of parameter keys.

    ``keys`` is ``None`` for a textual statement: its rows are keyed by the driver's column
    names (see :meth:`rows`). ``returns_rows`` says whether the statement answers rows (a
    query, ``RETURNING``, a textual statement that reads); ``dml`` whether it changes rows.
    """

    __slots__ = (
        "_converted",
        "_metadata",
        "_names",
        "_processed",
        "binds",
        "dml",
        "keys",
        "processors",
        "returns_rows",
        "sql",
        "text_keys",
    )

    def __init__(
        self,
        sql: str,
        binds: Sequence[Bind],
        keys: Sequence[str] | None,
        processors: Sequence[Processor],
        returns_rows: bool,
        dml: bool = False,
    ) -> None:
        self.sql = sql
        self.binds = tuple(binds)
        self.keys = tuple(keys) if keys is not None else None
        self.processors = tuple(processors)
        self.returns_rows = returns_rows
        self.dml = dml
        #: A textual statement's column names once the driver has told them (see ``keys``).
        self.text_keys: tuple[str, ...] | None = None
        self._metadata: SimpleResultMetaData | None = None
        # Worked out once, not per execution (every statement the engine runs passes here):
        # when every parameter is one of the caller's keys (no constant, no IN-list item), the
        # keys in order and the positions with a bind processor; else ``None`` (the general loop).
        names = [key for key, _, _ in self.binds if key is not None and type(key) is not _Item]
        self._names: tuple[str, ...] | None = tuple(names) if len(names) == len(self.binds) else None
        processed: list[tuple[int, Callable[[Any], Any]]] = []
        for position, (_, _, processor) in enumerate(self.binds):
            if processor is not None:
                processed.append((position, processor))
        self._processed = tuple(processed)
        # The result columns with a processor, by key and processor (see :meth:`rows`).
        self._converted: tuple[tuple[str, Callable[[Any], Any]], ...] | None = None
        if self.keys is not None:
            converted: list[tuple[str, Callable[[Any], Any]]] = []
            for key, result_processor in zip(self.keys, self.processors, strict=True):
                if result_processor is not None:
                    converted.append((key, result_processor))
            self._converted = tuple(converted)

    def parameters(self, params: Mapping[str, Any] | list[Mapping[str, Any]] | None) -> list[Any]:
        """The positional parameters for the caller's ``params`` (a dict, or a list of one)."""
        if isinstance(params, list):
            params = params[0]
        names = self._names
        if names is not None:
            # A plain loop: on Python 3.11 a comprehension is a call of its own, which costs
            # more than the one or two keys most statements have.
            values = []
            for name in names:
                values.append(params[name])  # type: ignore[index]
            for position, convert in self._processed:
                values[position] = convert(values[position])
            return values
        values = []
        for key, constant, processor in self.binds:
            if key is None:
                value = constant
            elif type(key) is _Item:
                value = params[key][key.position]  # type: ignore[index]
            else:
                value = params[key]  # type: ignore[index]
            values.append(value if processor is None or key is None else processor(value))
        return values

    def rows(self, raw: Sequence[Sequence[Any]], keys: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The driver's rows as dictionaries keyed like ``result.mappings()``, values processed.

        ``keys``: the driver's column names, for a textual statement (whose ``keys`` is ``None``).
        """
        converted = self._converted
        if converted is None:  # a textual statement: no result processors
            names = keys or ()
            return [dict(zip(names, row, strict=True)) for row in raw]
        columns = self.keys or ()
        # One C-level dict per row, then only the columns with a processor revisited: most
        # columns of most statements have none, so a per-column comprehension cost more.
        found = [dict(zip(columns, row, strict=True)) for row in raw]
        if converted:
            for row in found:
                for key, processor in converted:
                    value = row[key]
                    if value is not None:
                        row[key] = processor(value)
        return found

    def result(
        self, raw: Sequence[Sequence[Any]], rowcount: int, keys: Sequence[str] | None = None
    ) -> sa.CursorResult[Any]:
        """The driver's rows as a SQLAlchemy result (``scalar()``, ``mappings()``, ``all()``, ...)."""
        metadata = self._metadata
        if metadata is None or self.keys is None:
            metadata = SimpleResultMetaData(self.keys if self.keys is not None else tuple(keys or ()))
            if self.keys is not None:
                self._metadata = metadata
        processors = self.processors
        if any(processors):
            rows: list[tuple[Any, ...]] = [
                tuple(
                    value if processor is None or value is None else processor(value)
                    for value, processor in zip(row, processors, strict=True)
                )
                for row in raw
            ]
        else:
            rows = [tuple(row) for row in raw]
        result = Rows(metadata, iter(rows))
        result.rowcount = rowcount
        return cast(sa.CursorResult[Any], result)


class Rows(IteratorResult[Any]):
    """A planned statement's rows with the ``rowcount`` a ``CursorResult`` has."""

    rowcount = -1


def observed(connection: sa.Connection) -> bool:
    """Whether execution listeners watch ``connection`` (tests recording statements).

    Then everything runs through SQLAlchemy, so they see every statement. ``_has_events``
    unset on the connection and its engine is SQLAlchemy's own gate before any execution
    event (no listener can be called then), and answers most connections without the four
    listener collections; set, it is no proof of a listener (the engines made by
    ``execution_options`` always have it), so the collections are looked at.
    """
    if not (connection._has_events or connection.engine._has_events):
        return False
    dispatch = connection.dispatch
    return bool(
        dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
    )


class Changed:
    """What a planned ``INSERT``/``UPDATE``/``DELETE`` answers: the rows it changed."""

    __slots__ = ("rowcount",)

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount


_UNPLANNED = object()
_PLANNED = (sa.Select, sa.CompoundSelect, sa.Insert, sa.Update, sa.Delete, sa.TextClause, sa.TextualSelect)
# A textual statement answers rows if it reads (or says RETURNING); otherwise it has a row count.
_TEXT_READS = re.compile(r"\s*(?:\(\s*)*(?:SELECT|WITH|VALUES|SHOW|TABLE|EXPLAIN)\b", re.IGNORECASE)
_TEXT_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


class Plans:
    """The plans of one dialect, per statement (held weakly) and parameter keys, and per
    statement shape and parameter keys (at most ``shapes`` of them, least recently used out)."""

    def __init__(self, dialect: Dialect, shapes: int = SHAPE_CACHE_SIZE) -> None:
        self.dialect = dialect
        #: Off where the driver connection lacks what the direct path needs (then: SQLAlchemy).
        self.enabled = True
        # id(statement) -> (a weak reference to it, its plans per parameter keys).
        self._plans: dict[int, tuple[weakref.ref[Any], dict[tuple[str, ...], Any]]] = {}
        self.shape_limit = shapes
        self._shapes: OrderedDict[tuple[Any, tuple[str, ...]], _Shape | None] = OrderedDict()
        #: Statements compiled (a test's window on the caches).
        self.compiles = 0

    def get(self, statement: Any, params: Any) -> Plan | None:
        if type(params) is dict and self.enabled:
            # The common case, first: a statement planned before for these keys (every engine
            # statement after its first run). The same lookups as _lookup, without its checks
            # for what a planned statement already passed.
            entry = self._plans.get(id(statement))
            if entry is not None and entry[0]() is statement:
                found = entry[1].get(tuple(params))
                if type(found) is Plan:
                    return found
        if isinstance(params, list) and len(params) == 1 and isinstance(params[0], dict):
            params = params[0]  # an executemany of one row is one execution
        if params is not None and not isinstance(params, dict):
            return None  # executemany (see get_many) and other shapes
        found = self._lookup(statement, params)
        if isinstance(found, _Expanding):
            return found.plan(params)
        return found

    def get_many(self, statement: Any, params: list[Any]) -> Plan | None:
        """The plan of an executemany: parameter sets with the same keys, no rows answered.

        Not for expanding ``IN`` lists (each set could need its own plan).
        """
        if not params or not all(isinstance(p, dict) for p in params):
            return None
        keys = params[0].keys()
        if any(p.keys() != keys for p in params):
            return None
        found = self._lookup(statement, params[0])
        if found is None or isinstance(found, _Expanding) or found.returns_rows:
            return None
        return found

    def _lookup(self, statement: Any, params: dict[str, Any] | None) -> Plan | _Expanding | None:
        if not self.enabled or not isinstance(statement, _PLANNED):
            return None
        keys = tuple(params) if params else ()
        # By ``id``, checked against a weak reference: a ``WeakKeyDictionary`` lookup makes a new
        # weak reference and runs Python code on every statement executed.
        entry = self._plans.get(id(statement))
        if entry is None or entry[0]() is not statement:
            try:
                reference = weakref.ref(statement, functools.partial(self._forget, id(statement)))
            except TypeError:  # not weak-referenceable
                return None
            entry = self._plans[id(statement)] = (reference, {})
        by_keys = entry[1]
        found = by_keys.get(keys, _UNPLANNED)
        if found is _UNPLANNED:
            found = by_keys[keys] = self._of_shape(statement, keys)
        return found  # type: ignore[no-any-return]

    def _forget(self, key: int, reference: weakref.ref[Any]) -> None:
        """A planned statement was collected: drop its plans (unless its id is already reused)."""
        entry = self._plans.get(key)
        if entry is not None and entry[0] is reference:
            del self._plans[key]

    def _of_shape(self, statement: Any, keys: tuple[str, ...]) -> Plan | _Expanding | None:
        """The plan of a statement not seen before: its shape's, with its own literal values."""
        try:
            cache_key = statement._generate_cache_key()
        except Exception:  # a construct SQLAlchemy cannot key
            cache_key = None
        if cache_key is None:
            return self._compile(statement, keys)
        shape_key = (cache_key.key, keys)
        shapes = self._shapes
        shape = shapes.get(shape_key, _UNPLANNED)
        if shape is _UNPLANNED:
            slots: list[Slot] = []
            compiled = self._compile(statement, keys, cache_key.bindparams, slots)
            if isinstance(compiled, _Expanding):
                return compiled  # its IN lists' constants are this statement's: not shared
            shape = _Shape(compiled, slots) if compiled is not None else None
            shapes[shape_key] = shape
            if len(shapes) > self.shape_limit:
                shapes.popitem(last=False)
            return compiled
        shapes.move_to_end(shape_key)
        return shape.plan_for(cache_key.bindparams) if isinstance(shape, _Shape) else None

    def _compile(
        self,
        statement: Any,
        keys: tuple[str, ...],
        extracted: Sequence[Any] | None = None,
        slots: list[Slot] | None = None,
    ) -> Plan | _Expanding | None:
        self.compiles += 1
        return _compile(statement, keys, self.dialect, extracted, slots)


class _Shape:
    """The plan of one statement shape: the first statement's plan and where its literals sit."""

    __slots__ = ("first", "slots")

    def __init__(self, first: Plan, slots: Sequence[Slot]) -> None:
        self.first = first
        self.slots = tuple(slots)

    def plan_for(self, extracted: Sequence[Any]) -> Plan | None:
        """The plan of a statement of this shape whose extracted parameters are ``extracted``."""
        first = self.first
        if not self.slots:
            return first
        binds = list(first.binds)
        for position, index, processor in self.slots:
            parameter = extracted[index]
            if parameter.callable is not None or parameter.required:
                return None  # a value known only at execution: SQLAlchemy's to compute
            value = parameter.value
            binds[position] = (None, processor(value) if processor is not None else value, None)
        plan = Plan(first.sql, binds, first.keys, first.processors, first.returns_rows, first.dml)
        # The same SQL: the same result columns (a textual statement's, once the driver told them).
        plan.text_keys = first.text_keys
        plan._metadata = first._metadata
        return plan


class _Expanding:
    """The plans of a statement with expanding ``IN`` lists: one per list lengths."""

    def __init__(self, compiled: SQLCompiler, keys: tuple[str, ...], dialect: Dialect) -> None:
        self.compiled = compiled
        self.keys = keys
        self.dialect = dialect
        self.lists = tuple(
            name for name in keys if (bind := compiled.binds.get(name)) is not None and bind.expanding
        )
        self._plans: dict[tuple[int, ...], Plan | None] = {}

    def plan(self, params: Any) -> Plan | None:
        if isinstance(params, list):
            params = params[0]
        lengths = tuple(len(params[name]) for name in self.lists)
        found = self._plans.get(lengths, _UNPLANNED)
        if found is _UNPLANNED:
            found = self._plans[lengths] = _expanded(self.compiled, self.keys, params, self.dialect)
        return found  # type: ignore[return-value]


def _expanded(compiled: SQLCompiler, keys: tuple[str, ...], params: Any, dialect: Dialect) -> Plan | None:
    """The plan of ``compiled`` with its ``IN`` lists as long as in ``params``."""
    state = compiled._process_parameters_for_postcompile(compiled.construct_params(params))
    names = set(keys)
    source: dict[str, tuple[str, int]] = {}
    for original, expanded in state.parameter_expansion.items():
        for position, name in enumerate(expanded):
            source[name] = (original, position)
    # The expansion's processors cover only the expanded items; the rest are the compiled ones.
    processors = cast(Mapping[str, Processor], {**compiled._bind_processors, **state.processors})
    binds: list[Bind] = []
    for name in state.positiontup or ():
        processor = processors.get(name)
        if name in names:
            binds.append((name, None, processor))
        elif name in source and source[name][0] in names:
            binds.append((_Item(*source[name]), None, processor))
        else:
            value = state.parameters[name]  # a constant (a literal IN list's item included)
            binds.append((None, processor(value) if processor is not None else value, None))
    return _finish(compiled, state.statement, binds, dialect)


class _Item(str):
    """A positional parameter taken from item ``position`` of the caller's list ``name``."""

    position: int

    def __new__(cls, name: str, position: int) -> _Item:
        item = super().__new__(cls, name)
        item.position = position
        return item


def _compile(
    statement: Any,
    keys: tuple[str, ...],
    dialect: Dialect,
    extracted: Sequence[Any] | None = None,
    slots: list[Slot] | None = None,
) -> Plan | _Expanding | None:
    """``statement``'s plan; with ``extracted`` (its cache key's extracted parameters), each
    literal taken from one of them is recorded in ``slots``, for :class:`_Shape`. A literal
    not among them (the ``OFFSET 0`` SQLite's compiler adds) is the same for the whole shape."""
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        return None
    if getattr(compiled, "_result_columns", None) is None:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None  # column defaults SQLAlchemy computes in Python: leave them to it
    if compiled.literal_execute_params or any(not b.expanding for b in compiled.post_compile_params):
        return None
    # Sequences are processors of tuple-valued (composite) binds, which the engine never uses.
    processors = cast(Mapping[str, Processor], compiled._bind_processors)
    if not all(callable(p) for p in processors.values()):
        return None
    processors = _fast_writers(compiled, processors, dialect)
    if "__[POSTCOMPILE" in compiled.string:
        return _Expanding(compiled, keys, dialect)
    names = set(keys)
    where = {parameter.key: index for index, parameter in enumerate(extracted or ())}
    binds: list[Bind] = []
    for name in compiled.positiontup:
        processor = processors.get(name)
        if name in names:
            binds.append((name, None, processor))
            continue
        parameter = compiled.binds.get(name)
        if parameter is None or parameter.required or parameter.callable is not None:
            return None
        index = where.get(parameter.key)
        if slots is not None and index is not None:
            slots.append((len(binds), index, processor))
        value = parameter.value
        binds.append((None, processor(value) if processor is not None else value, None))
    return _finish(compiled, compiled.string, binds, dialect)


def _fast_writers(
    compiled: SQLCompiler, processors: Mapping[str, Processor], dialect: Dialect
) -> Mapping[str, Processor]:
    """``processors`` with each JSON parameter's replaced by :func:`.json_writes.fast_json_writer`."""
    faster = dict(processors)
    for name, processor in processors.items():
        bind = compiled.binds.get(name)
        if bind is not None:
            faster[name] = fast_json_writer(bind.type, dialect, processor)
    return faster


def _finish(compiled: SQLCompiler, sql: str, binds: list[Bind], dialect: Dialect) -> Plan | None:
    if isinstance(compiled.statement, sa.TextClause):
        reads = bool(_TEXT_READS.match(sql) or _TEXT_RETURNING.search(sql))
        return Plan(sql, binds, None, (), reads, dml=not reads)
    dml = bool(compiled.isinsert or compiled.isupdate or compiled.isdelete)
    returns_rows = not dml or bool(compiled.effective_returning)
    result_keys: list[str] = []
    result_processors: list[Processor] = []
    if returns_rows:
        for column in compiled._result_columns:
            result_keys.append(column.keyname)
            try:
                processor = column.type._cached_result_processor(dialect, None)
                result_processors.append(fast_json_reader(column.type, dialect, processor))
            except Exception:  # a processor that needs the driver's column type (asyncpg numerics)
                return None
        if len(set(result_keys)) != len(result_keys):
            return None  # duplicate labels: SQLAlchemy's mapping rules, not ours
    return Plan(sql, binds, result_keys, result_processors, returns_rows, dml)
