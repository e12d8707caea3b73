"""SQLite's JSON column writer for planned statements: the text SQLAlchemy's writes, for less.

SQLAlchemy binds a SQLite ``JSON`` value through its processor (``JSON.NULL`` and ``null()``
checks) and ``json.dumps``, whose ``JSONEncoder.encode`` and ``iterencode`` run a dozen Python
lines (a closure made per call among them) before the C encoder starts: every payload the engine
writes (history events, inputs, results) passes there. :func:`fast_json_writer` hands a ``dict``
or ``list`` straight to the C encoder with ``json.dumps``' default options (so the same text, and
the same errors); any other value (``None``, ``JSON.NULL``, a scalar) goes to SQLAlchemy's processor.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)  # None without the C module
# ``json.dumps(value)`` is ``json._default_encoder.encode(value)``: these are its options.
_DEFAULT = json.JSONEncoder()


def _dumps(value: Any) -> str:
    """``json.dumps(value)`` for a ``dict`` or ``list``: a new encoder per call, as ``iterencode``
    makes one (its markers, which find circular references, start empty every time)."""
    encode = _make_encoder(
        {}, _DEFAULT.default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    return "".join(encode(value, 0))


def fast_json_writer(column_type: Any, dialect: Dialect, processor: Any) -> Any:
    """``processor`` (``column_type``'s bind processor) or the faster one with its results.

    Only a plain ``sa.JSON`` column on SQLite with the default serializer is written faster, and
    only where the C encoder exists.
    """
    if (
        processor is None
        or _make_encoder is None
        or type(column_type) is not sa.JSON
        or column_type.none_as_null
        or column_type._variant_mapping  # another type may stand in for it on some dialect
        or dialect.name != "sqlite"
        or getattr(dialect, "_json_serializer", None) is not None
        or column_type._str_impl.bind_processor(dialect) is not None
    ):
        return processor
    fallback: Callable[[Any], Any] = processor

    def write(value: Any) -> Any:
        kind = type(value)
        if kind is dict or kind is list:
            return _dumps(value)
        return fallback(value)

    return write
