"""SQLite's JSON column reader for planned statements: the same values as SQLAlchemy's, for less.

SQLAlchemy reads a SQLite ``JSON`` column through two wrappers around ``json.loads`` (which adds
three more Python calls before the C scanner runs): some thirty-five times per workflow, it cost
more than the parse. :func:`fast_json_reader` scans a ``str`` with the stdlib's own scanner and
returns its value when the text is exactly one JSON document (what our bind processor writes);
anything else (leading or trailing whitespace, invalid text, a number SQLite's ``NUMERIC``
affinity stored as one, bytes) goes to SQLAlchemy's processor, so errors and odd values are
SQLAlchemy's own.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# ``json.loads(text)`` is ``_default_decoder.decode(text)``: this scanner with its options.
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(cast(Any, json.JSONDecoder()))


def fast_json_reader(column_type: Any, dialect: Dialect, processor: Any) -> Any:
    """``processor`` (``column_type``'s result processor) or the faster one with its results.

    Only a plain ``sa.JSON`` column on SQLite with the default deserializer is read faster.
    """
    if (
        processor is None
        or type(column_type) is not sa.JSON
        or dialect.name != "sqlite"
        or getattr(dialect, "_json_deserializer", None) is not None
    ):
        return processor
    fallback: Callable[[Any], Any] = processor

    def read(value: Any) -> Any:
        if type(value) is str:
            try:
                found, end = _scan(value, 0)
            except StopIteration:
                return fallback(value)  # not JSON at index 0: SQLAlchemy's error (or whitespace)
            if end == len(value):
                return found
        return fallback(value)

    return read
