"""The one set of input limits: what a request may carry so that it can be stored and read back.

Every limit here is enforced by the HTTP layer before the engine (and so the database) sees the
value, identically on SQLite and PostgreSQL:

* JSON bodies: no ``NaN`` / ``Infinity`` (not JSON, and unreadable once stored), numbers that
  stay finite, nesting at most :data:`MAX_JSON_DEPTH` levels;
* text anywhere (bodies, path ids, query values): no NUL character (PostgreSQL text cannot hold
  it) and no unpaired surrogate (it cannot be encoded as UTF-8, so it could be written on one
  backend and never read back on the other);
* integers that land in an ``INTEGER`` column: at most :data:`MAX_INT32`;
* page tokens: the number inside at most :data:`MAX_INT64`;
* names: no longer than their column (:data:`NAME_LENGTH`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..engine.util import decode_token

MAX_JSON_DEPTH = 64
MAX_INT32 = 2**31 - 1
MIN_INT32 = -(2**31)
MAX_INT64 = 2**63 - 1
NAME_LENGTH = 255  # activity types, queues, workflow types, lease owners, worker ids
NAMESPACE_LENGTH = 128


class JsonRefused(ValueError):
    """The body parsed, or would parse, into something the server refuses to store."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"number {text} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number")


_decode = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float).decode


def parse_json(raw: bytes) -> Any:
    """Parse a request body, refusing non-finite numbers and nesting deeper than the limit.

    Raises:
        ValueError: the text is not JSON the server accepts (``JsonRefused`` for our limits).
    """
    try:
        # json.loads(raw, ...) to the letter, but with one decoder: loads with options builds a
        # new JSONDecoder for every call.
        # A body opening with "{" and no NUL after it is UTF-8 in detect_encoding's eyes (no BOM,
        # not UTF-16/32): the common case skips that Python-level sniffing.
        encoding = "utf-8" if raw[:1] == b"{" and raw[1:2] != b"\x00" else json.detect_encoding(raw)
        value = _decode(raw.decode(encoding, "surrogatepass"))
    except RecursionError as exc:  # nesting deep enough to exhaust the parser itself
        raise JsonRefused(f"the document is nested deeper than {MAX_JSON_DEPTH} levels") from exc
    # Deeper than the limit needs more brackets than the limit: most bodies skip the walk.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _depth_exceeds(value, MAX_JSON_DEPTH):
        raise JsonRefused(f"the document is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (``"nul"`` or ``"surrogate"``), or ``None``."""
    if "\x00" in text:
        return "nul"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "surrogate"
    return None


def printable(text: str) -> str:
    """``text`` with NULs and unpaired surrogates spelled as escapes, safe to echo in an error."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def bad_strings(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], str]]:
    """Every place in a parsed JSON value (keys included) holding text that cannot be stored."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                found.append((where, problem))
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(key)
                if problem is not None:
                    found.append(((*where, printable(key)), problem))
                stack.append((child, (*where, printable(key))))
        elif isinstance(item, list):
            stack.extend((child, (*where, index)) for index, child in enumerate(item))
    found.sort(key=lambda entry: [str(part) for part in entry[0]])
    return found


def page_token_in_range(token: str) -> bool:
    """``False`` only for a well-formed page token whose number is beyond ``BIGINT``.

    Malformed tokens are left to the engine, which answers them as it always has.
    """
    number = decode_token(token)
    return number is None or number <= MAX_INT64
