"""Checking a search-attribute value against its type, and the typed index items of a value.

Pure. A registered attribute's value must have its type; it is normalised (``"3"`` from the CLI,
which sends every value as text, becomes ``3`` for an ``int``; a datetime becomes RFC 3339 UTC)
and that normalised value is what the run shows and what the index holds. A key nobody
registered is kept as sent (the reference server, SDK 0.4.84 and the documented CLI examples
start workflows with unregistered keys) and indexed by its JSON type, so registering it later
as ``keyword`` (or ``int``, ``double``, ``bool``, ``keyword_list``) finds the values already there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ...store.statuses import SearchAttributeType as T
from .types import MAX_INT64, MAX_NAME_LENGTH, MAX_VALUE_BYTES, NAME_PATTERN, SYSTEM_ATTRIBUTES

_INTEGER = re.compile(r"\s*[-+]?[0-9]{1,19}\s*")
_NUMBER = re.compile(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*")


class BadValue(ValueError):
    """A value that does not fit its attribute (the message names the attribute and the rule)."""


@dataclass(frozen=True)
class IndexItem:
    """One row of ``search_attribute_values`` (the columns of the value's type set, others ``None``)."""

    ordinal: int
    keyword: str | None = None
    integer: int | None = None
    double: float | None = None
    boolean: bool | None = None
    moment: datetime | None = None


def _text(name: str, value: Any, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise BadValue(f"Search attribute '{name}' must be {what}.")
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise BadValue(f"Search attribute '{name}' has a value over {MAX_VALUE_BYTES} bytes.")
    return value


def _int(name: str, value: Any) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and _INTEGER.fullmatch(value)
    ):
        number = int(value)
    if number is None:
        raise BadValue(f"Search attribute '{name}' is an int attribute; the value must be an integer.")
    if not -MAX_INT64 - 1 <= number <= MAX_INT64:
        raise BadValue(f"Search attribute '{name}' must be a 64-bit integer.")
    return number


def _double(name: str, value: Any) -> float:
    number: float | None = None
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        try:
            number = float(value)
        except OverflowError:  # a JSON integer past the double range (JSON ints are unbounded)
            number = None
    if number is None or not math.isfinite(number):
        raise BadValue(f"Search attribute '{name}' is a double attribute; the value must be a finite number.")
    return number


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BadValue(f"Search attribute '{name}' is a bool attribute; the value must be true or false.")


def parse_datetime(value: str) -> datetime | None:
    """An RFC 3339 / ISO 8601 date-time as aware UTC (no zone means UTC), or ``None``."""
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        # Year 1 at +14:00 or year 9999 at -01:00 has no UTC instant: OverflowError.
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def render_datetime(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _datetime(name: str, value: Any) -> datetime:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise BadValue(
            f"Search attribute '{name}' is a datetime attribute; the value must be an RFC 3339 "
            "date-time such as 2026-04-22T05:00:00Z."
        )
    return moment


def _keyword_list(name: str, value: Any) -> list[str]:
    # A lone string is a one-item list: the CLI sends every value as text.
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise BadValue(
            f"Search attribute '{name}' is a keyword_list attribute; the value must be a list of strings."
        )
    return [_text(name, item, "a list of strings") for item in items]


def normalize(name: str, attribute_type: str, value: Any) -> tuple[Any, list[IndexItem]]:
    """``(the value as stored, its index items)`` for a registered attribute, or raise :class:`BadValue`."""
    if attribute_type in (T.KEYWORD, T.TEXT):
        text = _text(name, value, f"a string ({attribute_type})")
        return text, [IndexItem(0, keyword=text)]
    if attribute_type == T.INT:
        number = _int(name, value)
        return number, [IndexItem(0, integer=number)]
    if attribute_type == T.DOUBLE:
        real = _double(name, value)
        return real, [IndexItem(0, double=real)]
    if attribute_type == T.BOOL:
        flag = _bool(name, value)
        return flag, [IndexItem(0, boolean=flag)]
    if attribute_type == T.DATETIME:
        moment = _datetime(name, value)
        return render_datetime(moment), [IndexItem(0, moment=moment)]
    if attribute_type == T.KEYWORD_LIST:
        items = _keyword_list(name, value)
        return items, [IndexItem(i, keyword=item) for i, item in enumerate(items)]
    raise BadValue(f"Search attribute '{name}' has an unknown type '{attribute_type}'.")


def inferred_items(name: str, value: Any) -> list[IndexItem]:
    """Index items of an unregistered key's value, by its JSON type (none for objects, mixed lists)."""
    if isinstance(value, str):
        return [IndexItem(0, keyword=_text(name, value))]
    if isinstance(value, bool):
        return [IndexItem(0, boolean=value)]
    if isinstance(value, int):
        if not -MAX_INT64 - 1 <= value <= MAX_INT64:
            return []
        return [IndexItem(0, integer=value, double=float(value))]
    if isinstance(value, float):
        return [IndexItem(0, double=value)] if math.isfinite(value) else []
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [IndexItem(i, keyword=_text(name, item)) for i, item in enumerate(value)]
    return []


def check_values(
    attributes: Mapping[str, Any], registered: Mapping[str, str], *, allow_null: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """``(normalised attributes, problems by attribute name)``.

    ``null`` means "no value": dropped on a start, kept on an upsert (where it removes the key)
    when ``allow_null``. System attributes are the server's: a caller may not set them.
    """
    out: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, value in attributes.items():
        # The start's HTTP check, here for upserts too (the column is 128 characters wide).
        if not name or len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name):
            problems[name] = (
                f"Search attribute key '{name[:40]}' must start with a letter, use only letters, "
                f"digits, _ and be at most {MAX_NAME_LENGTH} characters."
            )
            continue
        if name in SYSTEM_ATTRIBUTES:
            problems[name] = f"Search attribute '{name}' is a system attribute; the server sets it."
            continue
        if value is None:
            if allow_null:
                out[name] = None
            continue
        try:
            if name in registered:
                out[name] = normalize(name, registered[name], value)[0]
            else:
                inferred_items(name, value)  # checks the size of text values
                out[name] = value
        except BadValue as exc:
            problems[name] = str(exc)
    return out, problems


def index_items(name: str, value: Any, attribute_type: str | None) -> list[IndexItem]:
    """The index items of a stored (already checked) value."""
    if value is None:
        return []
    if attribute_type is None:
        return inferred_items(name, value)
    try:
        return normalize(name, attribute_type, value)[1]
    except BadValue:
        # A value stored before its key was registered with another type: shown, not indexed.
        return []
