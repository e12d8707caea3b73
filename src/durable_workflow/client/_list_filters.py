"""``list_workflows`` filters on the wire: time windows and search-attribute equality as query text."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any


def moment(value: datetime | str | None) -> str | None:
    """A time-window bound as RFC 3339 UTC text (a naive ``datetime`` is taken as UTC)."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("search attribute filters take finite numbers")
        return repr(value)
    if isinstance(value, datetime):
        return _literal(moment(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot filter on a search attribute value of type {type(value).__name__}")


def _condition(name: str, value: Any) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a search attribute name: {name!r}")
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            raise ValueError(f"search attribute filter {name!r} needs at least one value")
        return f"{name} IN ({', '.join(_literal(item) for item in value)})"
    return f"{name} = {_literal(value)}"


def visibility_query(query: str | None, search_attributes: Mapping[str, Any] | None) -> str | None:
    """``query`` with one equality condition per search attribute ANDed on.

    A list value means "any of these" (``IN``), which for a ``keyword_list`` attribute is
    membership. With both given, ``query`` must be a visibility query, not an id substring.
    """
    if not search_attributes:
        return query
    conditions = [_condition(name, value) for name, value in search_attributes.items()]
    if query:
        conditions.insert(0, f"({query})")
    return " AND ".join(conditions)
