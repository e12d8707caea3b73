"""Tolerant readers of one field of a received body, shared by every parser of the SDK.

A key the server omits, or sends with another type (an older or foreign server, PHP's ``[]``
for an empty map), reads as ``None`` or an empty value, never as an error: the parsers in
``_wire`` and the client's result types decide what a missing fact means, not these readers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "mapping",
    "mappings",
    "opt_bool",
    "opt_float",
    "opt_int",
    "opt_mapping",
    "opt_text",
    "text",
    "texts",
]


def text(raw: Mapping[str, Any], key: str, default: str = "") -> str:
    """``raw[key]`` as text; ``default`` when it is missing or ``None``."""
    value = raw.get(key)
    return default if value is None else str(value)


def opt_text(raw: Mapping[str, Any], key: str) -> str | None:
    """``raw[key]`` as text, or ``None`` when it is missing or ``None``."""
    value = raw.get(key)
    return None if value is None else str(value)


def opt_int(raw: Mapping[str, Any], key: str) -> int | None:
    """``raw[key]`` as an int when it is a number or numeric text; ``None`` otherwise (or a bool)."""
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None


def opt_float(raw: Mapping[str, Any], key: str) -> float | None:
    """``raw[key]`` as a float when it is a number (not a bool, not text); else ``None``."""
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def opt_bool(raw: Mapping[str, Any], key: str) -> bool | None:
    """``raw[key]`` when it is a bool; ``None`` otherwise (``0``, ``"true"`` are not read as bools)."""
    value = raw.get(key)
    return value if isinstance(value, bool) else None


def mapping(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A copy of the map at ``raw[key]``; ``{}`` for anything else (PHP renders an empty map as ``[]``)."""
    value = raw.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def opt_mapping(raw: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """A copy of the map at ``raw[key]``, or ``None`` when it is not a map."""
    value = raw.get(key)
    return dict(value) if isinstance(value, Mapping) else None


def texts(raw: Mapping[str, Any], key: str) -> list[str]:
    """The strings of the list at ``raw[key]`` (other items dropped); ``[]`` when it is not a list."""
    value = raw.get(key)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def mappings(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The maps of the list at ``raw[key]`` (other items dropped); ``[]`` when it is not a list."""
    value = raw.get(key)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
