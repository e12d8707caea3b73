"""Caller payload options (cli.md §2.6): ``--input``, ``--input-file``, ``--input-encoding``,
plus the ``--memo`` and ``--search-attr`` forms of ``workflow:start``.

Payloads are plain JSON values; the SDK client sends them as they are (``plain_json_payloads``).
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import invalid

F = TypeVar("F", bound=Callable[..., Any])
ENCODINGS = ("json", "raw", "base64")
_NOTHING = object()


def payload_options(f: F) -> F:
    """Add ``--input/-i``, ``--input-file`` and ``--input-encoding``."""
    f = click.option(
        "--input-encoding",
        type=click.Choice(ENCODINGS),
        default="json",
        show_default=True,
        help="How to read the payload text.",
    )(f)
    f = click.option("--input-file", metavar="PATH", help="Read the payload from a file ('-': stdin).")(f)
    f = click.option("--input", "-i", "input_text", metavar="TEXT", help="The payload, inline.")(f)
    return f


def read_payload(input_text: str | None, input_file: str | None, encoding: str) -> Any:
    """The payload value, or ``_NOTHING`` when neither option was given (exit 2 on bad input)."""
    if input_text is not None and input_file is not None:
        raise invalid("--input and --input-file cannot be used together.")
    if input_file is not None:
        try:
            text = sys.stdin.read() if input_file == "-" else Path(input_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise invalid(f"Cannot read --input-file {input_file}: {exc}") from exc
        where = "--input-file"
    elif input_text is not None:
        text, where = input_text, "--input"
    else:
        return _NOTHING
    if encoding == "raw":
        return text
    if encoding == "base64":
        try:
            return base64.b64decode(text.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise invalid(f"{where} must be valid base64 ({exc}).") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise invalid(
            f"{where} must be valid JSON ({exc}).",
            hint="Quote JSON for the shell, e.g. --input='[{\"order_id\": 42}]'.",
        ) from exc


def arguments(
    input_text: str | None, input_file: str | None, encoding: str
) -> list[Any] | dict[str, Any] | None:
    """Workflow arguments: a JSON array or object as it is, any other value wrapped in a list."""
    value = read_payload(input_text, input_file, encoding)
    if value is _NOTHING:
        return None
    if isinstance(value, (list, dict)):
        return value
    return [value]


def value(input_text: str | None, input_file: str | None, encoding: str) -> tuple[bool, Any]:
    """An unwrapped payload (activity result, bridge input): ``(given, value)``."""
    found = read_payload(input_text, input_file, encoding)
    return (False, None) if found is _NOTHING else (True, found)


def json_value(text: str, option: str) -> Any:
    """A JSON option's value (``--result``, ``--command``); bad JSON exits 2."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise invalid(f"{option} must be valid JSON ({exc}).") from exc


def json_object(text: str | None, option: str) -> dict[str, Any] | None:
    """A JSON object option (``--memo``); anything else exits 2."""
    if text is None:
        return None
    parsed = json_value(text, option)
    if not isinstance(parsed, dict):
        raise invalid(f"{option} must be a JSON object.")
    return parsed


def key_values(pairs: Sequence[str], option: str) -> dict[str, str] | None:
    """Repeated ``KEY=VALUE`` options as an object (split at the first ``=``; values are text)."""
    if not pairs:
        return None
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise invalid(f"{option} takes KEY=VALUE (got {pair!r}).")
        found[key] = text
    return found
